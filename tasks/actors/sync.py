"""The sync actor: one run id in, the run executed against Meta."""

from __future__ import annotations

import uuid
from datetime import timedelta

import dramatiq

from domain.services.sync.engine import execute_run
from domain.services.sync.runs import RUN_ACTOR, SyncScope, start_for_every_page
from tasks.broker import actor_registrar
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

SYNC_ALL = "sync_all_pages"

# spec/facebook-sync-api.md and spec/auto-connect.md schedules.
periodic(
    PeriodicJob(
        "contacts-15min",
        SYNC_ALL,
        every=timedelta(minutes=15),
        kwargs=(("scope", SyncScope.CONTACTS.value),),
    )
)
periodic(
    PeriodicJob(
        "incremental-30min",
        SYNC_ALL,
        every=timedelta(minutes=30),
        kwargs=(("scope", SyncScope.INCREMENTAL.value),),
    )
)
periodic(
    PeriodicJob("full-daily", SYNC_ALL, daily_at=(2, 0), kwargs=(("scope", SyncScope.FULL.value),))
)


async def run_sync(run_id: str) -> None:
    ctx = current()
    await execute_run(ctx.uow, ctx.meta, ctx.vault, ctx.clock, uuid.UUID(run_id))


async def sync_all_pages(scope: str) -> None:
    ctx = current()
    async with ctx.uow() as uow:
        await start_for_every_page(uow, SyncScope(scope), "schedule")
        await uow.commit()


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    # Transient Meta failures re-raise from execute_run: retried with backoff, 5 times.
    dramatiq.actor(
        actor_name=RUN_ACTOR, broker=broker, max_retries=5, min_backoff=2_000, max_backoff=120_000
    )(run_sync)
    dramatiq.actor(actor_name=SYNC_ALL, broker=broker, max_retries=3)(sync_all_pages)
