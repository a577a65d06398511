"""Sliding-window gates, in-memory and shared through Redis."""

from __future__ import annotations

import uuid

import pytest

from domain.ports import RateGate
from tasks.rate_gate import InMemoryRateGate, RedisRateGate
from tests.conftest import TEST_REDIS_URL, requires_redis


async def _exercise(gate: RateGate, now: list[float], other: RateGate | None = None) -> None:
    key = f"k-{uuid.uuid4().hex}"
    second = other or gate
    assert await gate.hit(key, 2, 60) is None
    assert await second.hit(key, 2, 60) is None
    wait = await gate.hit(key, 2, 60)
    assert wait == pytest.approx(60)
    now[0] += 59.5
    assert (await second.hit(key, 2, 60)) == pytest.approx(0.5)
    now[0] += 0.6  # the first hit left the window
    assert await gate.hit(key, 2, 60) is None
    assert await gate.hit(f"{key}-other", 2, 60) is None  # keys are independent


async def test_in_memory_gate() -> None:
    now = [1000.0]
    await _exercise(InMemoryRateGate(clock=lambda: now[0]), now)


@requires_redis
async def test_redis_gate_is_shared_between_processes() -> None:
    assert TEST_REDIS_URL
    now = [1_800_000_000.0]
    first = RedisRateGate(TEST_REDIS_URL, clock=lambda: now[0])
    second = RedisRateGate(TEST_REDIS_URL, clock=lambda: now[0])
    try:
        await _exercise(first, now, second)
    finally:
        await first.aclose()
        await second.aclose()
