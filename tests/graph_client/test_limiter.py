"""Both limiters: slowdown from 80 %, hold at 100 % or until Meta's regain time, per-key
spacing. The Redis one runs against the Redis at TEST_REDIS_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from graph_client.limiter import InProcessLimiter, Limiter, LimiterPolicy, RedisLimiter, Spacing
from graph_client.usage import APP_SCOPE, UsageReading, object_scope

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
POLICY = LimiterPolicy(
    slowdown_from_percent=80, slowdown_max_seconds=2.0, reading_ttl_seconds=300, block_seconds=60
)
PAGE = object_scope("659554973897366")
SPACING = Spacing("conversations:659554973897366", 0.5)

LimiterFactory = Callable[[], Limiter]


@pytest.fixture(params=["in_process", "redis"])
async def make_limiter(request: pytest.FixtureRequest, clock: Any) -> AsyncIterator[LimiterFactory]:
    """Limiters on the test's fake clock; several Redis ones share state like processes do."""
    created: list[Limiter] = []
    prefix = f"metasync:graph:test:{uuid.uuid4().hex}"

    def factory() -> Limiter:
        limiter: Limiter
        if request.param == "in_process":
            limiter = InProcessLimiter(POLICY, clock=clock)
        else:
            if not TEST_REDIS_URL:
                pytest.skip("TEST_REDIS_URL is not set; the Redis limiter needs a real Redis")
            limiter = RedisLimiter.from_url(TEST_REDIS_URL, POLICY, clock=clock, prefix=prefix)
        created.append(limiter)
        return limiter

    yield factory
    for limiter in created:
        if isinstance(limiter, RedisLimiter):
            keys = [k async for k in limiter._redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await limiter._redis.delete(*keys)
        await limiter.aclose()


async def test_no_wait_below_80_percent(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    assert await limiter.reserve([APP_SCOPE, PAGE]) == 0
    await limiter.record({APP_SCOPE: UsageReading(79.9), PAGE: UsageReading(80)})
    assert await limiter.reserve([APP_SCOPE, PAGE]) == 0


@pytest.mark.parametrize(("percent", "wait"), [(85, 0.5), (90, 1.0), (99, 1.9)])
async def test_proportional_slowdown_from_80_percent(
    make_limiter: LimiterFactory, percent: float, wait: float
) -> None:
    limiter = make_limiter()
    await limiter.record({PAGE: UsageReading(percent)})
    assert await limiter.reserve([APP_SCOPE, PAGE]) == pytest.approx(wait)
    assert await limiter.reserve([APP_SCOPE]) == 0  # other scopes are not slowed


async def test_full_usage_holds_the_scope(make_limiter: LimiterFactory, clock: Any) -> None:
    limiter = make_limiter()
    await limiter.record({APP_SCOPE: UsageReading(100)})
    assert await limiter.reserve([APP_SCOPE]) == pytest.approx(60)
    clock.now += 45
    assert await limiter.reserve([APP_SCOPE, PAGE]) == pytest.approx(15)


async def test_regain_time_holds_until_then(make_limiter: LimiterFactory, clock: Any) -> None:
    limiter = make_limiter()
    await limiter.record({PAGE: UsageReading(100, regain_seconds=19 * 60)})
    assert await limiter.reserve([APP_SCOPE, PAGE]) == pytest.approx(19 * 60)
    clock.now += 19 * 60
    # The reading is older than its TTL by now, so nothing slows the next call.
    assert await limiter.reserve([APP_SCOPE, PAGE]) == 0


async def test_the_reading_behind_a_hold_does_not_outlive_it(
    make_limiter: LimiterFactory, clock: Any
) -> None:
    limiter = make_limiter()
    await limiter.record({APP_SCOPE: UsageReading(100)})
    clock.now += 60
    assert await limiter.reserve([APP_SCOPE]) == 0
    await limiter.record({APP_SCOPE: UsageReading(90)})  # the next response's fresh reading
    assert await limiter.reserve([APP_SCOPE]) == pytest.approx(1.0)


async def test_old_readings_expire(make_limiter: LimiterFactory, clock: Any) -> None:
    limiter = make_limiter()
    await limiter.record({PAGE: UsageReading(95)})
    clock.now += 299
    assert await limiter.reserve([PAGE]) == pytest.approx(1.5)
    clock.now += 2
    assert await limiter.reserve([PAGE]) == 0


async def test_block_never_shortens_a_longer_hold(make_limiter: LimiterFactory, clock: Any) -> None:
    limiter = make_limiter()
    await limiter.block([PAGE], 30)
    assert await limiter.reserve([PAGE]) == pytest.approx(30)
    assert await limiter.reserve([APP_SCOPE]) == 0
    await limiter.block([PAGE], 5)
    assert await limiter.reserve([PAGE]) == pytest.approx(30)
    # A fresh low reading does not lift a hold either.
    await limiter.record({PAGE: UsageReading(10)})
    clock.now += 10
    assert await limiter.reserve([PAGE]) == pytest.approx(20)


async def test_spacing_two_calls_per_second(make_limiter: LimiterFactory, clock: Any) -> None:
    limiter = make_limiter()
    waits = [await limiter.reserve([PAGE], spacing=SPACING) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.5, 1.0, 1.5])
    other = Spacing("conversations:other-page", 0.5)
    assert await limiter.reserve([APP_SCOPE], spacing=other) == 0
    clock.now += 10
    assert await limiter.reserve([PAGE], spacing=SPACING) == 0


async def test_spacing_starts_after_a_hold(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    await limiter.block([PAGE], 3)
    assert await limiter.reserve([PAGE], spacing=SPACING) == pytest.approx(3.0)
    assert await limiter.reserve([PAGE], spacing=SPACING) == pytest.approx(3.5)


async def test_wait_beyond_max_wait_claims_no_slot(
    make_limiter: LimiterFactory, clock: Any
) -> None:
    limiter = make_limiter()
    await limiter.block([PAGE], 60)
    assert await limiter.reserve([PAGE], spacing=SPACING, max_wait=30) == pytest.approx(60)
    clock.now += 60
    assert await limiter.reserve([PAGE], spacing=SPACING, max_wait=30) == 0


async def test_limiters_sharing_redis_share_holds_and_spacing(make_limiter: LimiterFactory) -> None:
    first, second = make_limiter(), make_limiter()
    if isinstance(first, InProcessLimiter):
        # Two in-process limiters are independent by design: that is why Redis exists.
        await first.block([PAGE], 30)
        assert await second.reserve([PAGE]) == 0
        return
    await first.block([PAGE], 30)
    assert await second.reserve([PAGE]) == pytest.approx(30)
    assert await first.reserve([APP_SCOPE], spacing=SPACING) == 0
    assert await second.reserve([APP_SCOPE], spacing=SPACING) == pytest.approx(0.5)
    assert await first.reserve([APP_SCOPE], spacing=SPACING) == pytest.approx(1.0)


async def test_redis_limiter_fails_open_when_redis_is_down(clock: Any) -> None:
    limiter = RedisLimiter.from_url(
        "redis://127.0.0.1:1/0", POLICY, clock=clock, prefix="metasync:graph:test:down"
    )
    try:
        await limiter.record({PAGE: UsageReading(100)})
        await limiter.block([PAGE], 30)
        assert await limiter.reserve([PAGE], spacing=SPACING) == 0
    finally:
        await limiter.aclose()
