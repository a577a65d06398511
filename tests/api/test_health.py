"""/health and /api/health: the shape of spec/auto-connect.md, with a real database check."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from domain.models import ConnectionStatus, MetaConnection
from server import Runtime, build_runtime, create_app
from tests.conftest import Tenant, make_settings
from tests.factories import seed_pages

CHECKS = {"database", "facebookPages", "tokenExpiration", "conversations", "sync"}


async def test_health_has_the_documented_shape_without_auth(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await seed_pages(runtime, tenant.org_id, pages=2, conversations=3, messages=0)
    for path in ("/health", "/api/health"):
        response = await client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] in ("healthy", "degraded")
        assert set(body["checks"]) >= CHECKS
        assert body["checks"]["database"] == {"status": "ok"}
        assert body["checks"]["facebookPages"]["count"] >= 2
        assert body["checks"]["conversations"]["count"] >= 6


async def test_expiring_token_degrades_health(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    async with runtime.services.uow() as uow:
        uow.session.add(
            MetaConnection(
                id=uuid.uuid4(),
                organization_id=tenant.org_id,
                label=f"expiring-{uuid.uuid4().hex[:6]}",
                status=ConnectionStatus.ACTIVE.value,
                expires_at=runtime.services.clock.now() + timedelta(days=1),
            )
        )
        await uow.commit()
    body = (await client.get("/api/health")).json()
    assert body["status"] == "degraded"
    assert body["checks"]["tokenExpiration"]["status"] == "warning"
    assert body["checks"]["tokenExpiration"]["expiringSoon"] >= 1


async def test_unreachable_database_is_unhealthy_503(tmp_path: object) -> None:
    # A database that cannot be opened: the check runs for real and fails.
    settings = make_settings("sqlite+aiosqlite:////nonexistent-dir/metasync.db", REDIS_URL=None)
    runtime = build_runtime(settings)
    app = create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
    ) as client:
        response = await client.get("/api/health")
    await runtime.services.engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "error"
