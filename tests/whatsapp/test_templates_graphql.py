"""Done when (issue 8): a template created through the REST shim goes PENDING → APPROVED,
seen in GraphQL and on `templateStatus`; a rejected one shows Meta's reason."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from schema.scalars import encode_global_id
from tests.conftest import gql
from tests.whatsapp.conftest import DEMO_WABA, WhatsAppApi
from tests.whatsapp.test_templates_rest import _data, _reviewed, _template

TEMPLATE_STATUS = """subscription($waba: ID!) {
  templateStatus(wabaId: $waba) { name status rejectedReason }
}"""


async def _subscribe(wa: WhatsAppApi) -> ClientConnection:
    url = wa.server.base.replace("http://", "ws://") + "/graphql"
    ws = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    auth = wa.server.headers(wa.tenant)["Authorization"]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": auth}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": TEMPLATE_STATUS, "variables": {"waba": DEMO_WABA}}}))  # fmt: skip
    return ws


async def _until(
    ws: ClientConnection, seen: dict[tuple[str, str], dict[str, Any]], name: str, status: str
) -> dict[str, Any]:
    """The event for ``name`` reaching ``status``; events for others are kept in ``seen``
    (the review outcomes of two templates arrive in either order)."""
    while (name, status) not in seen:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert message["type"] == "next", message
        template: dict[str, Any] = message["payload"]["data"]["templateStatus"]
        seen[(template["name"], template["status"])] = template
    return seen[(name, status)]


async def test_review_is_seen_in_graphql_and_on_template_status(
    wa: WhatsAppApi, worker: None
) -> None:
    ws = await _subscribe(wa)
    try:
        await asyncio.sleep(0.3)  # subscribed on the bus
        for name in ("order_ready", "promo_reject_later"):
            _data(await wa.call("POST", "/api/meta/whatsapp/templates", _template(name)))
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        assert (await _until(ws, seen, "order_ready", "PENDING"))["rejectedReason"] is None
        await _reviewed(wa, "order_ready", "APPROVED")
        await _reviewed(wa, "promo_reject_later", "REJECTED")
        assert await _until(ws, seen, "order_ready", "APPROVED")
        rejected = await _until(ws, seen, "promo_reject_later", "REJECTED")
        assert rejected["rejectedReason"] == "INVALID_FORMAT"
    finally:
        await ws.close()

    account = await wa.account()
    query = """query($id: ID!) { node(id: $id) { ... on WhatsAppAccount {
        templates(first: 50) { totalCount edges { node { id name status rejectedReason } } }
        approved: templates(status: [APPROVED]) { edges { node { name } } } } } }"""
    body = await gql(wa.http, query, wa.server_tenant(), {"id": encode_global_id(
        "WhatsAppAccount", account.id)})  # fmt: skip
    node = body["data"]["node"]
    by_name = {e["node"]["name"]: e["node"] for e in node["templates"]["edges"]}
    assert by_name["order_ready"]["status"] == "APPROVED"
    assert by_name["promo_reject_later"]["rejectedReason"] == "INVALID_FORMAT"
    assert "order_ready" in {e["node"]["name"] for e in node["approved"]["edges"]}
    one = await gql(
        wa.http,
        "query($id: ID!) { template(id: $id) { name status } }",
        wa.server_tenant(),
        {"id": by_name["order_ready"]["id"]},
    )
    assert one["data"]["template"] == {"name": "order_ready", "status": "APPROVED"}


CREATE = """mutation($waba: String!, $input: TemplateInput!) {
  createTemplate(wabaId: $waba, input: $input) {
    __typename
    ... on TemplateSuccess { template { name status } }
    ... on ValidationError { fields { field } }
  }
}"""
SYNC = """mutation($waba: String!) {
  syncTemplates(wabaId: $waba) { __typename ... on TemplatesSynced { unchanged } }
}"""


async def test_template_mutations_answer_errors_as_data(wa: WhatsAppApi) -> None:
    tenant = wa.server_tenant()
    good = await gql(wa.http, CREATE, tenant, {"waba": DEMO_WABA, "input": _template("gql_made")})
    assert good["data"]["createTemplate"] == {
        "__typename": "TemplateSuccess",
        "template": {"name": "gql_made", "status": "PENDING"},
    }
    bad = await gql(wa.http, CREATE, tenant, {"waba": DEMO_WABA, "input": _template("Bad Name!")})
    assert bad["data"]["createTemplate"]["__typename"] == "ValidationError"
    assert bad["data"]["createTemplate"]["fields"][0]["field"] == "name"
    synced = await gql(wa.http, SYNC, tenant, {"waba": DEMO_WABA})
    assert synced["data"]["syncTemplates"]["__typename"] == "TemplatesSynced"


async def test_metrics_in_graphql(wa: WhatsAppApi) -> None:
    account = await wa.account()
    end = wa.server.runtime.services.clock.now()
    query = """query($id: ID!, $start: DateTime!, $end: DateTime!) { node(id: $id) {
      ... on WhatsAppAccount { metrics(start: $start, end: $end) {
        totalSent totalDelivered deliveryRate unavailable sent { at value } } } } }"""
    variables = {
        "id": encode_global_id("WhatsAppAccount", account.id),
        "start": (end - timedelta(days=7)).isoformat(),
        "end": end.isoformat(),
    }
    body = await gql(wa.http, query, wa.server_tenant(), variables)
    metrics = body["data"]["node"]["metrics"]
    assert metrics["unavailable"] == ["read"]
    assert metrics["totalSent"] == sum(p["value"] for p in metrics["sent"])
    assert metrics["totalDelivered"] <= metrics["totalSent"]
    backwards = await gql(
        wa.http, query, wa.server_tenant(), {**variables, "end": variables["start"]}
    )
    assert "endDate" in backwards["errors"][0]["message"]
