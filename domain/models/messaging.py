"""Conversations with people: contacts, conversations, messages."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, org_fk, utcnow


class Platform(enum.StrEnum):
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"


class Contact(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    """A person on a channel. Meta owns name and picture; metasync owns the rest.

    A local edit of a Meta-owned field is kept (listed in ``locally_edited``) and Meta's
    value is stored beside it in ``meta_name`` / ``meta_picture_url`` so both can be shown.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("page_id", "platform", "platform_user_id"),
        UniqueConstraint("whatsapp_account_id", "platform_user_id"),
        Index("ix_contacts_page_name_id", "page_id", "name", "id"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    whatsapp_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(300))
    picture_url: Mapped[str | None] = mapped_column(String(2000))
    meta_name: Mapped[str | None] = mapped_column(String(300))
    meta_picture_url: Mapped[str | None] = mapped_column(String(2000))
    locally_edited: Mapped[list[str]] = mapped_column(default=list)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(Text)


class Conversation(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("organization_id", "meta_conversation_id"),
        # Page.conversations lists the most recently updated first.
        Index("ix_conversations_page_updated_id", "page_id", "updated_time", "id"),
        Index("ix_conversations_wa_updated_id", "whatsapp_account_id", "updated_time", "id"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    whatsapp_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("whatsapp_accounts.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    meta_conversation_id: Mapped[str] = mapped_column(String(128))
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    message_count: Mapped[int | None] = mapped_column(Integer)
    updated_time: Mapped[datetime] = mapped_column(default=utcnow)
    snippet: Mapped[str | None] = mapped_column(Text)
    folder: Mapped[str | None] = mapped_column(String(40))
    # metasync state: Meta has no API to archive or mute a Page conversation.
    archived: Mapped[bool] = mapped_column(default=False)
    muted_until: Mapped[datetime | None]
    read_watermark: Mapped[datetime | None]
    delivery_watermark: Mapped[datetime | None]


class MessageDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    """Outbound delivery status. It never regresses: sent < delivered < read; failed is final."""

    RECEIVED = "received"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


MESSAGE_STATUS_RANK = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
    MessageStatus.FAILED: 4,
}


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("organization_id", "meta_message_id"),
        # Conversation.messages lists the newest first.
        Index("ix_messages_conversation_created_id", "conversation_id", "created_time", "id"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # Meta's id: "m_..." (Messenger), IG message ids, "wamid...." (WhatsApp).
    meta_message_id: Mapped[str] = mapped_column(String(256))
    direction: Mapped[str] = mapped_column(String(10))
    sender_id: Mapped[str | None] = mapped_column(String(128))
    recipient_id: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    reply_to_meta_id: Mapped[str | None] = mapped_column(String(256))
    # One entry per person: {by, reaction, emoji, at}; a reaction taken back stays as
    # {by, at, removed: true} so that an older react delivered late cannot revive it.
    reactions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.RECEIVED.value)
    error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Meta shows details only for a conversation's 20 most recent messages; older ones are
    # recorded by id with detail_available False rather than invented.
    detail_available: Mapped[bool] = mapped_column(default=True)
    app_id: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]
    deleted: Mapped[bool] = mapped_column(default=False)
