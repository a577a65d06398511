"""Meta failing 10 % of calls (5xx, timeouts, rate limits) during a full sync: the sync ends,
succeeded through retries or failed with Meta's reason, and what it wrote is exact."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from domain.meta import MetaError
from domain.models import Contact, Conversation, Message, SyncRun
from domain.services.sync.engine import execute_run
from domain.services.sync.runs import SyncScope, start_sync
from resolvers.services import AppServices
from server import Runtime
from tasks.broker import start_worker
from tasks.runtime import install
from tests.connections.conftest import SandboxServer
from tests.faults.conftest import eventually
from tests.sync.test_engine import connected

FAULTS = {
    "seed": 9,
    "rules": [
        {"kind": "server_error", "rate": 0.04, "status": 500},
        {"kind": "server_error", "rate": 0.01, "status": 502, "body": "html"},
        {"kind": "timeout", "rate": 0.03, "mode": "raise"},
        {"kind": "rate_limit", "rate": 0.02, "code": 4, "estimated_minutes": 0},
    ],
}


@pytest.fixture
async def worker(sandbox_server: SandboxServer) -> AsyncIterator[None]:
    rt = sandbox_server.runtime
    assert rt.worker_context is not None
    install(rt.worker_context)
    running = start_worker(rt.broker)
    yield
    await asyncio.to_thread(running.stop)


@pytest.mark.slow
async def test_a_full_sync_through_a_failing_meta_ends_with_exact_counts(
    sandbox_server: SandboxServer, runtime: Runtime, worker: None
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "flaky")
    sandbox_server.sandbox.set_faults(FAULTS)
    services = sandbox_server.runtime.services
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=SyncScope.FULL,
            trigger="manual",
        )  # fmt: skip
        await uow.commit()

    async def finished() -> SyncRun | None:
        async with services.session_factory() as session:
            row = await session.get(SyncRun, run.id)
            assert row is not None
            return row if row.status in ("succeeded", "failed") else None

    done: SyncRun = await eventually(finished, within=150, what="the sync to end")
    fired = sum(rule["fired"] for rule in sandbox_server.sandbox.core.faults.describe()["rules"])
    sandbox_server.sandbox.clear_faults()
    assert fired > 0, "the faults must have hit the sync"
    if done.status == "failed":
        assert done.error, "a failed run records why"
        assert done.details.get("meta_error"), done.details

    async with services.session_factory() as session:

        async def count(model: type, *where: object) -> int:
            stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int((await session.execute(stmt)).scalar_one())

        conversations = await count(Conversation, Conversation.page_id == page.id)
        distinct = int(
            (
                await session.execute(
                    select(func.count(func.distinct(Conversation.meta_conversation_id))).where(
                        Conversation.page_id == page.id
                    )
                )
            ).scalar_one()
        )
        messages = await count(
            Message,
            Message.conversation_id.in_(
                select(Conversation.id).where(Conversation.page_id == page.id)
            ),
        )
        contacts = await count(Contact, Contact.page_id == page.id)
    assert conversations == distinct, "no conversation stored twice"
    # The run's counts are what it wrote: every row of this new organization's Page.
    assert done.created_count == conversations + messages + contacts, (done.status, fired)
    if done.status == "succeeded":
        meta_page = sandbox_server.sandbox.store.page(page.meta_page_id)
        assert meta_page is not None
        assert conversations == len(meta_page.conversations)


async def test_a_run_retried_after_meta_failed_mid_way_counts_each_row_once(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    sandbox = sandbox_server.sandbox
    sandbox.seed({"pages": 1, "instagram_accounts": 0, "conversations_per_page": 60,
                  "ig_conversations_per_page": 0, "messages_per_conversation": 2,
                  "whatsapp_accounts": 0, "posts_per_page": 0})  # fmt: skip
    tenant, page = await connected(sandbox_server, runtime, "retried")
    services = sandbox_server.runtime.services
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=SyncScope.FULL,
            trigger="manual",
        )  # fmt: skip
        await uow.commit()

    async def fail_after_first_chunk() -> None:
        # Once the first 25 conversations are written, Meta fails the next listing call
        # past the client's three retries: the run fails as transient, mid-way.
        while int((await services_run(services, run.id)).details.get("done", 0)) < 25:
            await asyncio.sleep(0.02)
        sandbox.set_faults(
            {"rules": [{"kind": "server_error", "times": 4, "path": "/conversations"}]}
        )

    failing = asyncio.create_task(fail_after_first_chunk())
    with pytest.raises(MetaError):
        await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    await failing
    first = await services_run(services, run.id)
    assert first.created_count > 0, "the failure came after rows were written"
    assert (first.status, first.details["meta_error"]["transient"]) == ("failed", True)
    # Dramatiq's retry runs it again, now that Meta answers.
    done = await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    assert done is not None
    assert done.status == "succeeded"
    async with services.session_factory() as session:
        rows = 0
        for model, where in (
            (Conversation, Conversation.page_id == page.id),
            (Contact, Contact.page_id == page.id),
            (
                Message,
                Message.conversation_id.in_(
                    select(Conversation.id).where(Conversation.page_id == page.id)
                ),
            ),
        ):
            stmt = select(func.count()).select_from(model).where(where)  # type: ignore[arg-type]
            rows += int((await session.execute(stmt)).scalar_one())
    assert done.created_count == rows


async def services_run(services: AppServices, run_id: uuid.UUID) -> SyncRun:
    async with services.session_factory() as session:
        run = await session.get(SyncRun, run_id)
        assert run is not None
        return run
