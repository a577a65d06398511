"""No Meta token in any response or log line (issue #9, item 10).

Representative flows run against the sandbox with the real log configuration (structlog's JSON
lines, redaction included) writing to a buffer: connecting (a pasted token, the meta-module
verify-user shim), reading every account surface, syncing, publishing, and Meta failing —
including errors that quote the caller's token back and a revoked token. Afterwards no token
the sandbox ever issued (user and Page tokens) appears in any response or log line, and no
``access_token=`` carries a value.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import graphql
import httpx
import pytest
import structlog

from domain.models import SyncRun
from domain.services.sync.engine import execute_run
from domain.services.sync.runs import SyncScope, start_sync
from resolvers.log_config import configure_logging
from schema import build_schema
from tests.security.test_isolation_graphql import selection
from tests.security.world import World
from tests.sync.test_engine import sync

# The log redaction writes [redacted]; the Graph client's error redaction REDACTED.
ACCESS_TOKEN_VALUE = re.compile(r"access_token=(?!\[redacted\]|REDACTED)[^&\s\"'\\]+")
ECHO_FAULT = {"rules": [{"kind": "server_error", "body": "echo", "status": 400}]}


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """The production log configuration, writing to a buffer; the previous one restored."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.configure(**config)
        root.handlers, root.level = handlers, level


class Recorder:
    """Every response the flows get, as text (status line, headers and body)."""

    def __init__(self, http: httpx.AsyncClient, world: World) -> None:
        self.http, self.world = http, world
        self.seen: list[str] = []
        schema = graphql.build_schema(build_schema(production=False).as_str())
        self.leaves = {name: selection(schema, t) for name, t in schema.type_map.items()}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.world.owner.token}"}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        self.seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.call(
            "POST", "/graphql", json={"query": query, "variables": variables or {}}
        )
        return response.json()

    def nodes(self, field: str, type_name: str) -> str:
        return f"{{ {field}(first: 50) {{ edges {{ node {self.leaves[type_name]} }} }} }}"


@pytest.fixture
async def recorder(http: httpx.AsyncClient, world: World) -> AsyncIterator[Recorder]:
    yield Recorder(http, world)
    world.server.sandbox.clear_faults()


async def _sync_failing(world: World, scope: SyncScope) -> None:
    """A sync Meta refuses: the run fails with Meta's reason (stored, and shown by the API)."""
    services = world.server.runtime.services
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=world.owner.org_id, page_id=world.page.id, scope=scope,
            trigger="manual",
        )  # fmt: skip
        await uow.commit()
    await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    async with services.session_factory() as session:
        failed = await session.get(SyncRun, run.id)
        assert failed is not None
        assert failed.status == "failed", failed.error


async def _read_everything(r: Recorder) -> None:
    for field, type_name in (
        ("metaConnections", "MetaConnection"),
        ("pages", "Page"),
        ("instagramAccounts", "InstagramAccount"),
        ("whatsappAccounts", "WhatsAppAccount"),
        ("syncRuns", "SyncRun"),
        ("webhookEvents", "WebhookEvent"),
    ):
        body = await r.gql(r.nodes(field, type_name))
        assert "errors" not in body, body
    await r.gql(f"{{ connectionHealth {r.leaves['ConnectionHealth']} }}")
    for path in (
        "/api/meta/auth/status",
        "/api/social/accounts",
        "/api/meta/pages/",
        "/api/meta/facebook/pages",
        "/api/meta/instagram/accounts",
        "/api/meta/whatsapp/account",
        "/api/meta/webhook",
        "/api/health",
    ):
        await r.call("GET", path)


async def test_no_meta_token_in_any_response_or_log_line(recorder: Recorder, world: World) -> None:
    r, sandbox = recorder, world.server.sandbox
    demo_token = sandbox.info()["demo_user"]["access_token"]
    page = world.page
    with captured_logs() as logs:
        # Connecting: a pasted token (GraphQL) and the meta-module shim.
        added = await r.gql(
            'mutation($t: String!) { addMetaToken(label: "pasted", token: $t) { __typename } }',
            {"t": demo_token},
        )
        assert added["data"]["addMetaToken"]["__typename"] == "MetaConnectSuccess", added
        verified = await r.call(
            "POST",
            "/api/meta/verify-user/",
            json={"access_token": demo_token, "account_label": "v"},
        )
        assert verified.status_code == 200, verified.text
        await _read_everything(r)
        # Syncing and publishing.
        await sync(world.server, world.owner, page, SyncScope.CONTACTS)
        posted = await r.call(
            "POST", "/api/meta/facebook/posts", json={"pageId": str(page.id), "message": "hi"}
        )
        assert posted.status_code == 200, posted.text
        await r.call("GET", "/api/meta/facebook/posts", params={"pageId": str(page.id)})

        # Meta failing with errors that quote the token back.
        sandbox.set_faults(ECHO_FAULT)
        failed = await r.call(
            "POST", "/api/meta/facebook/posts", json={"pageId": str(page.id), "message": "again"}
        )
        assert failed.status_code >= 400
        await r.call("GET", "/api/meta/facebook/posts", params={"pageId": str(page.id)})
        await r.call(
            "POST",
            "/api/meta/verify-user/",
            json={"access_token": demo_token, "account_label": "w"},
        )
        connection = await world.get("meta_connection")
        await r.call(
            "POST", "/api/meta/auth/refresh-token", json={"accountId": str(connection.row_id)}
        )
        await r.gql(
            'mutation($t: String!) { addMetaToken(label: "echo", token: $t) { __typename '
            "... on Error { message } ... on MetaApiError { message } } }",
            {"t": demo_token},
        )
        await _sync_failing(world, SyncScope.DETAILS)
        await r.call("GET", f"/api/facebook/pages/{page.id}/sync-status")
        await r.call(
            "PUT", f"/api/facebook/pages/{page.id}/update-to-facebook", json={"about": "x"}
        )
        await _read_everything(r)
        sandbox.clear_faults()

        # A token Meta revoked (190 on every call).
        sandbox.revoke_token(demo_token)
        await _sync_failing(world, SyncScope.DETAILS)
        await r.call(
            "POST", "/api/meta/auth/refresh-token", json={"accountId": str(connection.row_id)}
        )
        await _read_everything(r)
        logged = logs.getvalue()

    assert logged.count("\n") > 20, "the flows logged suspiciously little"
    tokens = {value for value in sandbox.store.tokens if len(value) > 8} | {demo_token}
    assert len(tokens) > 2  # the login and its Pages' tokens at least
    for name, text in (("logs", logged), *((f"response {i}", t) for i, t in enumerate(r.seen))):
        leaked = [t[:12] + "..." for t in tokens if t in text]
        assert not leaked, f"{name} carries Meta tokens {leaked}: {text[:500]}"
        assert not ACCESS_TOKEN_VALUE.search(text), f"{name}: {text[:500]}"
