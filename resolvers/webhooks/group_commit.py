"""Group commit for the webhook inbox: deliveries that arrive while a commit is in flight
share the next transaction, and their processing jobs are sent after Meta has its 200.

Meta waits for each delivery's 200, so the receiver answers only once its delivery is
committed. Storing each in a transaction of its own costs a round trip to the database for
BEGIN, INSERT and COMMIT and a flush to disk per delivery; under a burst those serialise and
the acknowledgement latency grows with the queue. Here the first delivery is written at
once (no added wait when traffic is light) and the ones that came in meanwhile are written
together next, each still answered only after its own row is committed.

Sending the processing job is not part of the acknowledgement: the row is committed with
``queued_at`` set, so a job lost between the 200 and the broker (the process died, Redis
was down) is sent again by the webhook sweeper. Jobs go out in order of arrival from one
sender task, off the event loop (the broker client blocks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import structlog

from domain.services.webhooks.inbox import Stored

log = structlog.get_logger(__name__)

Job = tuple[str, dict[str, Any]]
StoreMany = Callable[[Sequence[bytes]], Awaitable[tuple[list[Stored], list[Job]]]]
SendJobs = Callable[[list[Job]], None]


class GroupCommitInbox:
    def __init__(
        self,
        store_many: StoreMany,
        send_jobs: SendJobs,
        *,
        close: Callable[[], Awaitable[None]] | None = None,
        max_batch: int = 100,
    ) -> None:
        self._store_many = store_many
        self._send_jobs = send_jobs
        self._close = close
        self._max_batch = max_batch
        self._waiting: list[tuple[bytes, asyncio.Future[Stored]]] = []
        self._outbox: list[Job] = []
        self._writer: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def store(self, raw: bytes) -> Stored:
        """Store one delivery; returns once it is committed (or raises if it could not be)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Stored] = loop.create_future()
        self._waiting.append((raw, done))
        self._writer = _running(self._writer, loop, self._write)
        return await done

    async def drain(self) -> None:
        """Wait until every delivery taken is stored and every job is handed to the broker
        (on shutdown: the sweeper would otherwise send those jobs only later)."""
        for _ in range(3):  # a write can start a send; a send never starts a write
            pending = [t for t in (self._writer, self._sender) if t is not None and not t.done()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        """Drain, then release what storing holds (the writer's database connection)."""
        await self.drain()
        if self._close is not None:
            await self._close()

    async def _write(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                results, jobs = await self._store_many([raw for raw, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][1], exc)
                    continue
                # One bad delivery must not fail the others: each on its own.
                log.warning("webhook_group_commit_failed", size=len(batch), error=repr(exc))
                results, jobs = [], []
                for raw, done in batch:
                    try:
                        [stored], own = await self._store_many([raw])
                    except Exception as one:
                        _fail(done, one)
                    else:
                        _succeed(done, stored)
                        jobs.extend(own)
            else:
                for (_, done), stored in zip(batch, results, strict=True):
                    _succeed(done, stored)
            if jobs:
                self._outbox.extend(jobs)
                self._sender = _running(self._sender, asyncio.get_running_loop(), self._send)

    async def _send(self) -> None:
        while self._outbox:
            jobs, self._outbox = self._outbox, []
            try:
                await asyncio.to_thread(self._send_jobs, jobs)
            except Exception as exc:  # the rows are committed: the sweeper sends them again
                log.warning("webhook_jobs_not_sent", count=len(jobs), error=repr(exc))


def _running(
    task: asyncio.Task[None] | None,
    loop: asyncio.AbstractEventLoop,
    work: Callable[[], Coroutine[Any, Any, None]],
) -> asyncio.Task[None]:
    """``task`` if it is still going on this loop, else a new one doing ``work``."""
    if task is not None and not task.done() and task.get_loop() is loop:
        return task
    return loop.create_task(work())


# A request that went away (its future cancelled) is skipped; its row is stored all the same.


def _succeed(done: asyncio.Future[Stored], stored: Stored) -> None:
    if not done.done():
        done.set_result(stored)


def _fail(done: asyncio.Future[Stored], exc: Exception) -> None:
    if not done.done():
        done.set_exception(exc)
