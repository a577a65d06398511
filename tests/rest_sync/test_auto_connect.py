"""spec/auto-connect.md through HTTP: auto-connect after a Facebook login, and the cron's
incremental sync of every Page (on a database of its own: the cron touches every Page)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from domain.models import Conversation
from migrations.runner import upgrade_engine
from server import build_runtime, close_runtime, create_app
from tests.conftest import create_tenant, free_port, live_server, make_settings
from tests.connections.conftest import SandboxServer
from tests.rest_sync.conftest import SyncApi, running_worker
from tests.sync.test_engine import connected

CRON_SECRET = "rest-sync-cron-secret"
DURATION = re.compile(r"^\d+\.\d{2}s$")


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is True
    return body


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body == {**body, "success": False, "status": status}
    return body


def _sandbox_conversations(server: SandboxServer) -> dict[str, int]:
    return {p["id"]: int(p["conversations"]) for p in server.sandbox.info()["pages"]}


async def test_auto_connect_connects_every_page_and_syncs_each(api: SyncApi) -> None:
    tenant, _ = await api.connected("auto")
    expected = _sandbox_conversations(api.server)

    body = _ok(await api.call("POST", "/api/facebook/auto-connect", tenant))
    assert body["pages"] == body["connected"] == len(expected)
    assert DURATION.match(body["duration"])
    by_page = {r["pageId"]: r for r in body["results"]}
    assert set(by_page) == set(expected)
    for meta_id, result in by_page.items():
        assert result["success"] is True, result
        assert result["status"] == "succeeded"
        assert result["conversations"] == expected[meta_id]
        assert result["error"] is None
    assert body["totalConversations"] == sum(expected.values())

    async with api.runtime.services.session_factory() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.organization_id == tenant.org_id)
        )
    assert stored == sum(expected.values())


async def test_auto_connect_reports_a_failing_page_without_failing_the_others(
    api: SyncApi,
) -> None:
    tenant, page = await api.connected("auto-partial")
    expected = _sandbox_conversations(api.server)
    [other] = [meta_id for meta_id in expected if meta_id != page.meta_page_id]
    # Meta failing every attempt at the other Page's conversations (the Graph client
    # retries 3 times; four faults keep the circuit breaker closed).
    api.server.sandbox.set_faults(
        {"rules": [{"kind": "server_error", "times": 4, "path": f"^/{other}/conversations"}]}
    )
    body = _ok(await api.call("POST", "/api/facebook/auto-connect", tenant))
    api.server.sandbox.clear_faults()

    by_page = {r["pageId"]: r for r in body["results"]}
    assert by_page[page.meta_page_id]["success"] is True
    assert by_page[page.meta_page_id]["conversations"] == expected[page.meta_page_id]
    failed = by_page[other]
    assert failed["success"] is False
    assert failed["status"] == "failed"
    assert "Meta error" in failed["error"]
    assert body["connected"] == 2
    assert body["totalConversations"] == expected[page.meta_page_id]


async def test_auto_connect_refusals(api: SyncApi) -> None:
    _error(await api.call("POST", "/api/facebook/auto-connect", None), 401)

    owner, _ = await api.connected("auto-refused")
    member = await api.member_of(owner)
    forbidden = _error(await api.call("POST", "/api/facebook/auto-connect", member), 403)
    assert "owner or an admin" in forbidden["message"]

    no_login = await create_tenant(api.runtime, "auto-nologin")
    missing = _error(await api.call("POST", "/api/facebook/auto-connect", no_login), 400)
    assert "log in with Facebook" in missing["message"]

    api.server.sandbox.revoke_token(api.server.sandbox.info()["demo_user"]["access_token"])
    revoked = _error(await api.call("POST", "/api/facebook/auto-connect", owner), 401)
    assert revoked["code"] == "REAUTHORIZATION_REQUIRED"


@pytest.fixture
async def isolated(scratch_database_url: str) -> AsyncIterator[SandboxServer]:
    """A sandbox-mode server on a database of its own, with its own cron secret."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(scratch_database_url, CRON_SECRET=CRON_SECRET)
    rt = build_runtime(settings, sandbox=True, public_url=base)
    await upgrade_engine(rt.services.engine)
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with live_server(app, port):
        yield SandboxServer(rt, base)
    await close_runtime(rt)


async def test_cron_syncs_every_page_incrementally(isolated: SandboxServer) -> None:
    rt = isolated.runtime
    await connected(isolated, rt, "cron-a")
    expected = _sandbox_conversations(isolated)
    async with running_worker(rt), httpx.AsyncClient(base_url=isolated.base, timeout=120) as http:
        path = "/api/cron/sync-all-pages"
        _error(await http.get(path), 401)
        _error(await http.get(path, headers={"Authorization": "Bearer wrong"}), 401)
        auth = {"Authorization": f"Bearer {CRON_SECRET}"}

        first = _ok(await http.get(path, headers=auth))
        total = sum(expected.values())
        assert first["message"] == f"Synced {total} conversations across 2 page(s)"
        assert first["pages"] == first["successCount"] == 2
        assert first["totalSynced"] == total
        assert DURATION.match(first["duration"])

        # Incremental: nothing changed on Meta, nothing is read; one new conversation is.
        quiet = _ok(await http.get(path, headers=auth))
        assert (quiet["pages"], quiet["successCount"], quiet["totalSynced"]) == (2, 2, 0)
        page_id = next(iter(expected))
        await isolated.sandbox.simulate_inbound_message(page_id=page_id, person_name="New Visitor")
        after = _ok(await http.get(path, headers=auth))
        assert after["totalSynced"] == 1
        assert after["message"] == "Synced 1 conversations across 2 page(s)"
