"""Single-use, short-lived values (OAuth state): Redis GETDEL when REDIS_URL is set, so any
API server can finish a flow another started; an in-process store otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

PREFIX = "metasync:state:"


class InMemoryStateStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, dict[str, Any]]] = {}

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: int) -> None:
        now = self._clock()
        # Drop expired entries as we go so abandoned flows do not accumulate.
        self._values = {k: v for k, v in self._values.items() if v[0] > now}
        self._values[key] = (now + ttl_seconds, value)

    async def take(self, key: str) -> dict[str, Any] | None:
        entry = self._values.pop(key, None)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]


class RedisStateStore:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: int) -> None:
        await self._redis.set(PREFIX + key, orjson.dumps(value), ex=ttl_seconds)

    async def take(self, key: str) -> dict[str, Any] | None:
        raw = await self._redis.getdel(PREFIX + key)
        if raw is None:
            return None
        value: dict[str, Any] = orjson.loads(raw)
        return value

    async def aclose(self) -> None:
        await self._redis.aclose()
