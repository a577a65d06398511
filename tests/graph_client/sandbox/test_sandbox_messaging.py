"""Messenger and Instagram messaging as Meta allows it: read-only conversations, the 20 most
recent messages in detail, 2 Conversations API calls per second per Page, the Send API with
sender actions and the 24 h window."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import FakeClock, Graph

from graph_client.sandbox import Sandbox, SeedSpec


@pytest.fixture
async def long_conversation(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> dict[str, Any]:
    """A Messenger conversation with 30 messages (seeded anew, on a Page with 3 conversations)."""
    info = sandbox.seed(SeedSpec(pages=1, conversations_per_page=3, messages_per_conversation=30))
    page_info = info["pages"][0]
    response = await graph.get(
        f"/v25.0/{page_info['id']}/conversations",
        token=page_info["access_token"],
        fields="id,message_count",
        limit=1,
    )
    conversation = response.json()["data"][0]
    assert conversation["message_count"] == 30
    return {"id": conversation["id"], "token": page_info["access_token"], "page": page_info}


async def test_only_the_20_most_recent_messages_have_details(
    sandbox: Sandbox, graph: Graph, clock: FakeClock, long_conversation: dict[str, Any]
) -> None:
    token = long_conversation["token"]
    listing = await graph.get(
        f"/v25.0/{long_conversation['id']}/messages",
        token=token,
        fields="id,created_time,message,from",
        limit=100,
    )
    data = listing.json()["data"]
    assert len(data) == 30  # every message is listed, newest first...
    assert data[0]["created_time"] >= data[-1]["created_time"]
    assert all("message" in m and "from" in m for m in data[:20])
    # ...but the older ones only with id and created_time.
    assert all(set(m) == {"id", "created_time"} for m in data[20:])

    clock.advance(1)
    recent = await graph.get(f"/v25.0/{data[0]['id']}", token=token, fields="message")
    assert recent.status_code == 200
    assert "message" in recent.json()
    old = await graph.get(f"/v25.0/{data[25]['id']}", token=token, fields="message")
    assert old.status_code == 400
    assert old.json()["error"]["code"] == 100
    assert "has been deleted" in old.json()["error"]["message"]


async def test_conversations_api_allows_two_calls_per_second_per_page(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str, clock: FakeClock
) -> None:
    path = f"/v25.0/{page['id']}/conversations"
    assert (await graph.get(path, token=page_token)).status_code == 200
    assert (await graph.get(path, token=page_token)).status_code == 200
    third = await graph.get(path, token=page_token)
    assert third.status_code == 400
    error = third.json()["error"]
    assert error["code"] == 613
    assert error["message"] == "(#613) Calls to this api have exceeded the rate limit."
    usage = third.headers["x-business-use-case-usage"]
    assert page["id"] in usage
    assert "estimated_time_to_regain_access" in usage
    # Instagram is counted apart, and a second later the Page may call again.
    instagram = await graph.get(path, token=page_token, platform="instagram")
    assert instagram.status_code == 200
    clock.advance(1.01)
    assert (await graph.get(path, token=page_token)).status_code == 200


async def test_conversations_need_a_page_token(graph: Graph, page: dict[str, Any]) -> None:
    response = await graph.get(f"/v25.0/{page['id']}/conversations")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "(#190) This method must be called with a Page Access Token",
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": response.json()["error"]["fbtrace_id"],
    }


async def test_filters_by_platform_folder_and_user(
    graph: Graph, page: dict[str, Any], page_token: str, clock: FakeClock
) -> None:
    path = f"/v25.0/{page['id']}/conversations"
    fields = "id,folder,participants,updated_time"
    inbox = (await graph.get(path, token=page_token, fields=fields)).json()["data"]
    clock.advance(1)
    done = (await graph.get(path, token=page_token, fields=fields, folder="page_done")).json()
    clock.advance(1)
    assert inbox
    assert all(c["folder"] == "inbox" for c in inbox)
    assert done["data"]
    assert all(c["folder"] == "page_done" for c in done["data"])
    times = [c["updated_time"] for c in inbox]
    assert times == sorted(times, reverse=True)
    person = inbox[0]["participants"]["data"][0]
    assert person["email"] == f"{person['id']}@facebook.com"
    one = (await graph.get(path, token=page_token, user_id=person["id"])).json()["data"]
    assert [c["id"] for c in one] == [inbox[0]["id"]]
    clock.advance(1)
    ig = (
        await graph.get(path, token=page_token, platform="INSTAGRAM", fields="participants")
    ).json()["data"]
    assert ig
    assert all("username" in p for c in ig for p in c["participants"]["data"])
    clock.advance(1)
    bad = await graph.get(path, token=page_token, platform="whatsapp")
    assert bad.json()["error"]["code"] == 100


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "", {"archived": True}),
        ("POST", "/archive", {}),
        ("POST", "/mute", {}),
        ("POST", "/read", {}),
        ("POST", "/messages", {"message": "hi"}),  # deprecated since v6.0 (facts §0.5)
        ("DELETE", "", {}),
        ("GET", "/unread", {}),
    ],
)
async def test_conversations_cannot_be_archived_muted_or_marked_read(
    graph: Graph, page: dict[str, Any], page_token: str, method: str, suffix: str, body: Any
) -> None:
    listing = await graph.get(f"/v25.0/{page['id']}/conversations", token=page_token)
    conversation_id = listing.json()["data"][0]["id"]
    path = f"/v25.0/{conversation_id}{suffix}"
    if method == "POST":
        response = await graph.post(path, token=page_token, json=body)
    elif method == "DELETE":
        response = await graph.delete(path, token=page_token)
    else:
        response = await graph.get(path, token=page_token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {100, 2500}


async def test_send_api_and_sender_actions(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    inbound = await sandbox.simulate_inbound_message(page_id=page["id"], person_name="New Person")
    psid = inbound["sender_id"]
    for action in ("mark_seen", "typing_on", "typing_off"):
        response = await graph.post(
            f"/v25.0/{page['id']}/messages",
            token=page_token,
            json={"recipient": {"id": psid}, "sender_action": action},
        )
        assert response.json() == {"recipient_id": psid}
    assert [a["sender_action"] for a in sandbox.sender_actions] == [
        "mark_seen",
        "typing_on",
        "typing_off",
    ]
    sent = await graph.post(
        "/v25.0/me/messages",  # /me is the Page with a Page token
        token=page_token,
        json={"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "Hi!"}},
    )
    assert sent.status_code == 200
    assert sent.json()["message_id"].startswith("m_")
    thread = await graph.get(
        f"/v25.0/{inbound['conversation_id']}/messages", token=page_token, fields="message,from"
    )
    newest = thread.json()["data"][0]
    assert newest["message"] == "Hi!"
    assert newest["from"]["id"] == page["id"]
    both = await graph.post(
        f"/v25.0/{page['id']}/messages",
        token=page_token,
        json={"recipient": {"id": psid}, "sender_action": "typing_on", "message": {"text": "x"}},
    )
    assert both.status_code == 400


async def test_send_api_refuses_outside_the_24h_window(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str, clock: FakeClock
) -> None:
    inbound = await sandbox.simulate_inbound_message(page_id=page["id"], person_name="Late Reply")
    clock.advance(25 * 3600)
    body = {"recipient": {"id": inbound["sender_id"]}, "message": {"text": "sorry!"}}
    late = await graph.post(f"/v25.0/{page['id']}/messages", token=page_token, json=body)
    assert late.status_code == 400
    error = late.json()["error"]
    assert (error["code"], error["error_subcode"]) == (10, 2018278)
    tagged = await graph.post(
        f"/v25.0/{page['id']}/messages",
        token=page_token,
        json={**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"},
    )
    assert tagged.status_code == 200


async def test_send_api_unknown_recipient(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    response = await graph.post(
        f"/v25.0/{page['id']}/messages",
        token=page_token,
        json={"recipient": {"id": "123"}, "message": {"text": "hi"}},
    )
    assert response.json()["error"]["error_subcode"] == 2018001


async def test_user_profiles(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    messenger = await sandbox.simulate_inbound_message(page_id=page["id"], person_name="Ana Lima")
    profile = await graph.get(
        f"/v25.0/{messenger['sender_id']}",
        token=page_token,
        fields="first_name,last_name,profile_pic",
    )
    assert profile.json() == {
        "first_name": "Ana",
        "last_name": "Lima",
        "id": messenger["sender_id"],
    }
    ig = await sandbox.simulate_inbound_message(
        ig_user_id=page["instagram_business_account"], person_name="Kit Cat"
    )
    ig_profile = await graph.get(
        f"/v25.0/{ig['sender_id']}", token=page_token, fields="name,username"
    )
    assert ig_profile.json()["username"] == "kitcat"
    # Only the Page the person wrote to can look them up.
    assert (await graph.get(f"/v25.0/{ig['sender_id']}")).status_code == 400


async def test_inbound_message_updates_the_conversation(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    result = await sandbox.simulate_inbound_message(page_id=page["id"], text="¿Hola?")
    conversation = await graph.get(
        f"/v25.0/{result['conversation_id']}", token=page_token, fields="unread_count,snippet"
    )
    assert conversation.json()["snippet"] == "¿Hola?"
    assert conversation.json()["unread_count"] >= 1
