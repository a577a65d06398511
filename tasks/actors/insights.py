"""Insights: the daily read of every account's posts and metrics (03:00 UTC, the spec's
schedule), one job per account so one failing account does not stop the others."""

from __future__ import annotations

import uuid

import dramatiq
import structlog

from domain.services.post_insights import (
    SYNC_ACCOUNT_ACTOR,
    SYNC_ALL_ACTOR,
    AccountRef,
    InsightsSync,
    accounts_to_sync,
)
from tasks.broker import actor_registrar
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

log = structlog.get_logger(__name__)

periodic(PeriodicJob("daily-insights", SYNC_ALL_ACTOR, daily_at=(3, 0)))


async def sync_all_insights() -> None:
    ctx = current()
    accounts = await accounts_to_sync(ctx.uow())
    for organization_id, account in accounts:
        ctx.jobs.enqueue(
            SYNC_ACCOUNT_ACTOR,
            organization_id=str(organization_id),
            kind=account.kind,
            account_id=str(account.id),
        )
    log.info("insights_queued", accounts=len(accounts))


async def sync_account_insights(organization_id: str, kind: str, account_id: str) -> None:
    ctx = current()
    sync = InsightsSync(ctx.uow, ctx.meta, ctx.vault, ctx.clock.now())
    posts = await sync.run(uuid.UUID(organization_id), AccountRef(kind, uuid.UUID(account_id)))
    log.info("insights_synced", account=account_id, posts=posts)


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    dramatiq.actor(actor_name=SYNC_ALL_ACTOR, broker=broker, max_retries=0)(sync_all_insights)
    # Transient Meta failures are retried by Dramatiq with its backoff.
    dramatiq.actor(actor_name=SYNC_ACCOUNT_ACTOR, broker=broker, max_retries=3)(
        sync_account_insights
    )
