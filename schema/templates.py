"""GraphQL types of WhatsApp message templates."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Self

import strawberry

from domain import models
from schema.errors import AnyError
from schema.scalars import JSON
from schema.types import Node, node_ids


@strawberry.enum
class TemplateStatus(enum.Enum):
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


@strawberry.type(description="A WhatsApp message template, with its status in Meta's review.")
class Template(Node):
    meta_template_id: str | None
    name: str
    language: str
    category: str
    status: TemplateStatus
    rejected_reason: str | None = strawberry.field(description="Meta's reason, when rejected.")
    quality_score: str | None
    components: JSON
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, row: models.Template) -> Self:
        return cls(
            **node_ids("Template", row.id),
            meta_template_id=row.meta_template_id,
            name=row.name,
            language=row.language,
            category=row.category,
            status=TemplateStatus(row.status),
            rejected_reason=row.rejected_reason,
            quality_score=row.quality_score,
            components=JSON(list(row.components)),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.input
class TemplateInput:
    name: str
    language: str
    category: str
    components: JSON


@strawberry.input
class TemplateUpdateInput:
    components: JSON | None = None
    category: str | None = None


@strawberry.type
class TemplateSuccess:
    template: Template


@strawberry.type
class TemplatesDeleted:
    deleted: list[Template]


@strawberry.type
class TemplatesSynced:
    created: int
    updated: int
    unchanged: int
    removed: int


CreateTemplateResult = Annotated[
    TemplateSuccess | AnyError, strawberry.union("CreateTemplateResult")
]
UpdateTemplateResult = Annotated[
    TemplateSuccess | AnyError, strawberry.union("UpdateTemplateResult")
]
DeleteTemplateResult = Annotated[
    TemplatesDeleted | AnyError, strawberry.union("DeleteTemplateResult")
]
SyncTemplatesResult = Annotated[TemplatesSynced | AnyError, strawberry.union("SyncTemplatesResult")]


@strawberry.enum
class MetricsGranularity(enum.Enum):
    DAY = "day"
    HOUR = "hour"


@strawberry.type
class MetricPoint:
    at: datetime
    value: int


@strawberry.type(description="Message counts from Meta's analytics over a time window.")
class WhatsAppMetrics:
    sent: list[MetricPoint]
    delivered: list[MetricPoint]
    total_sent: int
    total_delivered: int
    delivery_rate: float | None = strawberry.field(description="delivered / sent; null if none")
    unavailable: list[str] = strawberry.field(
        description="Metrics Meta does not report (read counts are not in its analytics)."
    )
