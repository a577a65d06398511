"""`python server.py --sandbox`: the fake Meta mounted at /sandbox, the Graph client pointed
at it, the demo dataset seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from graph_client import TokenInvalidError
from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import make_settings


@pytest.fixture
async def sandbox_runtime(runtime: Runtime) -> AsyncIterator[Runtime]:
    # Shares the session's (migrated) database; its own sandbox, Graph client and broker.
    runtime = build_runtime(
        make_settings(runtime.settings.DATABASE_URL),
        sandbox=True,
        public_url="http://metasync.test",
    )
    yield runtime
    await close_runtime(runtime)


@pytest.fixture
async def sandbox_client(sandbox_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(sandbox_runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
    ) as client:
        yield client


async def test_control_info_names_urls_app_and_demo_token(
    sandbox_client: httpx.AsyncClient, sandbox_runtime: Runtime
) -> None:
    info = (await sandbox_client.get("/sandbox/_control/info")).json()
    assert info["app_id"] == sandbox_runtime.settings.META_APP_ID
    assert info["graph_url"] == "http://metasync.test/sandbox"
    assert info["dialog_url"].startswith("http://metasync.test/sandbox/")
    assert info["demo_user"]["access_token"].startswith("EAA")
    assert len(info["pages"]) >= 2
    assert any(p["instagram_business_account"] for p in info["pages"])
    assert info["whatsapp_business_accounts"][0]["templates"]


async def test_graph_client_reaches_the_sandbox_and_sees_revocation(
    sandbox_runtime: Runtime,
) -> None:
    assert sandbox_runtime.sandbox is not None
    token = sandbox_runtime.sandbox.info()["demo_user"]["access_token"]
    me = await sandbox_runtime.graph.me(token)
    assert me["name"] == "Dana Demo"
    pages = [p async for p in sandbox_runtime.graph.me_accounts(token)]
    assert pages
    sandbox_runtime.sandbox.revoke_token(token)
    with pytest.raises(TokenInvalidError) as info:
        await sandbox_runtime.graph.me(token)
    assert info.value.code == 190
    assert token not in str(info.value)


async def test_dialog_redirects_with_code_and_state(
    sandbox_client: httpx.AsyncClient, sandbox_runtime: Runtime
) -> None:
    response = await sandbox_client.get(
        "/sandbox/dialog/oauth",
        params={
            "client_id": sandbox_runtime.settings.META_APP_ID,
            "redirect_uri": "http://metasync.test/auth/meta/callback",
            "state": "s-123",
            "scope": "pages_show_list",
        },
    )
    assert response.status_code in (302, 303)
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert location.path == "/auth/meta/callback"
    assert query["state"] == ["s-123"]
    assert query["code"][0]


async def test_health_reports_the_graph_circuit_breakers(
    sandbox_client: httpx.AsyncClient, sandbox_runtime: Runtime
) -> None:
    assert sandbox_runtime.sandbox is not None
    await sandbox_runtime.graph.me(sandbox_runtime.sandbox.info()["demo_user"]["access_token"])
    body = (await sandbox_client.get("/api/health")).json()
    graph = body["checks"]["graphApi"]
    assert graph["status"] == "ok"
    assert set(graph["circuitBreakers"].values()) == {"closed"}
