"""Done when (issue 6): a message simulated in the sandbox arrives through a signed webhook
and appears on `conversationEvents` over a real WebSocket, and in GraphQL."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from schema.scalars import encode_global_id
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected

SUBSCRIPTION = """
subscription($pageId: ID!) {
  conversationEvents(pageId: $pageId) {
    type
    conversation { metaConversationId snippet unreadCount }
    message { text direction }
  }
}
"""


async def test_simulated_message_reaches_the_subscription(
    sandbox_server: SandboxServer, runtime: Runtime, worker: None
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "live")
    url = sandbox_server.base.replace("http://", "ws://") + "/graphql"
    token = sandbox_server.headers(tenant)["Authorization"]
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": SUBSCRIPTION,
                        "variables": {"pageId": encode_global_id("Page", page.id)},
                    },
                }
            )
        )
        await asyncio.sleep(0.3)  # the subscription is registered on the bus
        await sandbox_server.sandbox.simulate_inbound_message(
            page_id=page.meta_page_id, text="Are you open today?"
        )
        await sandbox_server.sandbox.flush_webhooks()
        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
    assert message["type"] == "next", message
    event = message["payload"]["data"]["conversationEvents"]
    assert event["type"] == "message"
    assert event["message"] == {"text": "Are you open today?", "direction": "INBOUND"}
    assert event["conversation"]["snippet"] == "Are you open today?"
    assert event["conversation"]["unreadCount"] >= 1


async def test_another_organizations_page_streams_nothing(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    owner, page = await connected(sandbox_server, runtime, "live-owner")
    stranger, _ = await connected(sandbox_server, runtime, "live-stranger")
    url = sandbox_server.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": sandbox_server.headers(stranger)["Authorization"]},
                }
            )
        )
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": SUBSCRIPTION,
                        "variables": {"pageId": encode_global_id("Page", page.id)},
                    },
                }
            )
        )
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["type"] in ("error", "next")
    assert "data" not in reply.get("payload", {}) or reply["payload"]["data"] is None
    assert owner.org_id != stranger.org_id
