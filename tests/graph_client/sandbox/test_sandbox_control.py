"""The control API over HTTP (what demos and frontend developers use)."""

from __future__ import annotations

from typing import Any

import httpx
from sandbox_helpers import Graph, Receiver, subscribe_everything

from graph_client.sandbox import Sandbox


async def test_info_seed_and_reset(http: httpx.AsyncClient, graph: Graph) -> None:
    info = (await http.get("/_control/info")).json()
    assert info["graph_url"] == "http://testserver/sandbox"
    seeded = (await http.post("/_control/seed", json={"seed": 5, "pages": 3})).json()
    assert len(seeded["pages"]) == 3
    again = (await http.post("/_control/seed", json={"seed": 5, "pages": 3})).json()
    assert again["demo_user"] == seeded["demo_user"]
    bad = await http.post("/_control/seed", json={"pagez": 3})
    assert bad.status_code == 400
    assert "pagez" in bad.json()["error"]
    demo = (await http.post("/_control/seed", json={"preset": "demo"})).json()
    assert demo["demo_user"]["access_token"] == info["demo_user"]["access_token"]
    await http.post("/_control/reset")
    assert (await http.get("/_control/info")).json()["pages"] == []
    me = await graph.get("/v25.0/me", token=demo["demo_user"]["access_token"])
    assert me.json()["error"]["code"] == 190


async def test_tokens(http: httpx.AsyncClient, graph: Graph) -> None:
    token = (await http.post("/_control/tokens/issue", json={"long_lived": False})).json()
    value = token["access_token"]
    assert (await graph.get("/v25.0/me", token=value)).status_code == 200
    await http.post("/_control/tokens/expire", json={"token": value})
    assert (await graph.get("/v25.0/me", token=value)).json()["error"]["error_subcode"] == 463
    other = (await http.post("/_control/tokens/issue", json={})).json()["access_token"]
    await http.post("/_control/tokens/revoke", json={"token": other, "reason": "app_removed"})
    assert (await graph.get("/v25.0/me", token=other)).json()["error"]["error_subcode"] == 458
    unknown = await http.post("/_control/tokens/revoke", json={"token": "nope"})
    assert unknown.status_code == 400


async def test_simulations_and_webhook_log(
    sandbox: Sandbox, http: httpx.AsyncClient, receiver: Receiver, page: dict[str, Any]
) -> None:
    subscribe_everything(sandbox)
    result = await http.post(
        "/_control/simulate/message", json={"page_id": page["id"], "text": "hi", "wait": True}
    )
    assert result.status_code == 200
    assert result.json()["webhook"]["queued"] is True
    assert len(receiver.calls) == 1
    log = (await http.get("/_control/webhooks")).json()
    assert log["attempts"][-1]["ok"] is True
    for kind in ("echo", "delivery", "read", "reaction"):
        response = await http.post(f"/_control/simulate/{kind}", json={"page_id": page["id"]})
        assert response.status_code == 200, (kind, response.text)
    feed = await http.post("/_control/simulate/feed", json={"page_id": page["id"]})
    assert "comment_id" in feed.json()
    unknown = await http.post("/_control/simulate/teleport", json={})
    assert unknown.status_code == 400
    missing = await http.post("/_control/simulate/message", json={"page_id": "0"})
    assert missing.status_code == 400


async def test_faults_clock_and_webhook_options(
    sandbox: Sandbox, http: httpx.AsyncClient, graph: Graph
) -> None:
    described = await http.post(
        "/_control/faults", json={"rules": [{"kind": "server_error", "times": 1}]}
    )
    assert described.json()["rules"][0]["kind"] == "server_error"
    assert (await graph.get("/v25.0/me")).status_code == 500
    assert (await http.delete("/_control/faults")).json()["rules"] == []
    before = sandbox.now()
    moved = (await http.post("/_control/clock", json={"advance_seconds": 3600})).json()
    assert moved["now"] >= before + 3600
    options = await http.post("/_control/webhooks", json={"batch_size": 5, "duplicate": True})
    assert options.json()["options"]["batch_size"] == 5
    verify = await http.post("/_control/webhooks/verify", json={})
    assert verify.json()["ok"] is True
    actions = await http.get("/_control/sender_actions")
    assert actions.json() == {"data": []}


async def test_dialog_and_graph_are_served_under_the_mount(http: httpx.AsyncClient) -> None:
    info = (await http.get("/_control/info")).json()
    dialog = info["dialog_url"].removeprefix("http://testserver/sandbox")
    response = await http.get(
        dialog,
        params={"client_id": info["app_id"], "redirect_uri": "https://a.example/cb", "state": "s"},
    )
    assert response.status_code == 302
    options = await http.options("/v25.0/me")
    assert options.headers["access-control-allow-origin"] == "*"
