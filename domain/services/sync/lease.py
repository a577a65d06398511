"""A worker's lease on a running sync: claimed atomically, kept alive by a heartbeat, and
declared lost by the sweeper when the heartbeat stops (the worker was killed, ran out of
memory, or its machine went away). Without it a run stays "running" forever.

Claiming is a compare-and-set on the row, so a run is executed by one worker at a time even
when its job is delivered twice (Dramatiq redelivers a dead worker's messages; the sweeper
re-sends jobs Redis lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select, update

from domain.errors import DomainError
from domain.models import SyncRun, SyncStatus
from domain.ports import Clock
from domain.services.sync.runs import RUN_ACTOR, SyncScope, publish, start_sync
from domain.uow import UnitOfWork

log = structlog.get_logger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
WORKER_LOST = "worker lost"
# A run whose worker dies this many times in a row is not queued again (it may be what
# kills the worker).
MAX_RECOVERIES = 3


def _last_sign_of_life(run: SyncRun) -> datetime | None:
    return run.heartbeat_at or run.started_at


async def claim(uow: UnitOfWork, run: SyncRun, now: datetime, lease: timedelta) -> bool:
    """Take ``run`` for this worker unless a live worker holds it or it was superseded.
    Does not commit; on success ``run`` is refreshed and marked with this heartbeat."""
    if run.status == SyncStatus.FAILED.value and (run.error or "").startswith(WORKER_LOST):
        return False  # the sweeper queued a recovery run in its place
    if run.status == SyncStatus.RUNNING.value:
        seen = _last_sign_of_life(run)
        if seen is not None and seen > now - lease:
            return False  # a live worker has it: this is a duplicate delivery of the job
    observed = (
        SyncRun.heartbeat_at.is_(None)
        if run.heartbeat_at is None
        else SyncRun.heartbeat_at == run.heartbeat_at
    )
    result: Any = await uow.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status == run.status, observed)
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False  # another worker (or the sweeper) changed it first
    await uow.session.refresh(run)
    return True


@contextlib.asynccontextmanager
async def heartbeat(
    make_uow: Callable[[], UnitOfWork], clock: Clock, run_id: uuid.UUID, lease: timedelta
) -> AsyncIterator[None]:
    """Refresh the run's heartbeat a few times per lease while the body runs. A failed beat
    (the database briefly away) is logged; the next one tries again."""
    every = max(0.2, lease.total_seconds() / 4)

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                async with make_uow() as uow:
                    await uow.session.execute(
                        update(SyncRun)
                        .where(SyncRun.id == run_id, SyncRun.status == SyncStatus.RUNNING.value)
                        .values(heartbeat_at=clock.now())
                        .execution_options(synchronize_session=False)
                    )
                    await uow.commit()
            except Exception as exc:
                log.warning("sync_heartbeat_failed", run_id=str(run_id), error=repr(exc))

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def recover_runs(uow: UnitOfWork, now: datetime, lease: timedelta) -> dict[str, int]:
    """The sweeper's pass over sync runs. Commits.

    - running with no heartbeat for a lease: failed with the reason, and a recovery run of
      the same scope queued in its place (unless its worker died too often already);
    - queued for a lease with no worker taking it (its job was lost with Redis, or never
      sent): its job is sent again.
    """
    cutoff = now - lease
    beat = func.coalesce(SyncRun.heartbeat_at, SyncRun.started_at, SyncRun.created_at)
    lost = (
        (
            await uow.session.execute(
                select(SyncRun).where(SyncRun.status == SyncStatus.RUNNING.value, beat < cutoff)
            )
        )
        .scalars()
        .all()
    )
    recovered = 0
    for run in lost:
        if not await _fail_lost(uow, run, now, lease):
            continue
        recoveries = int(run.details.get("recoveries", 0)) + 1
        if run.page_id is None or recoveries > MAX_RECOVERIES:
            continue
        try:
            replacement, created = await start_sync(
                uow,
                organization_id=run.organization_id,
                page_id=run.page_id,
                scope=SyncScope(run.scope),
                trigger="recovery",
                conversation_id=run.conversation_id,
                limit=run.details.get("limit"),
            )
        except DomainError as exc:  # the Page or conversation went away meanwhile
            log.info("sync_run_not_recovered", run_id=str(run.id), reason=exc.message)
            continue
        if created:
            replacement.details = {
                **replacement.details,
                "recovers": str(run.id),
                "recoveries": recoveries,
            }
            recovered += 1
        run.error = f"{run.error}; queued again as run {replacement.id}"
    stranded = (
        (
            await uow.session.execute(
                select(SyncRun).where(
                    SyncRun.status == SyncStatus.QUEUED.value,
                    func.coalesce(SyncRun.heartbeat_at, SyncRun.created_at) < cutoff,
                )
            )
        )
        .scalars()
        .all()
    )
    for run in stranded:
        # heartbeat_at on a queued run: when its job was last sent (so it is sent once per
        # lease, not on every sweep while a busy queue reaches it).
        run.heartbeat_at = now
        uow.enqueue(RUN_ACTOR, run_id=str(run.id))
    await uow.commit()
    if lost or stranded:
        log.warning("sync_runs_recovered", lost=len(lost), requeued=len(stranded))
    return {"lost": len(lost), "recovered": recovered, "requeued": len(stranded)}


async def _fail_lost(uow: UnitOfWork, run: SyncRun, now: datetime, lease: timedelta) -> bool:
    observed = (
        SyncRun.heartbeat_at.is_(None)
        if run.heartbeat_at is None
        else SyncRun.heartbeat_at == run.heartbeat_at
    )
    seconds = int(lease.total_seconds())
    reason = f"{WORKER_LOST}: no heartbeat for {seconds}s (the worker died or was killed)"
    result: Any = await uow.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status == SyncStatus.RUNNING.value, observed)
        .values(status=SyncStatus.FAILED.value, error=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False  # its worker came back to life (or another sweeper got there first)
    await uow.session.refresh(run)
    publish(uow, run)
    return True
