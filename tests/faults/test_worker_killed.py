"""A worker SIGKILLed in the middle of a sync and in the middle of webhook processing: after
recovery the run is finished or failed with its reason (never "running" forever), and every
delivery is applied exactly once. Real `server.py` workers, scheduler and API processes."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from bench.processes import READY, WorkerPool
from domain.models import Conversation, Message, SyncRun, WebhookEvent
from domain.services.sync.runs import RUN_ACTOR, SyncScope, start_sync
from server import Runtime
from tests.conftest import requires_postgres
from tests.connections.conftest import SandboxServer
from tests.faults.conftest import (
    Cluster,
    eventually,
    messenger_message,
    post_until_accepted,
    sandbox_people,
)
from tests.sync.test_engine import connected

pytestmark = [pytest.mark.slow, requires_postgres]


async def _run(runtime: Runtime, run_id: uuid.UUID) -> SyncRun:
    async with runtime.services.session_factory() as session:
        run = await session.get(SyncRun, run_id)
        assert run is not None
        return run


async def test_a_sync_whose_worker_is_killed_fails_as_lost_and_is_run_again(
    cluster: Cluster, sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "killsync")
    # Slow Meta down so the kill lands mid-sync.
    sandbox_server.sandbox.set_faults({"latency": {"fixed_ms": 400, "jitter_ms": 0}})
    async with runtime.services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=SyncScope.FULL,
            trigger="manual",
        )  # fmt: skip
        await uow.commit()
    victim = cluster.worker()
    cluster.jobs().enqueue(RUN_ACTOR, run_id=str(run.id))

    async def started() -> bool:
        current = await _run(runtime, run.id)
        return current.status == "running" and current.phase is not None

    await eventually(started, within=60, what="the sync to start")
    victim.kill()
    api = await cluster.api()
    await asyncio.sleep(4)  # longer than the 3 s lease: nothing beats for this run now
    assert (await _run(runtime, run.id)).status == "running"
    async with httpx.AsyncClient(base_url=api) as client:
        health = (await client.get("/api/health")).json()
    assert health["checks"]["sync"]["lostRuns"] >= 1, health  # visible while it lasts

    cluster.worker()
    cluster.scheduler()  # its sweeper notices the lost run

    async def recovered() -> SyncRun | None:
        async with runtime.services.session_factory() as session:
            return (
                await session.execute(
                    select(SyncRun).where(
                        SyncRun.page_id == page.id, SyncRun.trigger == "recovery",
                        SyncRun.status.in_(("succeeded", "failed")),
                    )
                )
            ).scalar_one_or_none()  # fmt: skip

    replacement: SyncRun = await eventually(
        recovered, within=120, what=f"a recovery run to finish\n{cluster.logs()}"
    )
    lost = await _run(runtime, run.id)
    assert lost.status == "failed"
    assert lost.error is not None
    assert lost.error.startswith("worker lost: no heartbeat for 3s")
    assert replacement.status == "succeeded", replacement.error
    assert replacement.details["recovers"] == str(run.id)
    meta_page = sandbox_server.sandbox.store.page(page.meta_page_id)
    assert meta_page is not None
    async with runtime.services.session_factory() as session:
        conversations = (
            await session.execute(
                select(Conversation.meta_conversation_id, func.count())
                .where(Conversation.page_id == page.id)
                .group_by(Conversation.meta_conversation_id)
            )
        ).all()
    assert {meta_id for meta_id, _ in conversations} == {c.id for c in meta_page.conversations}
    assert all(n == 1 for _, n in conversations), "no conversation stored twice"
    async with httpx.AsyncClient(base_url=api) as client:
        health = (await client.get("/api/health")).json()
    assert health["checks"]["sync"].get("lostRuns", 0) == 0, health


async def test_webhook_processing_survives_workers_killed_mid_work(
    cluster: Cluster, sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "killhooks")
    people = sandbox_people(sandbox_server, page.meta_page_id)
    api = await cluster.api()
    pool = WorkerPool(2, cluster.env, cluster.log_dir)
    chaos: asyncio.Task[None] | None = None
    try:
        cluster.scheduler()
        start = int(time.time() * 1000) - 3_600_000
        bodies = [
            messenger_message(page.meta_page_id, people[i % len(people)], start + i * 10)
            for i in range(240)
        ]

        async def both_consuming() -> bool:
            return all(worker.printed(READY) for worker in pool.workers)

        # Kills must land while there is work: the deliveries are acknowledged in well under
        # a second, far sooner than two workers start on a loaded machine.
        await eventually(both_consuming, within=60, what=f"two workers\n{cluster.logs()}")

        async def kill_workers() -> None:
            while True:
                await asyncio.sleep(1.0)
                await asyncio.to_thread(pool.kill_one)

        chaos = asyncio.create_task(kill_workers())
        async with httpx.AsyncClient(timeout=30) as client:
            for body in bodies:
                await post_until_accepted(client, f"{api}/webhooks/meta", body)

        async def all_applied() -> bool:
            async with runtime.services.session_factory() as session:
                waiting = (
                    await session.execute(
                        select(func.count()).where(
                            WebhookEvent.status == "received",
                            WebhookEvent.raw_body.in_(bodies),
                        )
                    )
                ).scalar_one()
            return waiting == 0

        async def killed_while_working() -> bool:
            return pool.kills >= 1 or await all_applied()

        await eventually(killed_while_working, within=30, what="a worker killed")
        assert pool.kills >= 1, "a worker must have been killed while it worked"
        await asyncio.sleep(2)  # perhaps another kill, then recovery undisturbed
        chaos.cancel()
        await eventually(all_applied, within=150, what=f"every delivery applied\n{cluster.logs()}")
    finally:
        if chaos is not None:
            chaos.cancel()
        pool.stop()
    async with runtime.services.session_factory() as session:
        rows = (
            await session.execute(
                select(Conversation.unread_count, func.count(Message.id))
                .join(Message, Message.conversation_id == Conversation.id)
                .where(
                    Conversation.page_id == page.id, Conversation.organization_id == tenant.org_id
                )
                .group_by(Conversation.id)
            )
        ).all()
    # Each message stored once and counted unread once: nothing lost, nothing twice.
    assert sum(n for _, n in rows) == len(bodies)
    assert all(unread == n for unread, n in rows), rows
