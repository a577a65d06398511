"""Webhook payloads, shaped exactly like the samples in ``meta-payloads/`` (key order included).

Messenger and Instagram use ``entry[].messaging[]`` with millisecond times; Page feed changes
and WhatsApp use ``entry[].changes[]`` with second times (WhatsApp timestamps as strings).
"""

from __future__ import annotations

from typing import Any

# app_id Meta puts on echoes of messages sent from Page Inbox / Business Suite.
PAGE_INBOX_APP_ID = 263902037430900


def ms(ts: float) -> int:
    return int(ts * 1000)


def messaging(
    obj: str, entry_id: str, ts: float, sender: str, recipient: str, key: str, value: Any
) -> dict[str, Any]:
    event = {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": ms(ts),
        key: value,
    }
    return {"object": obj, "entry": [{"id": entry_id, "time": ms(ts), "messaging": [event]}]}


def message_body(
    mid: str,
    text: str | None,
    attachments: list[dict[str, Any]] | None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"mid": mid}
    if text is not None:
        body["text"] = text
    if attachments:
        body["attachments"] = [
            {"type": att.get("type", "image"), "payload": {"url": att.get("url", "")}}
            for att in attachments
        ]
    if reply_to:
        body["reply_to"] = {"mid": reply_to, "is_self_reply": False}
    return body


def echo_body(
    mid: str,
    app_id: str,
    text: str | None,
    attachments: list[dict[str, Any]] | None,
    metadata: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"is_echo": True, "app_id": int(app_id) if app_id.isdigit() else app_id}
    if metadata is not None:
        body["metadata"] = metadata
    body.update(message_body(mid, text, attachments))
    return body


def feed_change(
    page_id: str, ts: float, value: dict[str, Any], field: str = "feed"
) -> dict[str, Any]:
    entry = {"changes": [{"field": field, "value": value}], "id": page_id, "time": int(ts)}
    return {"entry": [entry], "object": "page"}


def whatsapp(waba_id: str, value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def wa_metadata(display_phone_number: str, phone_number_id: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }


def wa_status(
    wamid: str,
    status: str,
    ts: float,
    recipient: str,
    category: str,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A v24+ status: no ``conversation`` object, per-message pricing (facts §0.9)."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(ts)),
        "recipient_id": recipient,
    }
    if status == "failed":
        item["errors"] = errors or []
    else:
        item["pricing"] = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "type": "regular" if category != "service" else "free_customer_service",
            "category": category,
        }
    return item


def template_status(
    waba_id: str,
    ts: float,
    template_id: str,
    name: str,
    language: str,
    category: str,
    event: str,
    reason: str,
    rejection_info: dict[str, str] | None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason,
        "message_template_category": category,
    }
    if rejection_info is not None:
        value["rejection_info"] = rejection_info
    entry = {
        "id": waba_id,
        "time": int(ts),
        "changes": [{"value": value, "field": "message_template_status_update"}],
    }
    return {"entry": [entry], "object": "whatsapp_business_account"}
