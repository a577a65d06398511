"""Sliding-window rate gates: Redis (shared by every process) or in-memory (one process)."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable

import redis.asyncio as aioredis

PREFIX = "metasync:gate:"

# KEYS[1]: the window's sorted set. ARGV: now, window, limit, member.
# Drops hits older than the window; admits and records the hit if under the limit, else
# answers how long until the oldest hit leaves the window. Atomic, so two processes racing
# for the last slot cannot both win.
_HIT_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return '-1'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class InMemoryRateGate:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        now = self._clock()
        hits = self._hits[key]
        while hits and hits[0] <= now - window_seconds:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)
            return None
        return hits[0] + window_seconds - now


class RedisRateGate:
    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self._redis = aioredis.from_url(url)
        self._script = self._redis.register_script(_HIT_LUA)
        self._clock = clock

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        answer = await self._script(
            keys=[PREFIX + key],
            args=[self._clock(), window_seconds, limit, uuid.uuid4().hex],
        )
        wait = float(answer)
        return None if wait < 0 else wait

    async def aclose(self) -> None:
        await self._redis.aclose()
