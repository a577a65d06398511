"""Operators' view of webhook deliveries: list them, queue them to be applied again."""

from __future__ import annotations

from datetime import datetime

from domain.models import WebhookEventStatus as Status
from domain.pagination import clamp_first
from domain.repositories.webhook_events import WebhookEventRepository
from domain.services.permissions import Action
from domain.services.webhooks.inbox import PROCESS_ACTOR, reopen
from resolvers.graphql.access import require
from resolvers.graphql.errors import errors_as_data
from schema.connections import Connection
from schema.types import GraphInfo
from schema.webhooks import ReplayStarted, WebhookEvent, WebhookEventStatus


async def webhook_events(
    info: GraphInfo, status: WebhookEventStatus | None, first: int | None, after: str | None
) -> Connection[WebhookEvent]:
    require(info, Action.OPERATE_WEBHOOKS)
    services, org = info.context.services, info.context.viewer.organization_id
    size = clamp_first(first)
    wanted = status.value if status else None
    async with services.session_factory() as session:
        page = await WebhookEventRepository(session, org).page(
            first=size, after=after, status=wanted
        )

    async def count() -> int:
        async with services.session_factory() as session:
            return await WebhookEventRepository(session, org).count(wanted)

    return Connection[WebhookEvent].from_slice(
        page, WebhookEvent.from_domain, count, has_previous=after is not None
    )


@errors_as_data
async def replay_webhook_events(
    info: GraphInfo, status: WebhookEventStatus | None, since: datetime | None
) -> ReplayStarted:
    """Queue the organization's deliveries to be applied again. Applying is idempotent: an
    event already applied changes nothing; a failed one gets another chance."""
    require(info, Action.OPERATE_WEBHOOKS)
    services, org = info.context.services, info.context.viewer.organization_id
    async with services.uow() as uow:
        ids = await WebhookEventRepository(uow.session, org).ids(
            status=status.value if status else Status.FAILED.value, since=since
        )
        for event_id in ids:
            await reopen(uow, event_id)
            uow.enqueue(PROCESS_ACTOR, event_id=str(event_id))
        await uow.commit()
    return ReplayStarted(queued=len(ids))
