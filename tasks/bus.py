"""Event bus implementations: in-memory (one process) and Redis pub/sub (many API servers).

Subscribers get a bounded queue each; a slow subscriber drops its oldest events rather than
growing memory (subscriptions re-read current state from the database anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson
import redis.asyncio as aioredis
import structlog

JSONDict = dict[str, Any]
QUEUE_SIZE = 256
CHANNEL_PREFIX = "metasync:events:"

log = structlog.get_logger(__name__)


def _offer(queue: asyncio.Queue[JSONDict], event: JSONDict) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)


async def _drain(queue: asyncio.Queue[JSONDict]) -> AsyncIterator[JSONDict]:
    while True:
        yield await queue.get()


class InMemoryEventBus:
    """One process. Publishers may run on another thread's loop (the embedded worker):
    events are handed to each subscriber's own loop, never touched across threads."""

    def __init__(self) -> None:
        self._subscribers: dict[
            str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[JSONDict]]]
        ] = defaultdict(set)

    async def publish(self, channel: str, event: JSONDict) -> None:
        here = asyncio.get_running_loop()
        for loop, queue in list(self._subscribers.get(channel, ())):
            if loop is here:
                _offer(queue, event)
            else:
                loop.call_soon_threadsafe(_offer, queue, event)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[JSONDict]]:
        queue: asyncio.Queue[JSONDict] = asyncio.Queue(maxsize=QUEUE_SIZE)
        entry = (asyncio.get_running_loop(), queue)
        self._subscribers[channel].add(entry)
        try:
            yield _drain(queue)
        finally:
            self._subscribers[channel].discard(entry)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())


class RedisEventBus:
    """Publishes to Redis; each API process keeps one pub/sub connection and fans events out
    to its local subscribers, so 200 WebSocket clients cost one Redis subscription each
    channel, not 200 connections."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)
        self._local = InMemoryEventBus()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._channels: dict[str, int] = defaultdict(int)
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, event: JSONDict) -> None:
        await self._redis.publish(CHANNEL_PREFIX + channel, orjson.dumps(event))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[JSONDict]]:
        await self._retain(channel)
        try:
            async with self._local.subscribe(channel) as events:
                yield events
        finally:
            await self._release(channel)

    async def _retain(self, channel: str) -> None:
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            if self._channels[channel] == 0:
                await self._pubsub.subscribe(CHANNEL_PREFIX + channel)
            self._channels[channel] += 1
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())

    async def _release(self, channel: str) -> None:
        async with self._lock:
            self._channels[channel] -= 1
            if self._channels[channel] <= 0:
                del self._channels[channel]
                if self._pubsub is not None:
                    await self._pubsub.unsubscribe(CHANNEL_PREFIX + channel)

    def subscriber_count(self) -> int:
        """Local subscribers (one bounded queue each) in this process."""
        return self._local.subscriber_count()

    def channel_count(self) -> int:
        """Channels this process holds a Redis subscription for."""
        return len(self._channels)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
                log.warning("event_bus_reconnecting", error=str(exc))
                await asyncio.sleep(0.5)
                continue
            if message is None:
                if not self._channels:
                    return
                continue
            channel = message["channel"].decode()[len(CHANNEL_PREFIX) :]
            await self._local.publish(channel, orjson.loads(message["data"]))

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()
