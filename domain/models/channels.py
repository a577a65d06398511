"""The Meta assets an organization connects: Pages, Instagram and WhatsApp accounts."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, org_fk


class ChannelStatus(enum.StrEnum):
    ACTIVE = "active"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    DISCONNECTED = "disconnected"


class Page(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("organization_id", "meta_page_id"),
        # pages(first, after) lists by name then id.
        Index("ix_pages_org_name_id", "organization_id", "name", "id"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_connections.id", ondelete="SET NULL")
    )
    meta_page_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str | None] = mapped_column(String(200))
    about: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(64))
    website: Mapped[str | None] = mapped_column(String(1000))
    fan_count: Mapped[int | None] = mapped_column(BigInteger)
    followers_count: Mapped[int | None] = mapped_column(BigInteger)
    picture_url: Mapped[str | None] = mapped_column(String(2000))
    page_token_encrypted: Mapped[str | None] = mapped_column(String(4096))
    token_fingerprint: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(40), default=ChannelStatus.ACTIVE.value)
    webhook_subscribed: Mapped[bool] = mapped_column(default=False)
    last_synced_at: Mapped[datetime | None]
    # Incremental sync reads only conversations updated after this.
    sync_watermark: Mapped[datetime | None]


class InstagramAccount(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "instagram_accounts"
    __table_args__ = (UniqueConstraint("organization_id", "meta_ig_id"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pages.id", ondelete="SET NULL"), index=True
    )
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_connections.id", ondelete="SET NULL")
    )
    meta_ig_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    biography: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(1000))
    profile_picture_url: Mapped[str | None] = mapped_column(String(2000))
    followers_count: Mapped[int | None] = mapped_column(BigInteger)
    follows_count: Mapped[int | None] = mapped_column(BigInteger)
    media_count: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(40), default=ChannelStatus.ACTIVE.value)
    last_synced_at: Mapped[datetime | None]


class WhatsAppAccount(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    """A WhatsApp Business Account (WABA) with its phone numbers and business profile."""

    __tablename__ = "whatsapp_accounts"
    __table_args__ = (UniqueConstraint("organization_id", "waba_id"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_connections.id", ondelete="SET NULL")
    )
    waba_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    currency: Mapped[str | None] = mapped_column(String(8))
    timezone_id: Mapped[str | None] = mapped_column(String(16))
    # [{id, display_phone_number, verified_name, quality_rating, messaging_limit_tier,
    #   status, code_verification_status, ...}] as Meta reports them.
    phone_numbers: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    quality_rating: Mapped[str | None] = mapped_column(String(20))
    messaging_limit_tier: Mapped[str | None] = mapped_column(String(40))
    business_profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A system-user token for the WABA when it differs from the connection's.
    token_encrypted: Mapped[str | None] = mapped_column(String(4096))
    token_fingerprint: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(40), default=ChannelStatus.ACTIVE.value)
    last_synced_at: Mapped[datetime | None]


class ClientPageMapping(IdMixin, TimestampMixin, Base):
    """spec/meta-module-api.md: a client id of the business's own system mapped to a Page."""

    __tablename__ = "client_page_mappings"
    __table_args__ = (UniqueConstraint("organization_id", "client_id", "fb_page_id"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    client_id: Mapped[str] = mapped_column(String(200))
    page_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pages.id", ondelete="SET NULL"), index=True
    )
    fb_page_id: Mapped[str] = mapped_column(String(64))
    ig_account_id: Mapped[str | None] = mapped_column(String(64))
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_connections.id", ondelete="SET NULL")
    )


class WebhookConfig(IdMixin, TimestampMixin, Base):
    """spec/meta-business-api.md webhook configuration of an organization."""

    __tablename__ = "webhook_config"
    __table_args__ = (UniqueConstraint("organization_id"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    fields: Mapped[list[str]] = mapped_column(default=list)
    objects: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
