"""Tenancy and Meta identities: organizations, users, memberships, Meta user tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, org_fk


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), unique=True)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Set when the user logs in with Facebook (spec/auto-connect.md).
    meta_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Membership(IdMixin, TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = org_fk()
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    EXPIRED = "expired"
    INVALID = "invalid"
    DISCONNECTED = "disconnected"


class MetaConnection(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    """A Meta user (or system user) token an organization has given metasync."""

    __tablename__ = "meta_connections"
    __table_args__ = (
        UniqueConstraint("organization_id", "meta_user_id", "label"),
        Index("ix_meta_connections_org_status", "organization_id", "status"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(200), default="default")
    meta_user_id: Mapped[str | None] = mapped_column(String(64))
    meta_user_name: Mapped[str | None] = mapped_column(String(200))
    # "user", "system_user" or "instagram" (Instagram Login tokens can be refreshed).
    token_kind: Mapped[str] = mapped_column(String(20), default="user")
    token_encrypted: Mapped[str | None] = mapped_column(String(4096))
    # sha256 prefix of the token: finds the row when Meta rejects a token (190).
    token_fingerprint: Mapped[str | None] = mapped_column(String(32), index=True)
    last_refreshed_at: Mapped[datetime | None]
    scopes: Mapped[list[str]] = mapped_column(default=list)
    granular_scopes: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    expires_at: Mapped[datetime | None]
    data_access_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(40), default=ConnectionStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    last_checked_at: Mapped[datetime | None]


class Notification(IdMixin, TimestampMixin, Base):
    """Something an operator must act on (a token to reauthorize, a lost number, ...)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_org_created", "organization_id", "created_at"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[uuid.UUID | None]
    message: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delivered_at: Mapped[datetime | None]
    delivery_error: Mapped[str | None] = mapped_column(String(1000))
