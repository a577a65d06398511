"""What the domain needs from the outside world, as Protocols (implemented in tasks/ and
server.py; the domain never imports them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

JSONDict = dict[str, Any]


class JobQueue(Protocol):
    """Sends background jobs (Dramatiq messages). Arguments are ids and plain values."""

    def enqueue(self, actor_name: str, **kwargs: Any) -> None: ...


class EventBus(Protocol):
    """Fans events out to live GraphQL subscriptions (Redis pub/sub or in-memory)."""

    async def publish(self, channel: str, event: JSONDict) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[JSONDict]]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class RateGate(Protocol):
    """Sliding-window limits shared by every process (Redis) or within one (in-memory)."""

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Record a hit unless ``key`` already had ``limit`` hits in the window; returns
        None when allowed, else the seconds until the next hit would be."""
        ...


class Cache(Protocol):
    """Short-lived JSON values: in Redis when REDIS_URL is set (so every API process shares
    them), in-process otherwise. A value is gone once its TTL has passed."""

    async def get(self, key: str) -> JSONDict | None: ...

    async def set(self, key: str, value: JSONDict, ttl_seconds: int) -> None: ...
