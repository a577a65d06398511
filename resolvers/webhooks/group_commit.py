"""Group commit for the webhook inbox: deliveries that arrive while a commit is in flight
share the next transaction.

Meta waits for each delivery's 200, so the receiver answers only once its delivery is
committed. Storing each in a transaction of its own costs a round trip to the database for
BEGIN, INSERT and COMMIT and a flush to disk per delivery; under a burst those serialise and
the acknowledgement latency grows with the queue. Here the first delivery is written at
once (no added wait when traffic is light) and the ones that came in meanwhile are written
together next, each still answered only after its own row is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog

from domain.services.webhooks.inbox import Stored

log = structlog.get_logger(__name__)

StoreMany = Callable[[Sequence[bytes]], Awaitable[list[Stored]]]


class GroupCommitInbox:
    def __init__(self, store_many: StoreMany, *, max_batch: int = 100) -> None:
        self._store_many = store_many
        self._max_batch = max_batch
        self._waiting: list[tuple[bytes, asyncio.Future[Stored]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, raw: bytes) -> Stored:
        """Store one delivery; returns once it is committed (or raises if it could not be)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Stored] = loop.create_future()
        self._waiting.append((raw, done))
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                results = await self._store_many([raw for raw, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][1], exc)
                    continue
                # One bad delivery must not fail the others: each on its own.
                log.warning("webhook_group_commit_failed", size=len(batch), error=repr(exc))
                for raw, done in batch:
                    try:
                        [stored] = await self._store_many([raw])
                    except Exception as one:
                        _fail(done, one)
                    else:
                        _succeed(done, stored)
                continue
            for (_, done), stored in zip(batch, results, strict=True):
                _succeed(done, stored)


# A request that went away (its future cancelled) is skipped; its row is stored all the same.


def _succeed(done: asyncio.Future[Stored], stored: Stored) -> None:
    if not done.done():
        done.set_result(stored)


def _fail(done: asyncio.Future[Stored], exc: Exception) -> None:
    if not done.done():
        done.set_exception(exc)
