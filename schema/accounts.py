"""Meta logins, WhatsApp Business accounts, and the organization's connection health.

(Pages and Instagram accounts, which refer to each other, live in ``schema.types``.)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

import strawberry

from domain import models
from domain.pagination import clamp_first
from domain.services.connection_health import ConnectionCheck, OrganizationHealth
from domain.services.whatsapp_metrics import METRICS, message_metrics
from schema.connections import Connection
from schema.enums import ChannelStatus, ConnectionStatus, HealthLevel, HealthStatus
from schema.scalars import JSON
from schema.templates import (
    MetricPoint,
    MetricsGranularity,
    Template,
    TemplateStatus,
    WhatsAppMetrics,
)
from schema.types import GraphInfo, Node, node_ids


@strawberry.type(description="A Meta user or system-user login. Its token is never exposed.")
class MetaConnection(Node):
    label: str
    meta_user_id: str | None
    meta_user_name: str | None
    status: ConnectionStatus
    status_reason: str | None
    scopes: list[str]
    expires_at: datetime | None = strawberry.field(
        description="When the token expires; null if it never does."
    )
    data_access_expires_at: datetime | None
    last_checked_at: datetime | None
    last_refreshed_at: datetime | None

    @classmethod
    def from_domain(cls, row: models.MetaConnection) -> Self:
        return cls(
            **node_ids("MetaConnection", row.id),
            label=row.label,
            meta_user_id=row.meta_user_id,
            meta_user_name=row.meta_user_name,
            status=ConnectionStatus(row.status),
            status_reason=row.status_reason,
            scopes=list(row.scopes or []),
            expires_at=row.expires_at,
            data_access_expires_at=row.data_access_expires_at,
            last_checked_at=row.last_checked_at,
            last_refreshed_at=row.last_refreshed_at,
        )


@strawberry.type(description="A phone number of a WhatsApp Business account, as Meta reports it.")
class WhatsAppPhoneNumber:
    id: str
    display_phone_number: str | None
    verified_name: str | None
    quality_rating: str | None
    messaging_limit_tier: str | None
    status: str | None

    @classmethod
    def from_meta(cls, number: dict[str, Any]) -> Self:
        def text(key: str) -> str | None:
            value = number.get(key)
            return None if value is None else str(value)

        return cls(
            id=str(number.get("id", "")),
            display_phone_number=text("display_phone_number"),
            verified_name=text("verified_name"),
            quality_rating=text("quality_rating"),
            messaging_limit_tier=text("messaging_limit_tier"),
            status=text("status"),
        )


@strawberry.type
class WhatsAppAccount(Node):
    waba_id: str
    name: str | None
    phone_numbers: list[WhatsAppPhoneNumber]
    quality_rating: str | None = strawberry.field(
        description="The worst quality rating among the account's numbers."
    )
    messaging_limit_tier: str | None
    business_profile: JSON
    status: ChannelStatus
    row_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The account's message templates, newest first.")
    async def templates(
        self,
        info: GraphInfo,
        status: list[TemplateStatus] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Template]:
        loaders = info.context.loaders
        size = clamp_first(first)
        statuses = tuple(sorted(s.value for s in status or ()))
        page = await loaders.templates_of_account.load((self.row_id, size, after, statuses))
        return Connection[Template].from_slice(
            page,
            Template.from_domain,
            lambda: loaders.template_count_of_account.load((self.row_id, statuses)),
            has_previous=after is not None,
        )

    @strawberry.field(description="Sent and delivered counts from Meta's analytics.")
    async def metrics(
        self,
        info: GraphInfo,
        start: datetime,
        end: datetime,
        granularity: MetricsGranularity = MetricsGranularity.DAY,
    ) -> WhatsAppMetrics:
        services = info.context.services
        report = await message_metrics(
            services.uow(), services.meta, services.vault,
            organization_id=info.context.viewer.organization_id, waba_id=self.waba_id,
            start=start, end=end, granularity=granularity.value, metrics=list(METRICS),
            now=services.clock.now(),
        )  # fmt: skip

        def points(metric: str) -> list[MetricPoint]:
            return [MetricPoint(at=at, value=v) for at, v in report.series.get(metric, [])]

        return WhatsAppMetrics(
            sent=points("sent"),
            delivered=points("delivered"),
            total_sent=report.totals.get("sent", 0),
            total_delivered=report.totals.get("delivered", 0),
            delivery_rate=report.delivery_rate,
            unavailable=sorted(report.unavailable),
        )

    @classmethod
    def from_domain(cls, row: models.WhatsAppAccount) -> Self:
        return cls(
            **node_ids("WhatsAppAccount", row.id),
            row_id=row.id,
            waba_id=row.waba_id,
            name=row.name,
            phone_numbers=[WhatsAppPhoneNumber.from_meta(p) for p in row.phone_numbers or []],
            quality_rating=row.quality_rating,
            messaging_limit_tier=row.messaging_limit_tier,
            business_profile=JSON(dict(row.business_profile or {})),
            status=ChannelStatus(row.status),
        )


@strawberry.type
class MetaConnectionHealth:
    connection: MetaConnection
    health: HealthLevel
    status: ConnectionStatus
    status_reason: str | None
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    expiring_soon: bool = strawberry.field(
        description="The token or its data access ends within a week: someone must log in "
        "again (Meta cannot extend a long-lived user token)."
    )

    @classmethod
    def from_domain(cls, found: ConnectionCheck) -> Self:
        conn = found.connection
        return cls(
            connection=MetaConnection.from_domain(conn),
            health=HealthLevel(found.level),
            status=ConnectionStatus(conn.status),
            status_reason=conn.status_reason,
            expires_at=conn.expires_at,
            data_access_expires_at=conn.data_access_expires_at,
            expiring_soon=found.expiring_soon,
        )


@strawberry.type(description="How the viewer's organization's Meta connections are doing.")
class ConnectionHealth:
    status: HealthStatus = strawberry.field(
        description="UNHEALTHY: no login works (or none is connected); DEGRADED: a login or "
        "an account needs someone to act; HEALTHY otherwise."
    )
    connections: list[MetaConnectionHealth] = strawberry.field(
        description="Every login not disconnected on purpose, oldest first."
    )
    accounts_needing_attention: int = strawberry.field(
        description="Pages, Instagram and WhatsApp accounts whose login expired or needs "
        "reauthorizing."
    )

    @classmethod
    def from_domain(cls, report: OrganizationHealth) -> Self:
        return cls(
            status=HealthStatus(report.status),
            connections=[MetaConnectionHealth.from_domain(c) for c in report.connections],
            accounts_needing_attention=report.accounts_needing_attention,
        )
