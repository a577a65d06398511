"""Parsing a delivery into unit events, each with the key Meta's ids give it.

Pure functions over the decoded body, lenient with missing or mistyped fields: an event
metasync cannot read is returned as ``unknown`` (recorded, never fatal to the rest of the
delivery), and no shape of JSON makes the parser raise (tests/fuzz property-tests it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Meta's own inbox app: echoes with this app_id were typed by a person in Meta Business Suite.
META_INBOX_APP_ID = "263902037430900"


@dataclass(frozen=True)
class UnitEvent:
    kind: str
    # Meta's ids for this event: applying it twice is what this key prevents.
    key: str
    # The business object it belongs to: a Page id, an Instagram account id or a WABA id.
    owner_id: str
    platform: str  # messenger | instagram | whatsapp
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    # The person on the other side (PSID, IGSID, WhatsApp wa_id), when there is one.
    person_id: str | None = None


def _ms(value: Any) -> datetime:
    """Meta's timestamps: ms in Messenger/IG, seconds (as strings) in WhatsApp. Anything
    unreadable (not a number, out of datetime's range) is the time it was read."""
    try:
        number = float(value)
        if number > 10**11:  # milliseconds
            number /= 1000
        return datetime.fromtimestamp(number, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (Meta's shape, or nothing)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _id(value: Any) -> str:
    """An id field: Meta's ids are strings (a number is taken too); anything else is none."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def parse_delivery(body: dict[str, Any]) -> list[UnitEvent]:
    kind = body.get("object")
    out: list[UnitEvent] = []
    for entry in _list(body.get("entry")):
        if not isinstance(entry, dict):
            continue
        owner = _id(entry.get("id"))
        if kind in ("page", "instagram"):
            platform = "instagram" if kind == "instagram" else "messenger"
            for item in _list(entry.get("messaging")):
                if isinstance(item, dict):
                    out.append(_messaging(owner, platform, item))
            for change in _list(entry.get("changes")):
                if not isinstance(change, dict):
                    continue
                value = _dict(change.get("value"))
                if kind == "instagram" and change.get("field") == "messages":
                    # Instagram's changes[] shape carries a messaging item in ``value``.
                    out.append(_messaging(owner, platform, value))
                elif kind == "page" and change.get("field") == "feed":
                    out.append(_feed(owner, value, entry))
                else:
                    out.append(_unknown(owner, platform, change, entry))
        elif kind == "whatsapp_business_account":
            for change in _list(entry.get("changes")):
                if isinstance(change, dict):
                    out.extend(_whatsapp(owner, change, entry))
    return out


def _messaging(owner: str, platform: str, item: dict[str, Any]) -> UnitEvent:
    sender = _id(_dict(item.get("sender")).get("id"))
    recipient = _id(_dict(item.get("recipient")).get("id"))
    at = _ms(item.get("timestamp"))
    message = item.get("message")
    if isinstance(message, dict):
        mid = str(message.get("mid", ""))
        if message.get("is_deleted"):
            return UnitEvent("unsend", f"unsend:{mid}", owner, platform, at, message, sender)
        if message.get("is_echo"):
            return UnitEvent("echo", f"msg:{mid}", owner, platform, at, message, recipient)
        return UnitEvent("message", f"msg:{mid}", owner, platform, at, message, sender)
    if isinstance(item.get("message_edit"), dict):
        edit = item["message_edit"]
        key = f"edit:{edit.get('mid')}:{edit.get('num_edit', at.timestamp())}"
        return UnitEvent("edit", key, owner, platform, at, edit, sender)
    if isinstance(item.get("delivery"), dict):
        delivery = item["delivery"]
        key = f"delivery:{owner}:{sender}:{delivery.get('watermark')}"
        return UnitEvent("delivery", key, owner, platform, at, delivery, sender)
    if isinstance(item.get("read"), dict):
        read = item["read"]
        mark = read.get("watermark") or read.get("mid") or item.get("timestamp")
        return UnitEvent("read", f"read:{owner}:{sender}:{mark}", owner, platform, at, read, sender)
    if isinstance(item.get("reaction"), dict):
        reaction = item["reaction"]
        key = (
            f"reaction:{reaction.get('mid')}:{sender}:{reaction.get('action')}:"
            f"{reaction.get('reaction')}:{item.get('timestamp')}"
        )
        return UnitEvent("reaction", key, owner, platform, at, reaction, sender)
    if isinstance(item.get("postback"), dict):
        postback = item["postback"]
        fallback = f"{owner}:{sender}:{item.get('timestamp')}"
        key = f"postback:{postback.get('mid') or fallback}"
        return UnitEvent("postback", key, owner, platform, at, postback, sender)
    return _unknown(owner, platform, item, item)


def _feed(owner: str, value: dict[str, Any], entry: dict[str, Any]) -> UnitEvent:
    item = value.get("item")
    target = value.get("comment_id") or value.get("post_id")
    # Feed times are whole seconds: two edits of one comment in the same second differ only
    # in what they carry, so the key holds a digest of the change (a redelivery of the same
    # change, however Meta batches it, has the same one).
    canonical = json.dumps(value, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(canonical).hexdigest()[:16]
    key = f"feed:{item}:{target}:{value.get('verb')}:{entry.get('time')}:{digest}"
    return UnitEvent("feed", key, owner, "messenger", _ms(entry.get("time")), value)


def _unknown(owner: str, platform: str, item: dict[str, Any], entry: dict[str, Any]) -> UnitEvent:
    return UnitEvent("unknown", "", owner, platform, _ms(entry.get("time")), item)


def _whatsapp(owner: str, change: dict[str, Any], entry: dict[str, Any]) -> list[UnitEvent]:
    field_name = change.get("field")
    value = _dict(change.get("value"))
    at = _ms(entry.get("time") or value.get("timestamp"))
    if field_name in (
        "message_template_status_update",
        "message_template_quality_update",
        "template_category_update",
    ):
        template_id = value.get("message_template_id")
        event = value.get("event") or value.get("new_quality_score") or value.get("new_category")
        key = f"template:{template_id}:{field_name}:{event}:{entry.get('time')}"
        return [UnitEvent(field_name, key, owner, "whatsapp", at, value)]
    if field_name != "messages":
        return [UnitEvent("unknown", "", owner, "whatsapp", at, change)]
    phone = {"phone_number_id": _dict(value.get("metadata")).get("phone_number_id")}
    names = {
        _id(c.get("wa_id")): _dict(c.get("profile")).get("name")
        for c in _list(value.get("contacts"))
        if isinstance(c, dict)
    }
    out: list[UnitEvent] = []
    for message in _list(value.get("messages")):
        if not isinstance(message, dict):
            continue
        wamid, person = _id(message.get("id")), _id(message.get("from"))
        payload = {**message, **phone, "profile_name": names.get(person)}
        out.append(
            UnitEvent(
                "wa_message",
                f"msg:{wamid}",
                owner,
                "whatsapp",
                _ms(message.get("timestamp")),
                payload,
                person,
            )
        )
    for status in _list(value.get("statuses")):
        if not isinstance(status, dict):
            continue
        status_id, state = status.get("id"), status.get("status")
        out.append(
            UnitEvent(
                "wa_status",
                f"wa-status:{status_id}:{state}",
                owner,
                "whatsapp",
                _ms(status.get("timestamp")),
                {**status, **phone},
                _id(status.get("recipient_id")) or None,
            )
        )
    for error in _list(value.get("errors")):
        if isinstance(error, dict):
            key = f"wa-error:{owner}:{error.get('code')}:{entry.get('time') or value}"
            out.append(UnitEvent("wa_error", key[:400], owner, "whatsapp", at, {**error, **phone}))
    return out
