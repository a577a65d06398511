"""Webhook deliveries as an organization sees them: those applied to it.

A delivery is stored before anyone knows whose it is; once applied, its keys in
``applied_webhook_events`` name the organizations it reached (a Page connected by two
organizations reaches both). Deliveries that reached nobody (unknown Pages, unreadable
bodies) belong to the deployment: operators see them with ``replay-webhooks`` and the
database, never through another organization's API.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import AppliedWebhookEvent, WebhookEvent
from domain.pagination import Slice, SortKey, after_condition, decode_cursor, make_slice, order_by

ORDER = (
    SortKey(WebhookEvent.received_at, True, datetime),
    SortKey(WebhookEvent.id, True, uuid.UUID),
)


class WebhookEventRepository:
    def __init__(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        self.session = session
        self.organization_id = organization_id

    def _scope(self, status: str | None) -> list[ColumnElement[bool]]:
        mine = select(AppliedWebhookEvent.webhook_event_id).where(
            AppliedWebhookEvent.key.like(f"{self.organization_id}:%")
        )
        conditions: list[ColumnElement[bool]] = [WebhookEvent.id.in_(mine)]
        if status is not None:
            conditions.append(WebhookEvent.status == status)
        return conditions

    async def page(
        self, *, first: int, after: str | None, status: str | None
    ) -> Slice[WebhookEvent]:
        stmt = select(WebhookEvent).where(*self._scope(status))
        if after is not None:
            stmt = stmt.where(after_condition(ORDER, decode_cursor(after, ORDER)))
        rows = (
            await self.session.execute(stmt.order_by(*order_by(ORDER)).limit(first + 1))
        ).scalars()
        return make_slice(list(rows), first, ORDER)

    async def get(self, event_id: uuid.UUID) -> WebhookEvent | None:
        """One delivery applied to the organization; None for any other (same answer)."""
        stmt = select(WebhookEvent).where(WebhookEvent.id == event_id, *self._scope(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count(self, status: str | None) -> int:
        stmt = select(func.count()).select_from(WebhookEvent).where(*self._scope(status))
        return int((await self.session.execute(stmt)).scalar_one())

    async def ids(self, *, status: str | None, since: datetime | None) -> list[uuid.UUID]:
        stmt = (
            select(WebhookEvent.id).where(*self._scope(status)).order_by(WebhookEvent.received_at)
        )
        if since is not None:
            stmt = stmt.where(WebhookEvent.received_at >= since)
        return list((await self.session.execute(stmt.limit(10_000))).scalars())
