"""Waiting for sync runs to finish, for callers that answer synchronously (the REST shims,
auto-connect, the cron endpoint).

A run is executed by a worker; its progress is published on the event bus after each commit.
The waiter subscribes *before* reading the row, so a run finishing between the read and the
subscription cannot be missed. Bus events are best effort (a slow subscriber's queue drops
its oldest events), so the row is also re-read every ``poll_seconds``: the database, not the
bus, decides when a run is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

from domain.errors import DomainError, InvalidInputError, NotFoundError
from domain.models import SyncRun, SyncStatus
from domain.ports import EventBus, JSONDict
from domain.services.sync.failures import rebuild
from domain.services.sync.runs import run_channel
from domain.uow import UnitOfWork

FINISHED = frozenset({SyncStatus.SUCCEEDED.value, SyncStatus.FAILED.value})
POLL_SECONDS = 5.0


def finished(run: SyncRun) -> bool:
    return run.status in FINISHED


async def load_run(make_uow: Callable[[], UnitOfWork], run_id: uuid.UUID) -> SyncRun:
    """The run, detached from its session (usable after the unit of work closes)."""
    async with make_uow() as uow:
        run = await uow.session.get(SyncRun, run_id)
        if run is None:
            raise NotFoundError("Sync run")
        # Leaving a read-only unit of work rolls back, which would expire a still-attached row.
        uow.session.expunge(run)
        return run


async def wait_for_run(
    make_uow: Callable[[], UnitOfWork],
    bus: EventBus,
    run_id: uuid.UUID,
    *,
    wait_seconds: float,
    poll_seconds: float = POLL_SECONDS,
) -> SyncRun:
    """The run once it succeeded or failed, or as it stands after ``wait_seconds``."""
    deadline = time.monotonic() + wait_seconds
    async with bus.subscribe(run_channel(run_id)) as events:
        ended = asyncio.Event()
        # One reader for the whole wait: cancelling a read mid-way would close the stream.
        reader = asyncio.create_task(_watch(events, ended))
        try:
            while True:
                ended.clear()  # before the read: an event after it wakes the wait below
                run = await load_run(make_uow, run_id)
                remaining = deadline - time.monotonic()
                if finished(run) or remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ended.wait(), min(remaining, poll_seconds))
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    return run


async def wait_for_runs(
    make_uow: Callable[[], UnitOfWork],
    bus: EventBus,
    run_ids: Sequence[uuid.UUID],
    *,
    wait_seconds: float,
) -> list[SyncRun]:
    """Several runs waited on together (one shared deadline), in the order given."""
    return list(
        await asyncio.gather(
            *(wait_for_run(make_uow, bus, run_id, wait_seconds=wait_seconds) for run_id in run_ids)
        )
    )


async def _watch(events: AsyncIterator[JSONDict], ended: asyncio.Event) -> None:
    async for event in events:
        if event.get("status") in FINISHED:
            ended.set()


def run_failure(run: SyncRun) -> DomainError | None:
    """Why a failed run failed, as the domain error a synchronous caller raises: Meta's
    refusal with Meta's code, or a page that cannot be synced until it is reconnected."""
    if run.status != SyncStatus.FAILED.value:
        return None
    info = run.details.get("meta_error")
    if isinstance(info, dict):
        return rebuild(info)
    return InvalidInputError("pageId", run.error or "the sync failed")
