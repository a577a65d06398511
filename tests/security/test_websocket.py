"""graphql-transport-ws over a real socket (issue #9, item 9): auth in connection_init, the
legacy graphql-ws protocol refused, a foreign Origin refused, subscriptions per connection
capped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from resolvers.graphql.view import MAX_SUBSCRIPTIONS_PER_CONNECTION
from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import Tenant, live_server
from tests.factories import seed_pages

PROTOCOL = "graphql-transport-ws"


@pytest.fixture
async def server(app: Starlette) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


async def _init(ws: ClientConnection, payload: dict[str, str]) -> dict[str, object]:
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    reply: dict[str, object] = json.loads(await ws.recv())
    return reply


async def test_query_over_websocket_with_token(server: str, tenant: Tenant) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        assert await _init(ws, {"Authorization": f"Bearer {tenant.token}"}) == {
            "type": "connection_ack"
        }
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { email } }"}}
            )
        )
        message = json.loads(await ws.recv())
        assert message["type"] == "next"
        assert message["payload"]["data"]["viewer"]["email"] == tenant.principal.email
        assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}


@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer nope"}])
async def test_connection_init_without_valid_token_is_closed_4403(
    server: str, payload: dict[str, str]
) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_legacy_graphql_ws_protocol_is_refused(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406


async def test_foreign_origin_is_refused_and_configured_origin_allowed(
    server: str, tenant: Tenant
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"ws://{server}/graphql",
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            origin="http://evil.example",  # type: ignore[arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403
    async with connect(
        f"ws://{server}/graphql",
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        origin="http://frontend.test",  # type: ignore[arg-type]
    ) as ws:
        assert (await _init(ws, {"Authorization": f"Bearer {tenant.token}"}))["type"] == (
            "connection_ack"
        )


async def test_subscriptions_per_connection_are_capped(
    server: str, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = encode_global_id("Page", seeded.page.id)
    query = "subscription($p: ID!) { conversationEvents(pageId: $p) { __typename } }"

    async def subscribe(ws: ClientConnection, n: int) -> None:
        payload = {"query": query, "variables": {"p": page_id}}
        await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))

    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        assert (await _init(ws, {"Authorization": f"Bearer {tenant.token}"}))["type"] == (
            "connection_ack"
        )
        for n in range(1, MAX_SUBSCRIPTIONS_PER_CONNECTION + 1):
            await subscribe(ws, n)
        await subscribe(ws, 99)
        refused = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        assert refused == {
            "id": "99",
            "type": "error",
            "payload": [{"message": "Subscription limit reached"}],
        }
        # Ending one frees its slot.
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        await asyncio.sleep(0.2)
        await subscribe(ws, 100)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), timeout=1)
