"""Realistic Meta webhook traffic for the loss benchmark: Messenger messages, Page echoes,
deliveries, reads and reactions; WhatsApp messages and statuses. The shapes are those of
the real samples in shared/meta-payloads (messenger_event_*, wa_webhook_*); the ids are
the sandbox's Pages and people, so profiles resolve as on Meta.

Deterministic for a seed. Times only move forward (unique per Messenger event, a second or
more apart per WhatsApp person), so "the newest" is never a tie.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MESSENGER_APP_ID = 1517776481860111  # the app id in Meta's echo sample
WORDS = ["order", "delivery", "tomorrow", "price", "size", "colour", "thanks", "store",
         "open", "hours", "refund", "plant", "pot", "gift", "today", "yes"]  # fmt: skip
REACTIONS = (("love", "\u2764\ufe0f"), ("like", "\U0001f44d"), ("laugh", "\U0001f606"))


@dataclass
class WhatsAppPerson:
    wa_id: str
    name: str
    # Messages the business sent this person earlier, by wamid (statuses name them).
    outbound: list[str] = field(default_factory=list)
    clock: int = 0  # seconds


@dataclass
class World:
    """Who the traffic is about: sandbox Pages with their people, and one WhatsApp number."""

    pages: dict[str, list[str]]  # Page id -> PSIDs of people who wrote to it on Meta
    waba_id: str
    phone_number_id: str
    display_phone_number: str
    wa_people: list[WhatsAppPerson]
    # When the business sent the WhatsApp messages the statuses are about.
    sent_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class _Thread:
    page: str
    psid: str
    mids: list[str] = field(default_factory=list)
    echo_times: list[int] = field(default_factory=list)
    echo_mids: list[str] = field(default_factory=list)
    reacted: dict[str, int] = field(default_factory=dict)


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9))).capitalize() + "."


def _mid(rng: random.Random) -> str:
    raw = rng.randbytes(24)
    return "m_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def wamid(rng: random.Random) -> str:
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x14" + rng.randbytes(20)).decode()


def _page_body(page: str, at: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": page, "time": at, "messaging": [item]}]}


def _wa_body(world: World, value: dict[str, Any], at: int) -> dict[str, Any]:
    metadata = {
        "display_phone_number": world.display_phone_number,
        "phone_number_id": world.phone_number_id,
    }
    return {"object": "whatsapp_business_account", "entry": [{"id": world.waba_id, "changes": [
        {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
         "field": "messages"}]}]}  # fmt: skip


class Traffic:
    def __init__(self, world: World, seed: int, start_ms: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.clock = start_ms
        self.threads = [_Thread(page, p) for page, people in world.pages.items() for p in people]
        for person in world.wa_people:
            person.clock = start_ms // 1000

    def _tick(self) -> int:
        self.clock += self.rng.randint(1, 400)
        return self.clock

    def messenger(self) -> dict[str, Any]:
        rng, thread = self.rng, self.rng.choice(self.threads)
        page, psid, at = thread.page, thread.psid, self._tick()

        def from_person(**event: Any) -> dict[str, Any]:
            item = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": at, **event}
            return _page_body(page, at, item)

        roll = rng.random()
        if thread.echo_times and roll < 0.12:
            mark = thread.echo_times[-1]
            return from_person(delivery={"mids": thread.echo_mids[-1:], "watermark": mark})
        if thread.echo_times and roll < 0.22:
            return from_person(read={"watermark": thread.echo_times[-1]})
        if thread.mids and roll < 0.34:
            # Mostly a new message; sometimes the person changes their reaction.
            again = thread.reacted and rng.random() < 0.2
            mid = rng.choice(list(thread.reacted) if again else thread.mids)
            thread.reacted[mid] = at
            reaction, emoji = rng.choice(REACTIONS)
            return from_person(
                reaction={"reaction": reaction, "emoji": emoji, "action": "react", "mid": mid}
            )
        mid = _mid(rng)
        message: dict[str, Any] = {"mid": mid, "text": _text(rng)}
        if thread.mids and roll < 0.62:  # the Page answers (its echo)
            message.update(is_echo=True, app_id=MESSENGER_APP_ID)
            thread.mids.append(mid)
            thread.echo_times.append(at)
            thread.echo_mids.append(mid)
            item = {"sender": {"id": page}, "recipient": {"id": psid}, "timestamp": at,
                    "message": message}  # fmt: skip
            return _page_body(page, at, item)
        if rng.random() < 0.15:
            url = f"https://scontent.xx.fbcdn.net/v/t1.15752-9/{rng.randrange(10**9)}_n.jpg"
            message = {"mid": mid, "attachments": [{"type": "image", "payload": {"url": url}}]}
        elif thread.mids and rng.random() < 0.1:
            message["reply_to"] = {"mid": rng.choice(thread.mids)}
        thread.mids.append(mid)
        return from_person(message=message)

    def whatsapp_message(self) -> dict[str, Any]:
        rng, person = self.rng, self.rng.choice(self.world.wa_people)
        person.clock += rng.randint(1, 90)
        message: dict[str, Any] = {"from": person.wa_id, "id": wamid(rng),
                                   "timestamp": str(person.clock)}  # fmt: skip
        kind = rng.random()
        if kind < 0.75:
            message.update(type="text", text={"body": _text(rng)})
        elif kind < 0.9:
            message.update(type="image", image={"mime_type": "image/jpeg",
                                                "sha256": rng.randbytes(16).hex(),
                                                "id": str(rng.randrange(10**15))})  # fmt: skip
        else:
            message.update(type="interactive", interactive={"type": "button_reply",
                           "button_reply": {"id": "yes", "title": "Yes"}})  # fmt: skip
        contacts = [{"profile": {"name": person.name}, "wa_id": person.wa_id}]
        return _wa_body(self.world, {"contacts": contacts, "messages": [message]}, person.clock)

    def whatsapp_statuses(self, person: WhatsAppPerson, message_id: str) -> list[dict[str, Any]]:
        """sent, delivered, then read (or failed), as Meta reports a message's progress."""
        out = []
        last = "failed" if self.rng.random() < 0.05 else "read"
        for state in ("sent", "delivered", last):
            person.clock += self.rng.randint(1, 30)
            status: dict[str, Any] = {
                "id": message_id, "status": state, "timestamp": str(person.clock),
                "recipient_id": person.wa_id,
                "conversation": {"id": self.rng.randbytes(16).hex(), "origin": {"type": "service"}},
                "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular",
                            "category": "service"},
            }  # fmt: skip
            if state == "failed":
                status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
            out.append(_wa_body(self.world, {"statuses": [status]}, person.clock))
        return out


def generate(world: World, total: int, *, seed: int, start_ms: int) -> list[bytes]:
    """``total`` distinct signed-to-be bodies in the order Meta would first send them."""
    traffic = Traffic(world, seed, start_ms)
    progress = [
        traffic.whatsapp_statuses(person, message_id)
        for person in world.wa_people
        for message_id in person.outbound
    ]
    wa = [traffic.whatsapp_message() for _ in range(total * 15 // 100)]
    messenger = [traffic.messenger() for _ in range(total - len(wa) - 3 * len(progress))]
    # WhatsApp and Messenger traffic interleave, each in its own order.
    bodies: list[dict[str, Any]] = []
    while wa or messenger:
        pick_wa = traffic.rng.randrange(len(wa) + len(messenger)) < len(wa)
        bodies.append((wa if pick_wa else messenger).pop(0))
    # Each message's statuses interleave with the rest, in their own order.
    for triple in progress:
        spots = sorted(traffic.rng.sample(range(len(bodies) + 1), len(triple)))
        for spot, body in reversed(list(zip(spots, triple, strict=True))):
            bodies.insert(spot, body)
    encoded = [json.dumps(b).encode() for b in bodies[:total]]
    assert len(set(encoded)) == len(encoded), "generated deliveries must be distinct"
    return encoded
