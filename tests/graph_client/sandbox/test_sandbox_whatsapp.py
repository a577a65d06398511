"""WhatsApp: template review (approve / reject rule), edits and deletes, sending inside and
outside the 24 h window, read receipts with typing indicator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import FakeClock, Graph, Receiver, subscribe_everything

from graph_client.sandbox import Sandbox


@pytest.fixture
def waba(info: dict[str, Any]) -> dict[str, Any]:
    return dict(info["whatsapp_business_accounts"][0])


def _template(name: str, category: str = "UTILITY") -> dict[str, Any]:
    return {
        "name": name,
        "language": "en_US",
        "category": category.lower(),
        "components": [{"type": "body", "text": "Your order {{1}} is ready."}],
    }


async def _statuses(graph: Graph, waba_id: str) -> dict[str, str]:
    listed = await graph.get(f"/v25.0/{waba_id}/message_templates", fields="name,status", limit=100)
    return {t["name"]: t["status"] for t in listed.json()["data"]}


def _events(receiver: Receiver, field: str) -> list[dict[str, Any]]:
    values = []
    for body in receiver.bodies:
        for entry in json.loads(body)["entry"]:
            values.extend(c["value"] for c in entry.get("changes", []) if c["field"] == field)
    return values


async def test_templates_are_reviewed_after_template_review_seconds(
    sandbox: Sandbox, graph: Graph, waba: dict[str, Any], clock: FakeClock, receiver: Receiver
) -> None:
    subscribe_everything(sandbox)
    ok = await graph.post(f"/v25.0/{waba['id']}/message_templates", json=_template("order_ready"))
    bad = await graph.post(
        f"/v25.0/{waba['id']}/message_templates", json=_template("promo_reject_me", "MARKETING")
    )
    assert ok.json()["status"] == "PENDING"
    assert ok.json()["category"] == "UTILITY"  # upper-case on the way back
    assert (await _statuses(graph, waba["id"]))["order_ready"] == "PENDING"

    clock.advance(29)
    await sandbox.tick()
    assert (await _statuses(graph, waba["id"]))["order_ready"] == "PENDING"
    clock.advance(2)
    await sandbox.tick()
    await sandbox.flush_webhooks()
    statuses = await _statuses(graph, waba["id"])
    assert (statuses["order_ready"], statuses["promo_reject_me"]) == ("APPROVED", "REJECTED")

    events = {
        e["message_template_name"]: e for e in _events(receiver, "message_template_status_update")
    }
    assert events["order_ready"]["event"] == "APPROVED"
    assert events["order_ready"]["message_template_id"] == int(ok.json()["id"])
    assert events["promo_reject_me"]["reason"] == "INVALID_FORMAT"
    assert "recommendation" in events["promo_reject_me"]["rejection_info"]
    rejected = await graph.get(f"/v25.0/{bad.json()['id']}", fields="status,rejected_reason")
    assert rejected.json()["rejected_reason"] == "INVALID_FORMAT"


async def test_template_validation_edit_and_delete(
    sandbox: Sandbox, graph: Graph, waba: dict[str, Any], clock: FakeClock
) -> None:
    path = f"/v25.0/{waba['id']}/message_templates"
    invalid = await graph.post(path, json=_template("Bad Name!"))
    assert invalid.json()["error"]["error_user_title"] == "Invalid template name"
    duplicate = await graph.post(path, json={**_template("order_update")})
    assert duplicate.json()["error"]["error_subcode"] == 2388024

    created = (await graph.post(path, json=_template("pickup_notice"))).json()["id"]
    pending_edit = await graph.post(
        f"/v25.0/{created}", json={"components": _template("x")["components"]}
    )
    assert pending_edit.status_code == 400  # pending templates cannot be edited
    clock.advance(31)
    await sandbox.tick()
    edit = await graph.post(
        f"/v25.0/{created}",
        json={"components": [{"type": "BODY", "text": "Pick up order {{1}} today."}]},
    )
    assert edit.json() == {"success": True}
    assert (await _statuses(graph, waba["id"]))["pickup_notice"] == "PENDING"  # back in review

    deleted = await graph.delete(path, name="pickup_notice")
    assert deleted.json() == {"success": True}
    assert "pickup_notice" not in await _statuses(graph, waba["id"])
    reuse = await graph.post(path, json=_template("pickup_notice"))
    assert reuse.json()["error"]["error_subcode"] == 2388023  # name blocked for 30 days
    missing = await graph.delete(path, name="never_existed")
    assert missing.status_code == 400


async def test_send_inside_and_outside_the_window(
    sandbox: Sandbox, graph: Graph, waba: dict[str, Any], receiver: Receiver
) -> None:
    subscribe_everything(sandbox)
    phone = waba["phone_numbers"][0]["id"]
    stranger = await graph.post(
        f"/v25.0/{phone}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "16505559999",
            "type": "text",
            "text": {"body": "hi"},
        },
    )
    assert stranger.status_code == 200  # accepted, then a failed status arrives
    inbound = await sandbox.simulate_inbound_message(
        phone_number_id=phone, wa_id="16505558888", text="yo"
    )
    friend = await graph.post(
        f"/v25.0/{phone}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "16505558888",
            "type": "text",
            "text": {"body": "hey"},
        },
    )
    await sandbox.flush_webhooks()
    statuses = [s for v in _events(receiver, "messages") for s in v.get("statuses", [])]
    failed = [s for s in statuses if s["id"] == stranger.json()["messages"][0]["id"]]
    assert [s["status"] for s in failed] == ["failed"]
    assert failed[0]["errors"][0]["code"] == 131047
    delivered = [s["status"] for s in statuses if s["id"] == friend.json()["messages"][0]["id"]]
    assert delivered == ["sent", "delivered"]
    inbound_messages = [m for v in _events(receiver, "messages") for m in v.get("messages", [])]
    assert inbound_messages[0]["id"] == inbound["message_id"]
    assert inbound_messages[0]["timestamp"].isdigit()


async def test_template_send_errors(graph: Graph, waba: dict[str, Any]) -> None:
    phone = waba["phone_numbers"][0]["id"]
    body = {
        "messaging_product": "whatsapp",
        "to": "16505551234",
        "type": "template",
        "template": {"name": "address_update", "language": {"code": "en_US"}},  # still pending
    }
    response = await graph.post(f"/v25.0/{phone}/messages", json=body)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == 132001
    assert error["error_data"]["messaging_product"] == "whatsapp"
    no_product = await graph.post(f"/v25.0/{phone}/messages", json={"to": "1", "type": "text"})
    assert no_product.status_code == 400


async def test_mark_as_read_with_typing_indicator(
    sandbox: Sandbox, graph: Graph, waba: dict[str, Any]
) -> None:
    phone = waba["phone_numbers"][0]["id"]
    first = await sandbox.simulate_inbound_message(phone_number_id=phone, wa_id="16505557777")
    second = await sandbox.simulate_inbound_message(phone_number_id=phone, wa_id="16505557777")
    response = await graph.post(
        f"/v25.0/{phone}/messages",
        json={
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": second["message_id"],
            "typing_indicator": {"type": "text"},
        },
    )
    assert response.json() == {"success": True}
    messages = sandbox.store.get(phone).messages
    assert messages[first["message_id"]].status == "read"  # earlier ones are read too
    assert sandbox.sender_actions[-1]["typing_indicator"] == {"type": "text"}
    unknown = await graph.post(
        f"/v25.0/{phone}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"},
    )
    assert unknown.status_code == 400


async def test_business_profile_update(graph: Graph, waba: dict[str, Any]) -> None:
    phone = waba["phone_numbers"][0]["id"]
    path = f"/v25.0/{phone}/whatsapp_business_profile"
    too_long = await graph.post(path, json={"messaging_product": "whatsapp", "about": "x" * 140})
    assert too_long.status_code == 400
    ok = await graph.post(
        path,
        json={"messaging_product": "whatsapp", "about": "Open daily", "websites": ["https://a.b/"]},
    )
    assert ok.json() == {"success": True}
    profile = (await graph.get(path, fields="about,websites")).json()
    assert profile == {
        "data": [
            {"about": "Open daily", "websites": ["https://a.b/"], "messaging_product": "whatsapp"}
        ]
    }
