"""Client-side rate limiting driven by Meta's usage headers.

A limiter keeps, per *scope* (``"app"`` or ``"obj:<business-object-id>"``), the last usage
percentage and a "blocked until" time, plus per-key call spacing. The client asks it how long
to wait before each call (:meth:`Limiter.reserve`), feeds it every response's usage headers
(:meth:`Limiter.record`) and tells it about rate-limit errors (:meth:`Limiter.block`).

Policy (see :class:`LimiterPolicy`): below 80 % no delay; from 80 % a small delay growing
linearly to ``usage_slowdown_max_seconds`` at 100 %; at 100 % or when Meta gives an
``estimated_time_to_regain_access``, hold the scope until then. Spacing keeps the
conversations API at 2 calls/s per Page.

Two implementations: :class:`InProcessLimiter` and :class:`RedisLimiter`, which shares the
state between processes under ``metasync:graph:...`` keys. The limiter only computes waits;
the client sleeps, so tests drive both with one fake clock.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis_async
from redis.exceptions import RedisError

from graph_client.config import GraphConfig
from graph_client.usage import UsageReading

log = logging.getLogger(__name__)

KEY_PREFIX = "metasync:graph"


@dataclass(frozen=True, slots=True)
class Spacing:
    """At most one call per ``interval`` seconds for ``key`` (e.g. one Page's conversations)."""

    key: str
    interval: float


@dataclass(frozen=True, slots=True)
class LimiterPolicy:
    slowdown_from_percent: float = 80.0
    slowdown_max_seconds: float = 2.0
    reading_ttl_seconds: float = 300.0
    block_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: GraphConfig) -> LimiterPolicy:
        return cls(
            slowdown_from_percent=config.usage_slowdown_from_percent,
            slowdown_max_seconds=config.usage_slowdown_max_seconds,
            reading_ttl_seconds=config.usage_reading_ttl_seconds,
            block_seconds=config.rate_limit_block_seconds,
        )

    def hold_seconds(self, reading: UsageReading) -> float:
        """How long a fresh reading blocks its scope (0 when it does not)."""
        if reading.regain_seconds and reading.regain_seconds > 0:
            return reading.regain_seconds
        return self.block_seconds if reading.percent >= 100 else 0.0

    def wait(self, percent: float, recorded_at: float, blocked_until: float, now: float) -> float:
        if blocked_until > now:
            return blocked_until - now
        if recorded_at < blocked_until:
            # The reading led to (or predates) a hold that is over: Meta says access is back,
            # so it no longer describes the scope. The next response brings a fresh one.
            return 0.0
        if now - recorded_at > self.reading_ttl_seconds or percent < self.slowdown_from_percent:
            return 0.0
        span = max(100.0 - self.slowdown_from_percent, 1e-9)
        fraction = min(1.0, (percent - self.slowdown_from_percent) / span)
        return self.slowdown_max_seconds * fraction


class Limiter(Protocol):
    async def reserve(
        self, scopes: Sequence[str], *, spacing: Spacing | None = None, max_wait: float = math.inf
    ) -> float:
        """Seconds to wait before calling. Claims a spacing slot unless the wait > max_wait."""
        ...

    async def record(self, readings: Mapping[str, UsageReading]) -> None:
        """Store usage readings from a response (blocking scopes at 100 % or with a regain)."""
        ...

    async def block(self, scopes: Sequence[str], seconds: float) -> None:
        """Hold ``scopes`` for ``seconds`` (after a rate-limit error)."""
        ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _ScopeState:
    percent: float = 0.0
    recorded_at: float = -math.inf
    blocked_until: float = -math.inf


class InProcessLimiter:
    """Limiter state in this process only. Every method runs without awaiting, so it is atomic
    within the event loop."""

    def __init__(
        self, policy: LimiterPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._policy = policy or LimiterPolicy()
        self._clock = clock
        self._scopes: dict[str, _ScopeState] = {}
        self._next_slot: dict[str, float] = {}

    async def reserve(
        self, scopes: Sequence[str], *, spacing: Spacing | None = None, max_wait: float = math.inf
    ) -> float:
        now = self._clock()
        wait = 0.0
        for scope in scopes:
            state = self._scopes.get(scope)
            if state is not None:
                wait = max(
                    wait,
                    self._policy.wait(state.percent, state.recorded_at, state.blocked_until, now),
                )
        if spacing is None or wait > max_wait:
            return wait
        if len(self._next_slot) > 4096:  # forget pages that have gone quiet
            self._next_slot = {k: v for k, v in self._next_slot.items() if v > now}
        slot = max(now + wait, self._next_slot.get(spacing.key, -math.inf))
        self._next_slot[spacing.key] = slot + spacing.interval
        return slot - now

    async def record(self, readings: Mapping[str, UsageReading]) -> None:
        now = self._clock()
        for scope, reading in readings.items():
            state = self._scopes.setdefault(scope, _ScopeState())
            state.percent = reading.percent
            state.recorded_at = now
            hold = self._policy.hold_seconds(reading)
            if hold > 0:
                state.blocked_until = max(state.blocked_until, now + hold)

    async def block(self, scopes: Sequence[str], seconds: float) -> None:
        now = self._clock()
        for scope in scopes:
            state = self._scopes.setdefault(scope, _ScopeState())
            state.blocked_until = max(state.blocked_until, now + seconds)

    async def aclose(self) -> None:
        return None


# KEYS: one usage hash per scope. ARGV: now, ttl_ms, then per key: percent ("-" = keep),
# blocked_until. Sets the reading and raises blocked_until to the larger value atomically.
_RECORD_LUA = """
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local percent = ARGV[1 + i * 2]
  local until_ = tonumber(ARGV[2 + i * 2])
  if percent ~= '-' then
    redis.call('HSET', key, 'percent', percent, 'recorded_at', ARGV[1])
  end
  local cur = tonumber(redis.call('HGET', key, 'blocked_until') or '0')
  if until_ > cur then
    redis.call('HSET', key, 'blocked_until', ARGV[2 + i * 2])
    cur = until_
  end
  redis.call('PEXPIRE', key, math.max(ttl, math.ceil((cur - now) * 1000)) + 1000)
end
return 1
"""

# KEYS[1]: the spacing key. ARGV: earliest start, interval, ttl_ms. Returns the claimed slot as
# a string (Lua numbers would be truncated to integers on the way back).
_RESERVE_LUA = """
local earliest = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(earliest, nxt)
redis.call('SET', KEYS[1], string.format('%.6f', slot + tonumber(ARGV[2])), 'PX', ARGV[3])
return string.format('%.6f', slot)
"""


class RedisLimiter:
    """Limiter state in Redis, shared by every process using the same URL.

    Times are wall-clock seconds (``time.time``) because several machines compare them. If
    Redis fails the limiter fails open with a warning: Meta still enforces the real limits, and
    the usage headers will slow us down again once Redis is back.
    """

    def __init__(
        self,
        client: redis_async.Redis,
        policy: LimiterPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        prefix: str = KEY_PREFIX,
        owns_client: bool = False,
    ) -> None:
        self._redis = client
        self._policy = policy or LimiterPolicy()
        self._clock = clock
        self._prefix = prefix
        self._owns_client = owns_client
        self._record_script = client.register_script(_RECORD_LUA)
        self._reserve_script = client.register_script(_RESERVE_LUA)

    @classmethod
    def from_url(
        cls,
        url: str,
        policy: LimiterPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        prefix: str = KEY_PREFIX,
    ) -> RedisLimiter:
        client = redis_async.Redis.from_url(url, decode_responses=True)
        return cls(client, policy, clock=clock, prefix=prefix, owns_client=True)

    def _usage_key(self, scope: str) -> str:
        return f"{self._prefix}:usage:{scope}"

    def _spacing_key(self, key: str) -> str:
        return f"{self._prefix}:spacing:{key}"

    async def reserve(
        self, scopes: Sequence[str], *, spacing: Spacing | None = None, max_wait: float = math.inf
    ) -> float:
        now = self._clock()
        try:
            wait = 0.0
            if scopes:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for scope in scopes:
                        pipe.hmget(
                            self._usage_key(scope), "percent", "recorded_at", "blocked_until"
                        )
                    rows = await pipe.execute()
                for percent, recorded_at, blocked_until in rows:
                    wait = max(
                        wait,
                        self._policy.wait(
                            _float(percent, 0.0),
                            _float(recorded_at, -math.inf),
                            _float(blocked_until, -math.inf),
                            now,
                        ),
                    )
            if spacing is None or wait > max_wait:
                return wait
            ttl_ms = math.ceil((wait + spacing.interval) * 1000) + 1000
            slot = await self._reserve_script(
                keys=[self._spacing_key(spacing.key)],
                args=[f"{now + wait:.6f}", f"{spacing.interval:.6f}", ttl_ms],
            )
            return max(0.0, float(slot) - now)
        except RedisError as exc:
            log.warning("graph limiter: redis unavailable, not limiting (%s)", type(exc).__name__)
            return 0.0

    async def record(self, readings: Mapping[str, UsageReading]) -> None:
        if not readings:
            return
        now = self._clock()
        args: list[str | float | int] = [f"{now:.6f}", self._ttl_ms()]
        for reading in readings.values():
            hold = self._policy.hold_seconds(reading)
            args += [f"{reading.percent:.3f}", f"{now + hold:.6f}" if hold > 0 else "0"]
        await self._run_record([self._usage_key(s) for s in readings], args)

    async def block(self, scopes: Sequence[str], seconds: float) -> None:
        if not scopes:
            return
        now = self._clock()
        args: list[str | float | int] = [f"{now:.6f}", self._ttl_ms()]
        for _ in scopes:
            args += ["-", f"{now + seconds:.6f}"]
        await self._run_record([self._usage_key(s) for s in scopes], args)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()

    def _ttl_ms(self) -> int:
        return math.ceil(self._policy.reading_ttl_seconds * 1000)

    async def _run_record(self, keys: list[str], args: list[str | float | int]) -> None:
        try:
            await self._record_script(keys=keys, args=args)
        except RedisError as exc:
            log.warning(
                "graph limiter: redis unavailable, usage not shared (%s)", type(exc).__name__
            )


def _float(value: object, default: float) -> float:
    if value is None:
        return default
    try:
        return float(str(value))
    except ValueError:
        return default


def limiter_from_config(
    config: GraphConfig, *, clock: Callable[[], float] = time.monotonic
) -> Limiter:
    """A Redis-backed limiter when ``config.redis_url`` is set, else an in-process one using
    ``clock`` (Redis always uses wall-clock time, shared between machines)."""
    policy = LimiterPolicy.from_config(config)
    if config.redis_url:
        return RedisLimiter.from_url(config.redis_url, policy)
    return InProcessLimiter(policy, clock=clock)
