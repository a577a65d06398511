"""The sync actor: one run id in, the run executed against Meta."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import dramatiq

from domain.services.sync.engine import execute_run
from domain.services.sync.lease import recover_runs
from domain.services.sync.runs import RUN_ACTOR, SyncScope, start_for_every_page
from domain.services.sync.schedules import start_scheduled_syncs
from tasks.broker import actor_registrar
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

SYNC_ALL = "sync_all_pages"
SYNC_SCHEDULED = "sync_scheduled_pages"
RECOVER = "recover_sync_runs"

periodic(PeriodicJob("sync-run-sweeper", RECOVER, every=timedelta(minutes=1), sweeper=True))

# Each Page's schedule (domain.services.sync.schedules; by default contacts every 15
# minutes, incremental every 30, full daily at 02:00 UTC) is looked at once a minute.
periodic(
    PeriodicJob("page-sync-schedules", SYNC_SCHEDULED, every=timedelta(minutes=1), window=True)
)


async def run_sync(run_id: str) -> None:
    ctx = current()
    lease = ctx.recovery.sync_lease
    await execute_run(ctx.uow, ctx.meta, ctx.vault, ctx.clock, uuid.UUID(run_id), lease)


async def recover_sync_runs() -> None:
    """Runs whose worker died fail with the reason and are queued again; queued runs whose
    job was lost (Redis restarted) get it sent again."""
    ctx = current()
    async with ctx.uow() as uow:
        await recover_runs(uow, ctx.clock.now(), ctx.recovery.sync_lease)


async def sync_scheduled_pages(since: str, until: str) -> None:
    ctx = current()
    async with ctx.uow() as uow:
        await start_scheduled_syncs(
            uow, datetime.fromisoformat(since), datetime.fromisoformat(until),
            gate=ctx.rate_gate, limits=ctx.sync_limits,
        )  # fmt: skip
        await uow.commit()


async def sync_all_pages(scope: str) -> None:
    """Every Page, one scope (kept for messages queued before per-Page schedules)."""
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
    dramatiq.actor(actor_name=SYNC_SCHEDULED, broker=broker, max_retries=3)(sync_scheduled_pages)
    dramatiq.actor(actor_name=RECOVER, broker=broker, max_retries=0)(recover_sync_runs)
