"""Keeping connections alive: Meta's 190 flips a connection at once; the daily check reads
debug_token and marks expiring, narrowed or dead tokens, with a notification."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain.models import MetaConnection, Notification, Page
from domain.services.connections import add_meta_token
from domain.services.token_health import check_connection
from graph_client import TokenInvalidError
from server import Runtime
from tasks.actors.connections import CHECK_ONE, deliver_notification
from tasks.broker import start_worker
from tasks.runtime import WorkerContext, install
from tests.conftest import Tenant, create_tenant, free_port, live_server
from tests.connections.conftest import SandboxServer


async def _connect(server: SandboxServer, tenant: Tenant, token: str | None = None) -> str:
    services = server.runtime.services
    token = token or server.sandbox.info()["demo_user"]["access_token"]
    await add_meta_token(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=tenant.org_id,
        user_id=tenant.principal.user_id,
        label="ops",
        token=token,
        now=services.clock.now(),
    )
    return token


async def _connection(runtime: Runtime, tenant: Tenant) -> MetaConnection:
    async with runtime.services.session_factory() as session:
        return (
            await session.execute(
                select(MetaConnection).where(MetaConnection.organization_id == tenant.org_id)
            )
        ).scalar_one()


async def test_revoked_token_flips_connection_on_next_call_and_health_degrades(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "revoked")
    token = await _connect(sandbox_server, tenant)
    assert (await _connection(runtime, tenant)).status == "active"

    sandbox_server.sandbox.revoke_token(token)
    with pytest.raises(TokenInvalidError):
        await sandbox_server.runtime.graph.me(token)

    conn = await _connection(runtime, tenant)
    assert conn.status == "reauthorization_required"
    assert conn.status_reason
    async with runtime.services.session_factory() as session:
        pages = (
            (await session.execute(select(Page).where(Page.organization_id == tenant.org_id)))
            .scalars()
            .all()
        )
        notes = (
            (
                await session.execute(
                    select(Notification).where(Notification.organization_id == tenant.org_id)
                )
            )
            .scalars()
            .all()
        )
    assert pages
    assert {p.status for p in pages} == {"reauthorization_required"}
    assert len(notes) == 1
    assert token not in notes[0].message

    async with sandbox_server.client() as client:
        health = (await client.get("/api/health")).json()
    assert health["status"] == "degraded"
    assert health["checks"]["tokenExpiration"]["status"] == "warning"
    assert health["checks"]["tokenExpiration"]["reauthorizationRequired"] >= 1


async def test_other_errors_never_flip_the_connection(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "other-errors")
    token = await _connect(sandbox_server, tenant)
    with pytest.raises(Exception, match="100"):
        await sandbox_server.runtime.graph.get_page("735861175962383", token, ("no_such_field",))
    assert (await _connection(runtime, tenant)).status == "active"


async def _check(server: SandboxServer, tenant: Tenant) -> MetaConnection:
    services = server.runtime.services
    async with services.uow() as uow:
        conn = (
            await uow.session.execute(
                select(MetaConnection).where(MetaConnection.organization_id == tenant.org_id)
            )
        ).scalar_one()
        await check_connection(
            uow, services.meta, services.vault, conn, services.clock.now(), notify=False
        )
        await uow.commit()
    return conn


async def test_daily_check_marks_lost_scopes_and_dead_tokens(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    healthy = await create_tenant(runtime, "healthy")
    await _connect(sandbox_server, healthy)
    assert (await _check(sandbox_server, healthy)).status == "active"

    # A permission the person later removed in Facebook's settings.
    narrowed = await create_tenant(runtime, "narrowed")
    await _connect(sandbox_server, narrowed)
    async with runtime.services.uow() as uow:
        conn = (
            await uow.session.execute(
                select(MetaConnection).where(MetaConnection.organization_id == narrowed.org_id)
            )
        ).scalar_one()
        conn.scopes = [*conn.scopes, "ads_management"]
        await uow.commit()
    checked = await _check(sandbox_server, narrowed)
    assert checked.status == "reauthorization_required"
    assert "ads_management" in (checked.status_reason or "")

    # A token Meta no longer accepts.
    dead = await create_tenant(runtime, "dead")
    fresh = sandbox_server.sandbox.issue_user_token(long_lived=True)
    await _connect(sandbox_server, dead, token=fresh)
    sandbox_server.sandbox.revoke_token(fresh)
    assert (await _check(sandbox_server, dead)).status == "invalid"


async def test_daily_check_flags_tokens_near_expiry(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "expiring")
    await _connect(sandbox_server, tenant)
    # Long-lived user tokens last ~60 days and Meta cannot extend them: 55 days on, the
    # person must log in again within the week.
    sandbox_server.sandbox.advance_clock(timedelta(days=55).total_seconds())
    services = sandbox_server.runtime.services
    real_now = services.clock.now
    services.clock.now = lambda: real_now() + timedelta(days=55)  # type: ignore[method-assign]
    try:
        conn = await _check(sandbox_server, tenant)
    finally:
        services.clock.now = real_now  # type: ignore[method-assign]
    assert conn.status == "reauthorization_required"
    assert "expires" in (conn.status_reason or "")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    port = free_port()
    async with live_server(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), port):
        yield f"http://127.0.0.1:{port}/hook", received


async def test_notifications_are_delivered_to_the_notify_webhook(
    sandbox_server: SandboxServer,
    runtime: Runtime,
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = receiver
    tenant = await create_tenant(runtime, "notify")
    token = await _connect(sandbox_server, tenant)
    sandbox_server.sandbox.revoke_token(token)
    with pytest.raises(TokenInvalidError):
        await sandbox_server.runtime.graph.me(token)
    async with runtime.services.session_factory() as session:
        note = (
            await session.execute(
                select(Notification).where(Notification.organization_id == tenant.org_id)
            )
        ).scalar_one()
    services = sandbox_server.runtime.services
    context = WorkerContext(
        session_factory=services.session_factory,
        jobs=services.jobs,
        bus=services.bus,
        vault=services.vault,
        meta=services.meta,
        clock=services.clock,
        notify_webhook_url=url,
    )
    install(lambda: context)
    await deliver_notification(str(note.id))
    await asyncio.sleep(0)
    assert len(received) == 1
    assert received[0]["id"] == str(note.id)
    assert received[0]["organizationId"] == str(tenant.org_id)
    assert token not in str(received[0])
    async with runtime.services.session_factory() as session:
        delivered = await session.get(Notification, uuid.UUID(received[0]["id"]))
    assert delivered is not None
    assert delivered.delivered_at is not None


async def test_check_runs_on_a_real_worker(sandbox_server: SandboxServer, runtime: Runtime) -> None:
    """The daily job through the broker and a Dramatiq worker on its own event loop."""
    tenant = await create_tenant(runtime, "worker")
    token = await _connect(sandbox_server, tenant)
    sandbox_server.sandbox.revoke_token(token)
    rt = sandbox_server.runtime
    # Re-install the server's own per-loop factory (another test may have replaced it).
    assert rt.worker_context is not None
    install(rt.worker_context)
    rt.services.jobs.enqueue(CHECK_ONE, connection_id=str((await _connection(runtime, tenant)).id))
    worker = start_worker(rt.broker)
    try:
        await asyncio.to_thread(rt.broker.join, "default", timeout=20_000)
    finally:
        await asyncio.to_thread(worker.stop)
    assert (await _connection(runtime, tenant)).status == "invalid"
