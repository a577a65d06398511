"""Forged webhooks store nothing, a replayed delivery changes nothing, and the cron endpoint
needs CRON_SECRET (issue #9, item 10)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from domain.models import Conversation, Message, WebhookEvent
from domain.services.webhooks.apply import ApplyContext, process_event
from graph_client.signature import sign_payload_sha1, sign_payload_sha256
from tests.security.world import World

WEBHOOK_PATHS = ("/webhooks/meta", "/api/webhook", "/api/meta/webhook/events")


def _delivery(world: World, mid: str) -> bytes:
    page = world.page.meta_page_id
    return json.dumps(
        {"object": "page", "entry": [{"id": page, "time": 1, "messaging": [{
            "sender": {"id": "31000000000077"}, "recipient": {"id": page},
            "timestamp": 1767225600000, "message": {"mid": mid, "text": "replay me"},
        }]}]}
    ).encode()  # fmt: skip


async def _state(world: World, mid: str) -> dict[str, Any]:
    """What a delivery can change: the inbox, the message, its conversation."""
    async with world.server.runtime.services.session_factory() as session:
        events = (await session.execute(select(func.count()).select_from(WebhookEvent))).scalar()
        rows = (
            await session.execute(
                select(Message.id, Message.status, Conversation.unread_count, Conversation.snippet)
                .join(Conversation, Conversation.id == Message.conversation_id)
                # Every organization managing the Page gets its copy; this is A's.
                .where(
                    Message.meta_message_id == mid, Message.organization_id == world.owner.org_id
                )
            )
        ).all()
    return {"events": events, "rows": [tuple(r) for r in rows]}


async def test_forged_signatures_store_nothing(http: httpx.AsyncClient, world: World) -> None:
    body = _delivery(world, f"m_{uuid.uuid4().hex}")
    secret = world.server.runtime.settings.META_APP_SECRET
    forged = {
        "no signature": {},
        "another secret": {"X-Hub-Signature-256": sign_payload_sha256(body, "not-the-secret")},
        "sha1 only": {"X-Hub-Signature": sign_payload_sha1(body, secret)},
        "signature of other bytes": {
            "X-Hub-Signature-256": sign_payload_sha256(body + b" ", secret)
        },
        "truncated": {"X-Hub-Signature-256": sign_payload_sha256(body, secret)[:-2]},
        "no algorithm": {
            "X-Hub-Signature-256": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        },
    }
    before = await _state(world, "none")
    for path in WEBHOOK_PATHS:
        for name, headers in forged.items():
            answer = await http.post(path, content=body, headers=headers)
            assert answer.status_code == 401, (path, name)
    assert await _state(world, "none") == before


async def test_replaying_a_stored_delivery_changes_nothing(
    http: httpx.AsyncClient, world: World
) -> None:
    mid = f"m_{uuid.uuid4().hex}"
    body = _delivery(world, mid)
    headers = {
        "X-Hub-Signature-256": sign_payload_sha256(
            body, world.server.runtime.settings.META_APP_SECRET
        )
    }
    services = world.server.runtime.services
    ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock)
    assert (await http.post("/webhooks/meta", content=body, headers=headers)).status_code == 200
    async with services.session_factory() as session:
        sha = hashlib.sha256(body).hexdigest()
        event_id = (
            await session.execute(select(WebhookEvent.id).where(WebhookEvent.body_sha256 == sha))
        ).scalar_one()
    assert await process_event(ctx, event_id) == "processed"
    applied = await _state(world, mid)
    assert len(applied["rows"]) == 1
    # Someone who captured the signed bytes posts them again, on every alias, and an operator
    # replays the stored delivery: acknowledged (Meta's own retries look the same), no effect.
    for path in WEBHOOK_PATHS:
        assert (await http.post(path, content=body, headers=headers)).status_code == 200
    assert await process_event(ctx, event_id) == "processed"
    replayed = await http.post(
        "/graphql",
        json={"query": "mutation { replayWebhookEvents(status: PROCESSED) { __typename } }"},
        headers={"Authorization": f"Bearer {world.owner.token}"},
    )
    assert replayed.status_code == 200
    assert await process_event(ctx, event_id) == "processed"
    assert await _state(world, mid) == applied


async def test_cron_needs_cron_secret(http: httpx.AsyncClient, world: World) -> None:
    """Anything but ``Bearer $CRON_SECRET`` is a 401 (the right secret's sync of every Page:
    tests/rest_sync/test_auto_connect.py::test_cron_syncs_every_page_incrementally)."""
    secret = world.server.runtime.settings.CRON_SECRET
    for authorization in (
        None,
        "",
        "Bearer",
        f"Bearer {secret}x",
        f"Bearer {secret[:-1]}",
        secret.upper(),
        f"Bearer {world.owner.token}",  # a user's JWT is not the cron secret
    ):
        headers = {"Authorization": authorization} if authorization is not None else {}
        answer = await http.get("/api/cron/sync-all-pages", headers=headers)
        assert answer.status_code == 401, authorization
        assert answer.json()["success"] is False
