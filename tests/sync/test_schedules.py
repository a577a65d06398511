"""Per-Page sync schedules driven through the scheduler's tick with a controllable clock, and
queueing a scope for every page (the cron endpoint)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dramatiq
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select, update

from domain.models import SyncRun
from domain.services.sync.runs import RUN_ACTOR, SyncScope, start_for_every_page, start_sync
from domain.services.sync.schedules import Schedule, start_scheduled_syncs, update_schedule
from domain.uow import UnitOfWork
from server import Runtime
from tasks.actors.sync import SYNC_SCHEDULED
from tasks.broker import DramatiqJobQueue
from tasks.bus import InMemoryEventBus
from tasks.rate_gate import InMemoryRateGate
from tasks.scheduler import PERIODIC_JOBS, Scheduler
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected

DEFAULT_SCOPES = ("contacts", "incremental", "full")


@dataclass
class ManualClock:
    """The Clock port, moved by the test."""

    at: datetime

    def now(self) -> datetime:
        return self.at


def scheduler_on(clock: ManualClock) -> tuple[Scheduler, StubBroker]:
    (job,) = [job for job in PERIODIC_JOBS if job.actor_name == SYNC_SCHEDULED]
    broker = StubBroker()
    broker.declare_actor(
        dramatiq.actor(lambda since, until: None, actor_name=SYNC_SCHEDULED, broker=broker)
    )
    return Scheduler([job], DramatiqJobQueue(broker), now=clock.now), broker


def stub_uow(runtime: Runtime) -> UnitOfWork:
    """A unit of work whose run jobs are caught by a stub broker (no worker runs them)."""
    runs_broker = StubBroker()
    runs_broker.declare_actor(
        dramatiq.actor(lambda run_id: None, actor_name=RUN_ACTOR, broker=runs_broker)
    )
    services = runtime.services
    return UnitOfWork(services.session_factory, DramatiqJobQueue(runs_broker), InMemoryEventBus())


async def scheduled_runs(
    runtime: Runtime,
    broker: StubBroker,
    org_ids: set[uuid.UUID],
    gate: InMemoryRateGate | None = None,
) -> list[SyncRun]:
    """Do what the scheduler's messages ask (the actor's work), and return the runs it
    queued for ``org_ids``' Pages."""
    uow = stub_uow(runtime)
    started: list[SyncRun] = []
    queue = broker.queues["default"]
    while queue.qsize():
        window = Message.decode(queue.get()).kwargs
        since, until = (datetime.fromisoformat(window[k]) for k in ("since", "until"))
        async with uow:
            started += await start_scheduled_syncs(uow, since, until, gate=gate)
            await uow.commit()
    # Other tests' Pages are scheduled too: their runs are not this test's; leave none queued.
    await finish(runtime, [r for r in started if r.organization_id not in org_ids])
    return [r for r in started if r.organization_id in org_ids]


async def finish(runtime: Runtime, runs: list[SyncRun]) -> None:
    """Mark runs done, so a later slot queues new runs instead of finding these queued."""
    async with runtime.services.session_factory() as session:
        await session.execute(
            update(SyncRun).where(SyncRun.id.in_([r.id for r in runs])).values(status="succeeded")
        )
        await session.commit()


def test_the_defaults_are_the_schedules_metasync_always_had() -> None:
    schedule = Schedule(page_id=uuid.uuid4())
    at, minute = datetime(2026, 11, 2, 2, 0, tzinfo=UTC), timedelta(minutes=1)
    all_three = [SyncScope.CONTACTS, SyncScope.INCREMENTAL, SyncScope.FULL]
    assert schedule.due(at - minute, at) == all_three
    assert schedule.due(at, at + 15 * minute) == [SyncScope.CONTACTS]
    assert schedule.due(at + 29 * minute, at + 30 * minute) == all_three[:2]
    assert schedule.due(at + minute, at + 14 * minute) == []
    # A late tick still fires each due scope, once.
    assert schedule.due(at - 3 * minute, at + 40 * minute) == all_three
    assert Schedule(page_id=uuid.uuid4(), enabled=False).due(at - minute, at) == []


async def test_the_scheduler_follows_each_pages_stored_schedule(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "sched")
    off_tenant, off_page = await connected(sandbox_server, runtime, "sched-off")
    fields = ["contacts.name", "conversations.unread_count"]
    async with runtime.services.uow() as uow:
        await update_schedule(
            uow, tenant.org_id, page.id,
            {"contacts_interval_minutes": 5, "incremental_interval_minutes": 60,
             "full_sync_hour": 4, "fields": fields},
        )  # fmt: skip
        await update_schedule(uow, off_tenant.org_id, off_page.id, {"enabled": False})
        await uow.commit()
    mine = {tenant.org_id, off_tenant.org_id}
    clock = ManualClock(datetime(2026, 11, 2, 1, 59, 30, tzinfo=UTC))
    scheduler, broker = scheduler_on(clock)

    clock.at = datetime(2026, 11, 2, 2, 0, 5, tzinfo=UTC)  # the defaults' 02:00 slot
    assert await scheduler.tick() == ["page-sync-schedules"]
    runs = await scheduled_runs(runtime, broker, mine)
    # The stored schedule replaces the defaults: contacts every 5 minutes and incremental
    # hourly (02:00 is a slot of both), no full sync before 04:00; the disabled Page gets
    # nothing; each tenant's other demo Page (no schedule) follows the defaults.
    assert sorted(r.scope for r in runs if r.page_id == page.id) == ["contacts", "incremental"]
    assert [r for r in runs if r.page_id == off_page.id] == []
    defaults = sorted((r.organization_id, r.scope) for r in runs if r.page_id != page.id)
    assert defaults == sorted((org, scope) for org in mine for scope in DEFAULT_SCOPES)
    for run in (r for r in runs if r.page_id == page.id):
        assert run.trigger == "schedule"
        assert run.selected_fields == fields
    await finish(runtime, runs)

    clock.at = datetime(2026, 11, 2, 2, 5, 5, tzinfo=UTC)
    assert await scheduler.tick() == ["page-sync-schedules"]
    runs = await scheduled_runs(runtime, broker, mine)
    assert [(r.page_id, r.scope) for r in runs] == [(page.id, "contacts")]
    await finish(runtime, runs)

    clock.at = datetime(2026, 11, 2, 4, 0, 5, tzinfo=UTC)  # full at 04:00 (a late tick)
    assert await scheduler.tick() == ["page-sync-schedules"]
    runs = await scheduled_runs(runtime, broker, mine)
    assert sorted(r.scope for r in runs if r.page_id == page.id) == sorted(DEFAULT_SCOPES)
    assert [r for r in runs if r.page_id == off_page.id] == []
    await finish(runtime, runs)


async def test_a_scope_the_schedules_fields_leave_nothing_to_read_is_skipped(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "sched-page")
    async with runtime.services.uow() as uow:
        await update_schedule(uow, tenant.org_id, page.id, {"fields": ["page.fan_count"]})
        await uow.commit()
    clock = ManualClock(datetime(2026, 11, 2, 1, 59, 30, tzinfo=UTC))
    scheduler, broker = scheduler_on(clock)
    clock.at = datetime(2026, 11, 2, 2, 0, 5, tzinfo=UTC)
    await scheduler.tick()
    runs = await scheduled_runs(runtime, broker, {tenant.org_id})
    # Only Page details were selected: contacts and incremental syncs read none.
    mine = [(r.scope, r.selected_fields) for r in runs if r.page_id == page.id]
    assert mine == [("full", ["page.fan_count"])]
    await finish(runtime, runs)


async def test_the_spec_limits_hold_for_scheduled_syncs_too(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "sched-limit")
    gate = InMemoryRateGate()
    uow = stub_uow(runtime)
    async with uow:  # a person's full sync of the Page, a minute before the 02:00 slot
        asked, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=SyncScope.FULL,
            trigger="api", gate=gate,
        )  # fmt: skip
        await uow.commit()
    await finish(runtime, [asked])
    clock = ManualClock(datetime(2026, 11, 2, 1, 59, 30, tzinfo=UTC))
    scheduler, broker = scheduler_on(clock)
    clock.at = datetime(2026, 11, 2, 2, 0, 5, tzinfo=UTC)
    await scheduler.tick()
    runs = await scheduled_runs(runtime, broker, {tenant.org_id}, gate)
    # A full sync at most once per 5 minutes per Page: the scheduled one is skipped.
    assert sorted(r.scope for r in runs if r.page_id == page.id) == ["contacts", "incremental"]
    await finish(runtime, runs)


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
