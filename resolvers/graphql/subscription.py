"""Live sync progress (graphql-transport-ws).

Each stream subscribes to the event bus *before* reading the database, so nothing published
in between is missed; its first event is the state in the database, the next ones come
from the bus (``domain.services.sync.runs.snapshot`` dicts, published after each commit).

A client slower than the events never builds a backlog: a reader task keeps only the newest
unsent event of each run, so the client gets the latest state, not every step. Events older
than what was already sent (published before the database read) are dropped. The bus is
best effort, so when it stays quiet for ``RESYNC_SECONDS`` the database is read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from domain.errors import NotFoundError
from domain.ports import EventBus, JSONDict
from domain.repositories.channels import PageRepository
from domain.repositories.sync_runs import SyncRunRepository
from domain.services.sync.runs import page_channel, run_channel, snapshot
from domain.services.sync.waiting import FINISHED
from resolvers.graphql.ids import id_of
from schema.sync import SyncRun
from schema.types import GraphInfo

RESYNC_SECONDS = 10.0
# Runs a page stream remembers (to drop stale events); older ones are forgotten.
REMEMBERED_RUNS = 64
_STATUS_RANK = {"queued": 0, "running": 1, "succeeded": 2, "failed": 2}

Events = list[JSONDict]


def position(event: JSONDict) -> tuple[str, int, int, int]:
    """Where an event stands in its run's life. A retry starts a new attempt (a later
    ``started_at``); within an attempt status, conversations done and rows written only grow."""
    written = sum(int(event.get(k) or 0) for k in ("created", "updated", "unchanged"))
    return (
        str(event.get("started_at") or ""),
        _STATUS_RANK.get(str(event.get("status")), 0),
        int(event.get("done") or 0),
        written,
    )


class _Sent:
    """The last event sent for each run, to drop duplicates and superseded events."""

    def __init__(self) -> None:
        self._last: OrderedDict[str, JSONDict] = OrderedDict()

    def is_new(self, event: JSONDict) -> bool:
        run_id = str(event.get("id"))
        last = self._last.get(run_id)
        if last is not None and (event == last or position(event) < position(last)):
            return False
        self._last[run_id] = event
        self._last.move_to_end(run_id)
        if len(self._last) > REMEMBERED_RUNS:
            self._last.popitem(last=False)
        return True

    def open_runs(self) -> set[uuid.UUID]:
        return {uuid.UUID(k) for k, e in self._last.items() if e.get("status") not in FINISHED}


class _Newest:
    """The newest unsent event of each run, filled by a reader task from the bus."""

    def __init__(self) -> None:
        self._events: dict[str, JSONDict] = {}
        self._ready = asyncio.Event()

    async def fill(self, events: AsyncIterator[JSONDict]) -> None:
        async for event in events:
            run_id = str(event.get("id"))
            waiting = self._events.get(run_id)
            if waiting is None or position(event) >= position(waiting):
                self._events[run_id] = event
            self._ready.set()

    async def take(self, within: float) -> Events:
        """What arrived since the last take; empty if nothing did ``within`` seconds."""
        if not self._ready.is_set():
            # A timeout scope, not wait_for: wait_for wraps the wait in a task of its own,
            # once per event and per subscriber.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._ready.wait()
        self._ready.clear()
        taken, self._events = list(self._events.values()), {}
        return taken


async def follow(
    bus: EventBus,
    channel: str,
    initial: Callable[[], Awaitable[Events]],
    refresh: Callable[[set[uuid.UUID]], Awaitable[Events]],
    *,
    until_finished: bool,
    resync_seconds: float = RESYNC_SECONDS,
) -> AsyncGenerator[JSONDict, None]:
    """The database state, then the channel's live events (see the module docstring).
    ``refresh`` re-reads the database given the runs still open; with ``until_finished``
    the stream ends after the first finished run."""
    async with bus.subscribe(channel) as events:
        newest = _Newest()
        # One reader for the whole stream: cancelling a read mid-way would close the bus's.
        reader = asyncio.create_task(newest.fill(events))
        try:
            sent = _Sent()
            batch = await initial()
            while True:
                for event in batch:
                    if not sent.is_new(event):
                        continue
                    yield event
                    if until_finished and event.get("status") in FINISHED:
                        return
                batch = await newest.take(resync_seconds) or await refresh(sent.open_runs())
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def sync_progress(info: GraphInfo, run_id: str) -> AsyncGenerator[SyncRun, None]:
    services = info.context.services
    org = info.context.viewer.organization_id
    row_id = id_of(run_id, "SyncRun", field="runId")

    async def current() -> Events:
        async with services.session_factory() as session:
            run = await SyncRunRepository(session, org).get(row_id)
            if run is None:  # missing or another organization's: nothing of it is sent
                raise NotFoundError("Sync run")
            return [snapshot(run)]

    async def again(_open: set[uuid.UUID]) -> Events:
        return await current()

    stream = follow(services.bus, run_channel(row_id), current, again, until_finished=True)
    async with contextlib.aclosing(stream):
        async for event in stream:
            yield SyncRun.from_snapshot(event)


async def page_sync_progress(info: GraphInfo, page_id: str) -> AsyncGenerator[SyncRun, None]:
    services = info.context.services
    org = info.context.viewer.organization_id
    page = id_of(page_id, "Page", field="pageId")

    async def initial() -> Events:
        """The page's queued and running runs, oldest first; or else its latest run."""
        async with services.session_factory() as session:
            if await PageRepository(session, org).get(page) is None:
                raise NotFoundError("Page")
            repo = SyncRunRepository(session, org)
            runs = await repo.active_of_page(page)
            if not runs:
                latest = await repo.latest_of_page(page)
                runs = [latest] if latest else []
            return [snapshot(run) for run in runs]

    async def refresh(open_runs: set[uuid.UUID]) -> Events:
        """Runs started since, and the end of runs whose last events the bus lost."""
        async with services.session_factory() as session:
            repo = SyncRunRepository(session, org)
            runs = {run.id: run for run in await repo.active_of_page(page)}
            runs.update(await repo.get_many([i for i in open_runs if i not in runs]))
            return [snapshot(run) for run in runs.values()]

    stream = follow(services.bus, page_channel(page), initial, refresh, until_finished=False)
    async with contextlib.aclosing(stream):
        async for event in stream:
            yield SyncRun.from_snapshot(event)
