"""The sync schedules, and queueing a scope for every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dramatiq
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select

from domain.models import SyncRun
from domain.services.sync.runs import RUN_ACTOR, SyncScope, start_for_every_page
from domain.uow import UnitOfWork
from server import Runtime
from tasks.actors.sync import SYNC_ALL
from tasks.broker import DramatiqJobQueue
from tasks.bus import InMemoryEventBus
from tasks.scheduler import PERIODIC_JOBS, Scheduler
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected


async def test_schedules_fire_contacts_incremental_and_full_at_their_times() -> None:
    jobs = {job.name: job for job in PERIODIC_JOBS if job.actor_name == SYNC_ALL}
    assert jobs["contacts-15min"].every == timedelta(minutes=15)
    assert jobs["incremental-30min"].every == timedelta(minutes=30)
    assert jobs["full-daily"].daily_at == (2, 0)
    broker = StubBroker()
    broker.declare_actor(dramatiq.actor(lambda scope: None, actor_name=SYNC_ALL, broker=broker))
    now = [datetime(2026, 11, 2, 1, 59, 0, tzinfo=UTC)]
    scheduler = Scheduler(list(jobs.values()), DramatiqJobQueue(broker), now=lambda: now[0])
    now[0] = datetime(2026, 11, 2, 2, 0, 5, tzinfo=UTC)  # 02:00: all three slots begin
    assert sorted(await scheduler.tick()) == ["contacts-15min", "full-daily", "incremental-30min"]
    now[0] += timedelta(minutes=15)
    assert await scheduler.tick() == ["contacts-15min"]
    sent = [Message.decode(raw).kwargs["scope"] for raw in broker.queues["default"].queue]
    assert sorted(sent) == ["contacts", "contacts", "full", "incremental"]


async def test_every_connected_page_gets_one_run(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, _ = await connected(sandbox_server, runtime, "schedule")
    broker = StubBroker()
    broker.declare_actor(dramatiq.actor(lambda run_id: None, actor_name=RUN_ACTOR, broker=broker))
    services = runtime.services
    uow = UnitOfWork(services.session_factory, DramatiqJobQueue(broker), InMemoryEventBus())
    async with uow:
        runs = await start_for_every_page(uow, SyncScope.INCREMENTAL, "schedule")
        await uow.commit()
    async with uow:
        again = await start_for_every_page(uow, SyncScope.INCREMENTAL, "schedule")
        await uow.commit()
    mine = [r for r in runs if r.organization_id == tenant.org_id]
    assert len(mine) == 2  # both of the demo user's pages
    # Pages already queued keep their run: nothing is queued twice.
    assert {r.id for r in again} == {r.id for r in runs}
    assert broker.queues["default"].qsize() == len(runs)
    async with services.session_factory() as session:
        stored = (
            (await session.execute(select(SyncRun).where(SyncRun.organization_id == tenant.org_id)))
            .scalars()
            .all()
        )
    assert {r.trigger for r in stored} == {"schedule"}
