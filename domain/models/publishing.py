"""What a business publishes: posts with their metric snapshots, WhatsApp templates."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, org_fk


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    # The publish call may have reached Meta but was not confirmed: reconciled by reading
    # Meta, never by publishing again.
    UNCONFIRMED = "unconfirmed"


class Post(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        Index("ix_posts_org_status_created", "organization_id", "status", "created_at"),
        Index("ix_posts_page_created", "page_id", "created_at"),
        Index("ix_posts_ig_created", "instagram_account_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    instagram_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("instagram_accounts.id", ondelete="CASCADE")
    )
    platform: Mapped[str] = mapped_column(String(20))
    # text, link, photo, video, multi_photo, image, reel, story, carousel
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=PostStatus.DRAFT.value)
    message: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    media: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    scheduled_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    meta_post_id: Mapped[str | None] = mapped_column(String(128), index=True)
    meta_container_ids: Mapped[list[str]] = mapped_column(default=list)
    permalink: Mapped[str | None] = mapped_column(String(2000))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))


class PostSnapshot(IdMixin, Base):
    """A post's metrics at one moment, so trends can be shown over time."""

    __tablename__ = "post_snapshots"
    __table_args__ = (Index("ix_post_snapshots_post_captured", "post_id", "captured_at"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    captured_at: Mapped[datetime]
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AccountSnapshot(IdMixin, Base):
    """A Page's or an Instagram account's metrics at one moment (followers, engagement)."""

    __tablename__ = "account_snapshots"
    __table_args__ = (
        Index("ix_account_snapshots_page_captured", "page_id", "captured_at"),
        Index("ix_account_snapshots_ig_captured", "instagram_account_id", "captured_at"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    instagram_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("instagram_accounts.id", ondelete="CASCADE")
    )
    captured_at: Mapped[datetime]
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TemplateStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    IN_APPEAL = "IN_APPEAL"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    ARCHIVED = "ARCHIVED"


class Template(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("whatsapp_account_id", "name", "language"),
        Index("ix_templates_org_status", "organization_id", "status"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    whatsapp_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("whatsapp_accounts.id", ondelete="CASCADE")
    )
    meta_template_id: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=TemplateStatus.PENDING.value)
    rejected_reason: Mapped[str | None] = mapped_column(String(200))
    quality_score: Mapped[str | None] = mapped_column(String(20))
    components: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # Timestamps of edits, for Meta's one-per-day and ten-per-30-days rules.
    edit_history: Mapped[list[str]] = mapped_column(default=list)
