"""Operators' GraphQL view of webhook deliveries: listed per organization, replayable."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from server import Runtime
from tests.conftest import Tenant, add_member, create_tenant
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.webhooks.test_receiver import signed

EVENTS = """
query($status: WebhookEventStatus) {
  webhookEvents(status: $status, first: 50) {
    totalCount edges { node { object status attempts metaIds receivedAt } }
  }
}
"""
REPLAY = """
mutation($status: WebhookEventStatus) {
  replayWebhookEvents(status: $status) {
    __typename ... on ReplayStarted { queued } ... on Error { message }
  }
}
"""


async def test_deliveries_are_listed_for_their_organization_and_replayable(
    sandbox_server: SandboxServer, runtime: Runtime, worker: None
) -> None:
    owner, page = await connected(sandbox_server, runtime, "ops")
    # Another organization, not managing this Page.
    stranger = await create_tenant(runtime, "ops-stranger")
    mid = f"m_{uuid.uuid4().hex}"
    body = json.dumps(
        {"object": "page", "entry": [{"id": page.meta_page_id, "time": 1700000000000,
         "messaging": [{"sender": {"id": "4242"}, "recipient": {"id": page.meta_page_id},
                        "timestamp": 1700000000000, "message": {"mid": mid, "text": "hi"}}]}]}
    ).encode()  # fmt: skip
    async with sandbox_server.client() as client:
        assert (
            await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
        ).status_code == 200

        async def listed(tenant: Tenant, status: str | None = None) -> list[dict[str, Any]]:
            response = await client.post(
                "/graphql",
                json={"query": EVENTS, "variables": {"status": status}},
                headers=sandbox_server.headers(tenant),
            )
            data = response.json()["data"]["webhookEvents"]
            return [e["node"] for e in data["edges"]]

        for _ in range(100):
            mine = [e for e in await listed(owner, "PROCESSED") if mid in e["metaIds"]]
            if mine:
                break
            await asyncio.sleep(0.1)
        assert len(mine) == 1
        assert mine[0]["object"] == "page"
        assert not [e for e in await listed(stranger) if mid in e["metaIds"]]

        member = await add_member(runtime, owner)
        refused = await client.post(
            "/graphql", json={"query": EVENTS}, headers=sandbox_server.headers(member)
        )
        assert refused.json()["data"] is None
        assert "role" in refused.json()["errors"][0]["message"]

        replay = await client.post(
            "/graphql",
            json={"query": REPLAY, "variables": {"status": "PROCESSED"}},
            headers=sandbox_server.headers(owner),
        )
        result = replay.json()["data"]["replayWebhookEvents"]
    assert result["__typename"] == "ReplayStarted"
    assert result["queued"] >= 1
