"""The webhook emitter: Meta-shaped payloads (compared with the samples), signatures over the
exact bytes, retries, duplicates, reordering, batching, subscriptions and the GET handshake."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import (
    APP_ID,
    APP_SECRET,
    CALLBACK,
    VERIFY_TOKEN,
    Graph,
    Receiver,
    assert_same_shape,
    load_sample,
    subscribe_everything,
)

from graph_client.sandbox import Sandbox
from graph_client.signature import sign_payload_sha1, verify_payload_signature

# Webhook samples the sandbox never emits, and why (the rest are compared below).
NOT_EMITTED = {
    "messenger_event_postback.json": "postbacks come from buttons the sandbox does not render",
    "messenger_event_echo_image_attachment.json": "echoes are compared in their text form",
    "messenger_event_echo_fallback_null_payload.json": "legacy fallback attachments",
    "messenger_webhook_fallback_attachment_full.json": "link-share fallback attachments",
    "messenger_webhook_message_commands_full.json": "bot commands",
    "messenger_webhook_postback_with_referral_courier_fixture.json": "postbacks and referrals",
    "messenger_webhook_sticker_thumbs_up_courier_fixture.json": "stickers",
    "messenger_webhook_delivery_with_seq_courier_fixture.json": "the legacy seq field",
    "messenger_webhook_echo_minimal_courier_fixture.json": "a minimal fixture without text",
    "ig_webhook_dashboard_test_message.json": "the App Dashboard's test payload",
    "ig_webhook_story_mention_courier_fixture.json": "story mentions",
    "ig_webhook_unsent_is_deleted_courier_fixture.json": "unsent messages",
    "page_webhook_mention_dashboard_test.json": "Page mentions",
    "wa_webhook_message_image.json": "only text messages are simulated",
    "wa_webhook_message_text_ctwa_referral.json": "click-to-WhatsApp ad referrals",
    "wa_webhook_message_text_pywa_bsuid.json": "business-scoped user ids",
    "wa_webhook_interactive_button_reply_courier_fixture.json": "interactive replies",
    "wa_webhook_status_delivered_pywa.json": "pre-v24 shape with a conversation object",
    "wa_webhook_status_read_pywa.json": "pre-v24 shape with a conversation object",
    "wa_webhook_status_failed_131014_courier_fixture.json": "compared via the 131049 sample",
    "wa_webhook_status_v24_no_conversation_doc_says_read.json": "compared via the sent sample",
    "wa_webhook_errors_rate_limit.json": "value-level errors are not simulated",
}


def _payloads(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body) for body in receiver.bodies]


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    """A messenger_event_* sample (one messaging item) in Meta's full envelope."""
    return {"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [event]}]}


@pytest.fixture(autouse=True)
def _subscribed(sandbox: Sandbox) -> None:
    subscribe_everything(sandbox)


async def test_signatures_cover_the_exact_ascii_escaped_bytes(
    sandbox: Sandbox, receiver: Receiver, page: dict[str, Any]
) -> None:
    await sandbox.simulate_inbound_message(page_id=page["id"], text="Olá ❤️ https://x.y/z")
    await sandbox.flush_webhooks()
    ((body, headers),) = receiver.calls
    assert body.isascii()
    assert b"Ol\\u00e1 \\u2764\\ufe0f https:\\/\\/x.y\\/z" in body
    assert verify_payload_signature(body, headers["x-hub-signature-256"], APP_SECRET)
    assert headers["x-hub-signature"] == sign_payload_sha1(body, APP_SECRET)
    assert headers["content-type"] == "application/json"
    reserialised = json.dumps(json.loads(body)).encode()
    assert not verify_payload_signature(reserialised, headers["x-hub-signature-256"], APP_SECRET)


async def test_messenger_payloads_match_the_samples(
    sandbox: Sandbox, receiver: Receiver, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    text = await sandbox.simulate_inbound_message(page_id=page["id"], person_name="Sam Doe")
    who = {"page_id": page["id"], "person_id": text["sender_id"]}
    await sandbox.simulate_inbound_message(**who, text="re", reply_to=text["message_id"])
    await sandbox.simulate_inbound_message(
        **who, text=None, attachments=[{"type": "image", "url": "https://e.com/i.png"}]
    )
    sent = await graph.post(
        f"/v25.0/{page['id']}/messages",
        token=page_token,
        json={"recipient": {"id": text["sender_id"]}, "message": {"text": "hi", "metadata": "m1"}},
    )
    await sandbox.simulate_read(**who)
    await sandbox.simulate_reaction(**who)
    await sandbox.flush_webhooks()
    payloads = _payloads(receiver)
    events = [p["entry"][0]["messaging"][0] for p in payloads]
    kinds = ["text", "reply", "image", "echo", "delivery", "read", "reaction"]
    by_kind = dict(zip(kinds, payloads, strict=True))
    samples = {
        "text": "messenger_event_text_message.json",
        "reply": "messenger_event_text_reply_to.json",
        "image": "messenger_event_image_attachment.json",
        "echo": "messenger_event_echo_text.json",
        "delivery": "messenger_event_delivery.json",
        "read": "messenger_event_read.json",
        "reaction": "messenger_event_reaction_docs_derived.json",
    }
    for kind, sample in samples.items():
        # The docs' delivery example has no timestamp; Meta's deliveries carry one.
        extra = frozenset({"timestamp"}) if kind == "delivery" else frozenset()
        assert_same_shape(_envelope(load_sample(sample)), by_kind[kind], extra=extra)
    assert_same_shape(load_sample("messenger_webhook_text_courier_fixture.json"), by_kind["text"])
    assert_same_shape(
        load_sample("messenger_webhook_image_attachment_courier_fixture.json"), by_kind["image"]
    )
    assert events[3]["message"]["mid"] == sent.json()["message_id"]
    assert events[3]["message"]["app_id"] == int(APP_ID)
    assert events[4]["delivery"]["mids"] == [sent.json()["message_id"]]
    assert all(e["recipient"]["id"] == page["id"] for i, e in enumerate(events) if i != 3)


async def test_instagram_payloads_match_the_samples(
    sandbox: Sandbox, receiver: Receiver, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    ig = page["instagram_business_account"]
    text = await sandbox.simulate_inbound_message(ig_user_id=ig, person_name="kit")
    await graph.post(
        f"/v25.0/{page['id']}/messages",
        token=page_token,
        json={"recipient": {"id": text["sender_id"]}, "message": {"text": "hey"}},
    )
    await sandbox.simulate_read(ig_user_id=ig, person_id=text["sender_id"])
    await sandbox.flush_webhooks()
    inbound, echo, seen = _payloads(receiver)  # Instagram has no delivery webhooks
    assert_same_shape(load_sample("ig_webhook_message_text_docs_derived.json"), inbound)
    assert_same_shape(load_sample("ig_webhook_text_courier_fixture.json"), inbound)
    assert_same_shape(load_sample("ig_webhook_messaging_seen_docs_derived.json"), seen)
    assert inbound["entry"][0]["id"] == ig
    assert echo["entry"][0]["messaging"][0]["message"]["is_echo"] is True


async def test_feed_and_whatsapp_payloads_match_the_samples(
    sandbox: Sandbox,
    receiver: Receiver,
    graph: Graph,
    page: dict[str, Any],
    page_token: str,
    info: dict[str, Any],
) -> None:
    await graph.post(f"/v25.0/{page['id']}/feed", token=page_token, json={"message": "New!"})
    waba = info["whatsapp_business_accounts"][0]
    phone = waba["phone_numbers"][0]["id"]
    inbound = await sandbox.simulate_inbound_message(phone_number_id=phone, text="Hi")
    await graph.post(
        f"/v25.0/{phone}/messages",
        json={"messaging_product": "whatsapp", "to": inbound["wa_id"], "text": {"body": "Hello"}},
    )
    template = next(t for t in waba["templates"] if t["status"] == "PENDING")
    await sandbox.simulate_template_status(template_id=template["id"], event="APPROVED")
    await sandbox.simulate_template_status(template_id=template["id"], event="REJECTED")
    await sandbox.flush_webhooks()
    feed, wa_in, sent, delivered, approved, rejected = _payloads(receiver)
    assert_same_shape(load_sample("page_webhook_feed_status_add_dashboard_test.json"), feed)
    assert_same_shape(load_sample("wa_webhook_message_text.json"), wa_in)
    # v24+ statuses carry no conversation object (facts §0.9).
    assert_same_shape(
        load_sample("wa_webhook_status_sent.json"), sent, missing=frozenset({"conversation"})
    )
    assert delivered["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "delivered"
    assert_same_shape(load_sample("wa_webhook_template_status_approved.json"), approved)
    assert_same_shape(load_sample("wa_webhook_template_status_rejected.json"), rejected)


async def test_failed_status_matches_the_sample(
    sandbox: Sandbox, receiver: Receiver, info: dict[str, Any]
) -> None:
    phone = info["whatsapp_business_accounts"][0]["phone_numbers"][0]["id"]
    inbound = await sandbox.simulate_inbound_message(phone_number_id=phone)
    await sandbox.simulate_status(message_id=inbound["message_id"], status="failed")
    await sandbox.flush_webhooks()
    assert_same_shape(load_sample("wa_webhook_status_failed.json"), _payloads(receiver)[-1])


def test_every_webhook_sample_is_compared_or_listed() -> None:
    from sandbox_helpers import PAYLOADS

    compared = {
        "messenger_event_text_message.json",
        "messenger_event_text_reply_to.json",
        "messenger_event_image_attachment.json",
        "messenger_event_echo_text.json",
        "messenger_event_delivery.json",
        "messenger_event_read.json",
        "messenger_event_reaction_docs_derived.json",
        "messenger_webhook_text_courier_fixture.json",
        "messenger_webhook_image_attachment_courier_fixture.json",
        "ig_webhook_message_text_docs_derived.json",
        "ig_webhook_text_courier_fixture.json",
        "ig_webhook_messaging_seen_docs_derived.json",
        "page_webhook_feed_status_add_dashboard_test.json",
        "wa_webhook_message_text.json",
        "wa_webhook_status_sent.json",
        "wa_webhook_status_failed.json",
        "wa_webhook_template_status_approved.json",
        "wa_webhook_template_status_rejected.json",
    }
    prefixes = (
        "messenger_event_",
        "messenger_webhook_",
        "ig_webhook_",
        "page_webhook_",
        "wa_webhook_",
    )
    names = {p.name for p in PAYLOADS.glob("*.json") if p.name.startswith(prefixes)}
    assert names == compared | set(NOT_EMITTED)
    assert not compared & set(NOT_EMITTED)


async def test_unsubscribed_assets_get_no_webhooks(
    sandbox: Sandbox, receiver: Receiver, page: dict[str, Any]
) -> None:
    sandbox.store.page(page["id"]).subscribed_apps.clear()
    result = await sandbox.simulate_inbound_message(page_id=page["id"])
    await sandbox.flush_webhooks()
    assert receiver.calls == []
    assert result["webhook"]["queued"] is False
    assert "subscribed" in result["webhook"]["reason"]


async def test_non_2xx_answers_are_retried_then_given_up(
    sandbox: Sandbox, receiver: Receiver, page: dict[str, Any]
) -> None:
    receiver.statuses = [500, 503]
    await sandbox.simulate_inbound_message(page_id=page["id"])
    await sandbox.flush_webhooks()
    assert [a.status for a in sandbox.webhook_attempts] == [500, 503, 200]
    assert len(set(receiver.bodies)) == 1  # the same bytes every time

    receiver.calls.clear()
    receiver.statuses = [500] * 10
    await sandbox.simulate_inbound_message(page_id=page["id"])
    await sandbox.flush_webhooks()
    assert len(receiver.calls) == 4  # the first try plus one per configured delay


async def test_duplicate_reorder_and_batch(
    sandbox: Sandbox, receiver: Receiver, page: dict[str, Any]
) -> None:
    sandbox.configure_webhooks(duplicate=True)
    await sandbox.simulate_inbound_message(page_id=page["id"], text="once")
    await sandbox.flush_webhooks()
    assert len(receiver.bodies) == 2
    assert receiver.bodies[0] == receiver.bodies[1]

    receiver.calls.clear()
    sandbox.configure_webhooks(duplicate=False, reorder=True)
    for text in ("first", "second", "third"):
        await sandbox.simulate_inbound_message(page_id=page["id"], text=text)
    assert receiver.calls == []  # held until flushed
    await sandbox.flush_webhooks()
    texts = [p["entry"][0]["messaging"][0]["message"]["text"] for p in _payloads(receiver)]
    assert texts == ["third", "second", "first"]

    receiver.calls.clear()
    sandbox.configure_webhooks(reorder=False, batch_size=2)
    for text in ("a", "b", "c"):
        await sandbox.simulate_inbound_message(page_id=page["id"], text=text)
    await sandbox.flush_webhooks()
    payloads = _payloads(receiver)
    assert [len(p["entry"]) for p in payloads] == [2, 1]
    assert all(len(e["messaging"]) == 1 for p in payloads for e in p["entry"])


async def test_verification_handshake(sandbox: Sandbox) -> None:
    ok = await sandbox.verify_webhook()
    assert ok["ok"] is True
    assert ok["body"] == ok["challenge"]
    wrong = await sandbox.verify_webhook(CALLBACK, "not-the-token")
    assert wrong["ok"] is False
    assert wrong["status"] == 403


async def test_app_subscription_verifies_the_callback(
    sandbox: Sandbox, graph: Graph, receiver: Receiver, page: dict[str, Any]
) -> None:
    app_token = f"{APP_ID}|{APP_SECRET}"
    params = {"object": "page", "callback_url": CALLBACK, "fields": "messages"}
    bad = await graph.post(
        f"/v25.0/{APP_ID}/subscriptions", token=app_token, verify_token="x", **params
    )
    assert bad.json()["error"]["code"] == 2200
    good = await graph.post(
        f"/v25.0/{APP_ID}/subscriptions", token=app_token, verify_token=VERIFY_TOKEN, **params
    )
    assert good.json() == {"success": True}
    listed = await graph.get(f"/v25.0/{APP_ID}/subscriptions", token=app_token)
    assert listed.json()["data"][0]["fields"] == [{"name": "messages", "version": "v25.0"}]
    # Only the subscribed field reaches the callback now.
    result = await sandbox.simulate_read(page_id=page["id"])
    assert result["webhook"]["queued"] is False
