"""Short-lived JSON values (the meta-module's Instagram grid): Redis when REDIS_URL is set, so
every API server answers from the same copy; an in-process store otherwise.

Values are stored serialized in both, so a caller can never change a cached value by
mutating what it was handed, and anything that is not JSON fails on ``set``, not later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import redis.asyncio as aioredis

from domain.ports import Clock, JSONDict

PREFIX = "metasync:cache:"


class InMemoryCache:
    """Expiry follows the injected clock (tests move it instead of sleeping)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._values: dict[str, tuple[datetime, bytes]] = {}

    async def get(self, key: str) -> JSONDict | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock.now():
            del self._values[key]
            return None
        value: JSONDict = orjson.loads(entry[1])
        return value

    async def set(self, key: str, value: JSONDict, ttl_seconds: int) -> None:
        raw = orjson.dumps(value)
        now = self._clock.now()
        # Drop what has expired as we go, so keys never read again do not pile up.
        self._values = {k: v for k, v in self._values.items() if v[0] > now}
        self._values[key] = (now + timedelta(seconds=ttl_seconds), raw)


class RedisCache:
    """Redis expires the keys itself (SET ... EX)."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)

    async def get(self, key: str) -> JSONDict | None:
        raw = await self._redis.get(PREFIX + key)
        if raw is None:
            return None
        value: JSONDict = orjson.loads(raw)
        return value

    async def set(self, key: str, value: JSONDict, ttl_seconds: int) -> None:
        await self._redis.set(PREFIX + key, orjson.dumps(value), ex=ttl_seconds)

    async def aclose(self) -> None:
        await self._redis.aclose()
