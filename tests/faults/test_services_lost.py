"""Redis restarted (empty) while deliveries arrive, and PostgreSQL connections dropped under
load: every delivery is acknowledged (after Meta-style retries of refused ones), stored and
applied exactly once; /api/health shows the outage while it lasts."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select, text

from domain.database import create_engine
from domain.models import Conversation, Message, WebhookEvent
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


async def _deliveries(sandbox_server: SandboxServer, runtime: Runtime, label: str, n: int):  # type: ignore[no-untyped-def]
    tenant, page = await connected(sandbox_server, runtime, label)
    people = sandbox_people(sandbox_server, page.meta_page_id)
    start = int(time.time() * 1000) - 3_600_000
    bodies = [
        messenger_message(page.meta_page_id, people[i % len(people)], start + i * 10)
        for i in range(n)
    ]
    return tenant, page, bodies


async def _exactly_once(
    runtime: Runtime, cluster: Cluster, page_id: object, bodies: list[bytes]
) -> None:
    async def all_applied() -> bool:
        async with runtime.services.session_factory() as session:
            stored = (
                await session.execute(
                    select(WebhookEvent.status, func.count())
                    .where(WebhookEvent.raw_body.in_(bodies))
                    .group_by(WebhookEvent.status)
                )
            ).all()
        return dict(stored) == {"processed": len(bodies)}

    await eventually(all_applied, within=120, what=f"every delivery applied\n{cluster.logs()}")
    async with runtime.services.session_factory() as session:
        rows = (
            await session.execute(
                select(Conversation.unread_count, func.count(Message.id))
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Conversation.page_id == page_id)
                .group_by(Conversation.id)
            )
        ).all()
    assert sum(n for _, n in rows) == len(bodies)
    assert all(unread == n for unread, n in rows), rows


async def test_redis_restarted_while_deliveries_arrive(
    cluster: Cluster, sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page, bodies = await _deliveries(sandbox_server, runtime, "redisgone", 160)
    api = await cluster.api()
    cluster.worker()
    cluster.scheduler()
    statuses: list[int] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for i, body in enumerate(bodies):
            if i == len(bodies) // 3:
                cluster.redis.kill()  # queued jobs are gone with it
                health = await client.get(f"{api}/api/health")
                assert health.status_code == 200
                assert health.json()["status"] == "degraded"
                assert health.json()["checks"]["redis"]["status"] == "error"
            if i == 2 * len(bodies) // 3:
                cluster.redis.start()
            statuses += await post_until_accepted(client, f"{api}/webhooks/meta", body)
        # Redis down never costs Meta a retry: the delivery is stored and acknowledged.
        assert set(statuses) == {200}
        await _exactly_once(runtime, cluster, page.id, bodies)
        health = (await client.get(f"{api}/api/health")).json()
    assert health["checks"]["redis"] == {"status": "ok"}
    assert health["checks"]["webhookInbox"]["status"] == "ok"


async def test_postgres_connections_dropped_under_load(
    cluster: Cluster, sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page, bodies = await _deliveries(sandbox_server, runtime, "pgdrop", 160)
    api = await cluster.api()
    cluster.worker()
    cluster.scheduler()
    admin = create_engine(runtime.settings.DATABASE_URL)
    dropped = 0

    async def drop_connections() -> None:
        nonlocal dropped
        # Only this test database's backends, never anyone else's; not this one.
        while True:
            await asyncio.sleep(0.7)
            async with admin.connect() as conn:
                result = await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                dropped += len(result.all())
                await conn.commit()

    chaos = asyncio.create_task(drop_connections())
    statuses: list[int] = []
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for body in bodies:
                statuses += await post_until_accepted(client, f"{api}/webhooks/meta", body)
    finally:
        chaos.cancel()
        await asyncio.gather(chaos, return_exceptions=True)
        await admin.dispose()
    assert dropped > 0
    # A request caught by a dropped connection fails cleanly (a 5xx Meta retries), never hangs.
    assert set(statuses) <= {200, 500, 503}, statuses
    await _exactly_once(runtime, cluster, page.id, bodies)
