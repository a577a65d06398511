"""A worker's lease on a running sync. Found by the fault suite: a worker SIGKILLed mid-sync
left its run "running" forever (nothing noticed the worker was gone), and a job sent twice
ran the same sync twice at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from domain.models import SyncRun
from domain.services.sync.engine import execute_run
from domain.services.sync.lease import MAX_RECOVERIES, recover_runs
from domain.services.sync.runs import SyncScope, start_sync
from server import Runtime
from tests.conftest import Tenant
from tests.factories import seed_pages

LEASE = timedelta(seconds=60)


async def _run(runtime: Runtime, tenant: Tenant, **fields: object) -> SyncRun:
    page = (await seed_pages(runtime, tenant.org_id, conversations=0, messages=0))[0].page
    async with runtime.services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=SyncScope.FULL,
            trigger="manual",
        )  # fmt: skip
        for name, value in fields.items():
            setattr(run, name, value)
        await uow.commit()
    return run


async def _get(runtime: Runtime, run_id: uuid.UUID) -> SyncRun:
    async with runtime.services.session_factory() as session:
        run = await session.get(SyncRun, run_id)
        assert run is not None
        return run


async def _recovery_of(runtime: Runtime, run: SyncRun) -> SyncRun | None:
    async with runtime.services.session_factory() as session:
        return (
            await session.execute(
                select(SyncRun).where(SyncRun.page_id == run.page_id, SyncRun.id != run.id)
            )
        ).scalar_one_or_none()


async def _sweep(runtime: Runtime, after: timedelta = timedelta(0)) -> dict[str, int]:
    async with runtime.services.uow() as uow:
        return await recover_runs(uow, runtime.services.clock.now() + after, LEASE)


async def test_a_run_whose_worker_stopped_beating_fails_and_is_queued_again(
    runtime: Runtime, tenant: Tenant
) -> None:
    now = runtime.services.clock.now()
    lost = await _run(runtime, tenant, status="running", started_at=now - timedelta(minutes=5),
                      heartbeat_at=now - timedelta(minutes=2))  # fmt: skip
    alive = await _run(runtime, tenant, status="running", started_at=now - timedelta(minutes=5),
                       heartbeat_at=now - timedelta(seconds=5))  # fmt: skip
    await _sweep(runtime)

    failed = await _get(runtime, lost.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith("worker lost: no heartbeat for 60s")
    replacement = await _recovery_of(runtime, lost)
    assert replacement is not None
    assert (replacement.status, replacement.trigger) == ("queued", "recovery")
    assert replacement.details["recovers"] == str(lost.id)
    assert f"queued again as run {replacement.id}" in failed.error
    assert (await _get(runtime, alive.id)).status == "running"  # its worker is alive
    assert await _recovery_of(runtime, alive) is None


async def test_a_run_that_keeps_killing_its_worker_is_not_queued_forever(
    runtime: Runtime, tenant: Tenant
) -> None:
    now = runtime.services.clock.now()
    run = await _run(runtime, tenant, status="running", heartbeat_at=now - timedelta(minutes=2),
                     details={"recoveries": MAX_RECOVERIES})  # fmt: skip
    await _sweep(runtime)
    assert (await _get(runtime, run.id)).status == "failed"
    assert await _recovery_of(runtime, run) is None


async def test_a_queued_run_whose_job_was_lost_is_sent_again_once_per_lease(
    runtime: Runtime, tenant: Tenant
) -> None:
    now = runtime.services.clock.now()
    stranded = await _run(runtime, tenant, created_at=now - timedelta(minutes=5))
    first = await _sweep(runtime)
    assert first["requeued"] >= 1
    sent_at = (await _get(runtime, stranded.id)).heartbeat_at
    assert sent_at is not None
    await _sweep(runtime, timedelta(seconds=10))
    assert (await _get(runtime, stranded.id)).heartbeat_at == sent_at  # not re-sent yet
    await _sweep(runtime, timedelta(seconds=61))
    assert (await _get(runtime, stranded.id)).heartbeat_at != sent_at


async def test_a_second_delivery_of_the_job_leaves_the_run_to_its_live_worker(
    runtime: Runtime, tenant: Tenant
) -> None:
    now = runtime.services.clock.now()
    held = await _run(runtime, tenant, status="running", started_at=now,
                      heartbeat_at=now)  # fmt: skip
    services = runtime.services
    again = await execute_run(services.uow, services.meta, services.vault, services.clock, held.id)
    assert again is not None
    after = await _get(runtime, held.id)
    assert (after.status, after.heartbeat_at, after.graph_calls) == ("running", now, 0)
