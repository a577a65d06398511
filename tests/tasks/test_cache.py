"""The short-lived JSON cache: in-memory (expiry on the injected clock) and shared via Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tasks.cache import InMemoryCache, RedisCache
from tests.conftest import TEST_REDIS_URL, requires_redis


class StepClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


async def test_in_memory_values_live_until_their_ttl_on_the_clock() -> None:
    clock = StepClock()
    cache = InMemoryCache(clock)
    value = {"profile": {"username": "shrub"}, "media": [{"id": "1"}]}
    await cache.set("ig_grid_1", value, 300)
    await cache.set("ig_grid_2", {"n": 2}, 60)
    assert await cache.get("ig_grid_1") == value
    assert await cache.get("missing") is None

    clock.advance(60)
    assert await cache.get("ig_grid_2") is None  # exactly at its TTL: gone
    clock.advance(239)
    assert await cache.get("ig_grid_1") == value
    clock.advance(1)
    assert await cache.get("ig_grid_1") is None

    await cache.set("ig_grid_1", {"fresh": True}, 300)  # a refill starts a new TTL
    assert await cache.get("ig_grid_1") == {"fresh": True}


async def test_in_memory_hands_out_copies_and_refuses_what_is_not_json() -> None:
    cache = InMemoryCache(StepClock())
    value: dict[str, object] = {"media": []}
    await cache.set("k", value, 10)
    value["media"] = ["changed after set"]
    got = await cache.get("k")
    assert got == {"media": []}
    assert got is not None
    got["media"].append("changed after get")
    assert await cache.get("k") == {"media": []}
    with pytest.raises(TypeError):
        await cache.set("bad", {"when": object()}, 10)


@requires_redis
async def test_redis_values_are_shared_between_processes_and_expire() -> None:
    assert TEST_REDIS_URL
    first, second = RedisCache(TEST_REDIS_URL), RedisCache(TEST_REDIS_URL)
    key = f"ig_grid_{uuid.uuid4().hex}"
    try:
        assert await second.get(key) is None
        await first.set(key, {"profile": {"media_count": 6}}, 300)
        assert await second.get(key) == {"profile": {"media_count": 6}}
        ttl = await second._redis.ttl("metasync:cache:" + key)
        assert 295 <= ttl <= 300  # Redis expires it on its own
    finally:
        await first.aclose()
        await second.aclose()
