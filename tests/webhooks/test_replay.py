"""`python server.py replay-webhooks`: stored deliveries applied again, idempotently."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from domain.models import Message, WebhookEvent
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.test_cli import run_cli
from tests.webhooks.test_receiver import signed


async def test_replay_applies_what_was_stored_but_never_processed(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "replay")
    mid = f"m_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": page.meta_page_id,
                    "time": 1700000000000,
                    "messaging": [
                        {
                            "sender": {"id": "9990001"},
                            "recipient": {"id": page.meta_page_id},
                            "timestamp": 1700000000000,
                            "message": {"mid": mid, "text": "stored while the broker was down"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    started = datetime.now(UTC) - timedelta(seconds=1)
    async with sandbox_server.client() as client:
        response = await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
    assert response.status_code == 200  # stored; no worker runs here, so it waits

    async def copies() -> int:
        async with runtime.services.session_factory() as session:
            stmt = (
                select(func.count())
                .select_from(Message)
                .where(Message.meta_message_id == mid, Message.organization_id == tenant.org_id)
            )
            return int((await session.execute(stmt)).scalar_one())

    assert await copies() == 0
    env = {"DATABASE_URL": runtime.settings.DATABASE_URL}
    since = started.isoformat()
    result = await asyncio.to_thread(
        run_cli, "replay-webhooks", "--status", "received", "--since", since, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "replayed" in result.stdout
    assert "processed" in result.stdout
    assert await copies() == 1
    # Replaying everything again (processed included) changes nothing.
    again = await asyncio.to_thread(run_cli, "replay-webhooks", "--since", since, env=env)
    assert again.returncode == 0, again.stderr
    assert await copies() == 1
    async with runtime.services.session_factory() as session:
        statuses = (
            (
                await session.execute(
                    select(WebhookEvent.status).where(WebhookEvent.received_at >= started)
                )
            )
            .scalars()
            .all()
        )
    assert "received" not in statuses
    bad = await asyncio.to_thread(run_cli, "replay-webhooks", "--status", "weird", env=env)
    assert bad.returncode != 0
    assert "status" in bad.stderr
