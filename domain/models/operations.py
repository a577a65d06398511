"""Operational records: sync runs and the webhook inbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, IdMixin, TimestampMixin, org_fk, utcnow


class SyncStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SyncRun(IdMixin, TimestampMixin, Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_page_created", "page_id", "created_at"),
        Index("ix_sync_runs_org_status", "organization_id", "status"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # full, incremental, details, contacts, conversations, messages, status
    scope: Mapped[str] = mapped_column(String(30))
    # manual, cron, auto_connect, webhook, api
    trigger: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=SyncStatus.QUEUED.value)
    phase: Mapped[str | None] = mapped_column(String(40))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    graph_calls: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Selective sync (domain.services.sync.fields): the names chosen; None = everything.
    selected_fields: Mapped[list[str] | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Refreshed by the worker executing the run while it lives; a running run whose
    # heartbeat is older than the lease lost its worker (SIGKILL, OOM, a lost machine).
    heartbeat_at: Mapped[datetime | None]


class SyncSchedule(IdMixin, TimestampMixin, Base):
    """When the scheduler syncs one Page. A Page without a row follows the defaults
    (domain.services.sync.schedules.DEFAULT_SCHEDULE), which are the fixed schedules
    metasync had before schedules were configurable."""

    __tablename__ = "sync_schedules"
    __table_args__ = (UniqueConstraint("organization_id", "page_id"),)

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    contacts_interval_minutes: Mapped[int] = mapped_column(Integer)
    incremental_interval_minutes: Mapped[int] = mapped_column(Integer)
    full_sync_hour: Mapped[int] = mapped_column(SmallInteger)  # UTC
    # Selective sync for every scheduled run of the Page; None = everything.
    selected_fields: Mapped[list[str] | None] = mapped_column(default=None)


class WebhookEventStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class WebhookEvent(IdMixin, Base):
    """One signed delivery from Meta, stored raw before it is acknowledged."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_status_received", "status", "received_at"),)

    # Known only once the delivery is applied (the page or WABA it names).
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    object: Mapped[str | None] = mapped_column(String(40))
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    # sha256 of the raw body: an identical redelivery is the same row.
    body_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Meta's ids named in the delivery (mid, wamid, watermark, template id + event).
    dedup_keys: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default=WebhookEventStatus.RECEIVED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    # When its processing was last queued or picked up by a worker: the sweeper queues it
    # again only once that is old (and older after each attempt), so a backlog is not
    # multiplied by re-sends of events still waiting in the queue.
    queued_at: Mapped[datetime | None]


class AppliedWebhookEvent(Base):
    """One event of a delivery that was applied, by Meta's own id for it (``mid``, ``wamid``
    + status, watermark, template id + event). Inserted in the same transaction as the
    event's effect: the primary key makes a second application impossible, even when the
    same delivery is processed concurrently."""

    __tablename__ = "applied_webhook_events"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    webhook_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="SET NULL"), index=True
    )
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
