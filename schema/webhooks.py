"""GraphQL types for operators: stored webhook deliveries."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Self

import strawberry

from domain import models
from schema.errors import AnyError
from schema.types import Node, node_ids


@strawberry.enum
class WebhookEventStatus(enum.Enum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


@strawberry.type(description="One delivery from Meta, as stored before it was acknowledged.")
class WebhookEvent(Node):
    object: str | None
    status: WebhookEventStatus
    attempts: int
    error: str | None
    received_at: datetime
    processed_at: datetime | None
    meta_ids: list[str] = strawberry.field(description="Meta's message ids the delivery names.")

    @classmethod
    def from_domain(cls, row: models.WebhookEvent) -> Self:
        return cls(
            **node_ids("WebhookEvent", row.id),
            object=row.object,
            status=WebhookEventStatus(row.status),
            attempts=row.attempts,
            error=row.error,
            received_at=row.received_at,
            processed_at=row.processed_at,
            meta_ids=list(row.dedup_keys),
        )


@strawberry.type
class ReplayStarted:
    queued: int = strawberry.field(description="Deliveries queued to be applied again.")


ReplayWebhookEventsResult = Annotated[
    ReplayStarted | AnyError, strawberry.union("ReplayWebhookEventsResult")
]
