"""Event buses (in-memory and Redis pub/sub) and the scheduler's slots."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import dramatiq
from dramatiq.brokers.stub import StubBroker

from tasks.broker import DramatiqJobQueue
from tasks.bus import QUEUE_SIZE, InMemoryEventBus, RedisEventBus
from tasks.scheduler import PeriodicJob, Scheduler, redis_slot_claim
from tests.conftest import TEST_REDIS_URL, requires_redis


async def test_in_memory_bus_fans_out_and_bounds_slow_subscribers() -> None:
    bus = InMemoryEventBus()
    async with bus.subscribe("c") as fast, bus.subscribe("c") as slow:
        for i in range(QUEUE_SIZE + 10):
            await bus.publish("c", {"i": i})
        assert (await anext(fast)) == {"i": 10}  # the oldest ten were dropped, not queued
        assert (await anext(slow)) == {"i": 10}
    assert bus.subscriber_count() == 0


@requires_redis
async def test_redis_bus_delivers_across_instances_and_cleans_up() -> None:
    assert TEST_REDIS_URL
    publisher, listener = RedisEventBus(TEST_REDIS_URL), RedisEventBus(TEST_REDIS_URL)
    channel = f"test-{uuid.uuid4().hex}"
    try:
        async with listener.subscribe(channel) as events:
            await asyncio.sleep(0.05)  # subscription registered at Redis
            await publisher.publish(channel, {"progress": 0.5})
            assert await asyncio.wait_for(anext(events), 2) == {"progress": 0.5}
        numsub = await publisher._redis.pubsub_numsub(f"metasync:events:{channel}")
        assert numsub[0][1] == 0  # no Redis subscription left over
    finally:
        await publisher.aclose()
        await listener.aclose()


def _broker_with(actor_name: str) -> StubBroker:
    broker = StubBroker()
    broker.declare_actor(dramatiq.actor(lambda: None, actor_name=actor_name, broker=broker))
    return broker


async def test_scheduler_fires_once_per_slot_and_not_at_start() -> None:
    now = [datetime(2026, 11, 1, 1, 59, 30, tzinfo=UTC)]
    broker = _broker_with("check_tokens")
    job = PeriodicJob("tokens", "check_tokens", daily_at=(2, 0))
    scheduler = Scheduler([job], DramatiqJobQueue(broker), now=lambda: now[0])
    assert await scheduler.tick() == []
    now[0] += timedelta(minutes=1)  # 02:00:30
    assert await scheduler.tick() == ["tokens"]
    now[0] += timedelta(minutes=5)
    assert await scheduler.tick() == []
    now[0] += timedelta(days=1)
    assert await scheduler.tick() == ["tokens"]
    assert broker.queues["default"].qsize() == 2


@requires_redis
async def test_two_schedulers_share_a_slot_through_redis() -> None:
    assert TEST_REDIS_URL
    now = [datetime(2026, 11, 1, 10, 29, 59, tzinfo=UTC)]
    name = f"sync-{uuid.uuid4().hex[:6]}"
    broker = _broker_with("sync_all")
    job = PeriodicJob(name, "sync_all", every=timedelta(minutes=30))
    first, second = (
        Scheduler(
            [job],
            DramatiqJobQueue(broker),
            claim=redis_slot_claim(TEST_REDIS_URL),
            now=lambda: now[0],
        )
        for _ in range(2)
    )
    now[0] += timedelta(seconds=2)
    sent = await first.tick() + await second.tick()
    assert sent == [name]
    assert broker.queues["default"].qsize() == 1
