"""The webhook receiver: handshake, signatures, the inbox, and applying events once."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text

from domain.models import Conversation, Message, WebhookEvent
from domain.services.webhooks.apply import ApplyContext, process_event
from graph_client.signature import sign_payload_sha256
from resolvers.webhooks.receiver import inbox_for
from server import Runtime
from tests.conftest import Tenant, requires_postgres
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected

PATHS = ("/webhooks/meta", "/api/webhook", "/api/meta/webhook/events")


def signed(runtime: Runtime, body: bytes) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": sign_payload_sha256(body, runtime.settings.META_APP_SECRET),
        "Content-Type": "application/json",
    }


async def _events(runtime: Runtime, digest_body: bytes) -> list[WebhookEvent]:
    digest = hashlib.sha256(digest_body).hexdigest()
    async with runtime.services.session_factory() as session:
        rows = await session.execute(select(WebhookEvent).where(WebhookEvent.body_sha256 == digest))
        return list(rows.scalars())


@pytest.mark.parametrize("path", PATHS)
async def test_verification_handshake(
    client: httpx.AsyncClient, runtime: Runtime, path: str
) -> None:
    ok = await client.get(
        path,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": runtime.settings.WEBHOOK_VERIFY_TOKEN,
        },
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    bad = await client.get(
        path,
        params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "guess"},
    )
    assert bad.status_code == 403


@pytest.mark.parametrize("path", PATHS)
async def test_signature_is_required_and_checked_over_raw_bytes(
    client: httpx.AsyncClient, runtime: Runtime, path: str
) -> None:
    body = json.dumps({"object": "page", "entry": [], "n": uuid.uuid4().hex}).encode()
    missing = await client.post(path, content=body)
    wrong = await client.post(
        path, content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    # Signed over different bytes (re-serialised JSON): refused too.
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    other_bytes = await client.post(path, content=body, headers=signed(runtime, reserialised))
    assert [missing.status_code, wrong.status_code, other_bytes.status_code] == [401, 401, 401]
    assert await _events(runtime, body) == []
    accepted = await client.post(path, content=body, headers=signed(runtime, body))
    assert accepted.status_code == 200
    assert len(await _events(runtime, body)) == 1


async def test_unreadable_bodies_are_kept_as_failed_and_acknowledged(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for body in (
        b"{not json" + uuid.uuid4().hex.encode(),
        json.dumps({"object": "cats", "x": uuid.uuid4().hex}).encode(),
        # An unhashable object once escaped as a 500 (found by tests/fuzz).
        json.dumps({"object": ["page"], "entry": [], "x": uuid.uuid4().hex}).encode(),
    ):
        response = await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
        assert response.status_code == 200
        [event] = await _events(runtime, body)
        assert event.status == "failed"
        assert event.error
        assert event.raw_body == body


async def test_a_burst_is_stored_whole_each_delivery_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Deliveries arriving together share transactions (group commit); each is still
    answered only once stored, a redelivery in the same burst is the same row, and an
    unreadable one among them is kept as failed without failing the others."""
    bodies = [
        json.dumps({"object": "page", "entry": [], "burst": uuid.uuid4().hex}).encode()
        for _ in range(60)
    ]
    broken = b"{broken " + uuid.uuid4().hex.encode()
    posted = [*bodies, bodies[0], bodies[1], broken, bodies[0]]
    answers = await asyncio.gather(
        *(client.post("/webhooks/meta", content=b, headers=signed(runtime, b)) for b in posted)
    )
    assert [a.status_code for a in answers] == [200] * len(posted)
    for body in bodies:
        [event] = await _events(runtime, body)
        assert (event.raw_body, event.status) == (body, "received")
    [failed] = await _events(runtime, broken)
    assert failed.status == "failed"


class _SlowBroker:
    """A broker that accepts jobs only once released (Redis stalled)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object]]] = []
        self.release = threading.Event()

    def enqueue(self, actor_name: str, **kwargs: object) -> None:
        self.release.wait(30)
        self.sent.append((actor_name, kwargs))


async def test_the_answer_does_not_wait_for_the_broker_and_shutdown_sends_what_is_left(
    runtime: Runtime,
) -> None:
    """A delivery is answered once stored, not once its job reached the broker; on shutdown
    the inbox is drained, so every stored delivery's job is handed over before exit."""
    broker = _SlowBroker()
    services = dataclasses.replace(runtime.services, jobs=broker)
    inbox = inbox_for(services)
    body = json.dumps({"object": "page", "entry": [], "n": uuid.uuid4().hex}).encode()
    stored = await inbox.store(body)  # answered while the broker still holds the job
    assert stored.created
    assert broker.sent == []
    broker.release.set()
    await inbox.aclose()
    assert broker.sent == [("process_webhook_event", {"event_id": str(stored.event_id)})]


@requires_postgres
async def test_a_dropped_database_connection_costs_meta_no_delivery(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The receiver keeps one connection open for the inbox; when PostgreSQL drops it
    (restart, failover, an operator's pg_terminate_backend), the next delivery is still
    stored and answered 200 on a new one, not failed back to Meta."""
    first, second = (
        json.dumps({"object": "page", "entry": [], "n": uuid.uuid4().hex}).encode()
        for _ in range(2)
    )
    response = await client.post("/webhooks/meta", content=first, headers=signed(runtime, first))
    assert response.status_code == 200
    async with runtime.services.engine.connect() as admin:
        dropped = await admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        assert any(dropped.scalars())
    response = await client.post("/webhooks/meta", content=second, headers=signed(runtime, second))
    assert response.status_code == 200
    assert len(await _events(runtime, second)) == 1


async def test_oversized_bodies_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    body = b'{"object":"page","entry":[],"pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
    assert response.status_code == 413


async def _wait_for(check: object, seconds: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_sandbox_message_arrives_through_a_signed_webhook(
    sandbox_server: SandboxServer, runtime: Runtime, worker: None
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "webhook-e2e")
    sent = await sandbox_server.sandbox.simulate_inbound_message(
        page_id=page.meta_page_id, text="Do you deliver on Sundays?"
    )
    await sandbox_server.sandbox.flush_webhooks()
    # Every organization managing the (deterministic) sandbox Page gets it; look at ours.
    mine = (
        Message.meta_message_id == sent["message_id"],
        Message.organization_id == tenant.org_id,
    )

    async def arrived() -> bool:
        async with runtime.services.session_factory() as session:
            row = (await session.execute(select(Message).where(*mine))).scalar_one_or_none()
        return row is not None

    await _wait_for(arrived)
    async with runtime.services.session_factory() as session:
        message = (await session.execute(select(Message).where(*mine))).scalar_one()
        conversation = await session.get(Conversation, message.conversation_id)
    assert message.text == "Do you deliver on Sundays?"
    assert message.direction == "inbound"
    assert conversation is not None
    assert conversation.snippet == "Do you deliver on Sundays?"
    await _graphql_sees(sandbox_server, tenant, "Do you deliver on Sundays?")


async def _graphql_sees(server: SandboxServer, tenant: Tenant, text: str) -> None:
    query = """{ pages { edges { node { conversations(first: 50) { edges { node {
        messages(first: 1) { edges { node { text } } } } } } } } } }"""
    async with server.client() as client:
        body = (
            await client.post("/graphql", json={"query": query}, headers=server.headers(tenant))
        ).json()
    texts = [
        m["node"]["text"]
        for p in body["data"]["pages"]["edges"]
        for c in p["node"]["conversations"]["edges"]
        for m in c["node"]["messages"]["edges"]
    ]
    assert text in texts


async def test_the_same_delivery_three_times_even_concurrently_applies_once(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "webhook-dup")
    mid = f"m_{uuid.uuid4().hex}"
    psid = f"{uuid.uuid4().int % 10**15}"
    # Three deliveries that differ in bytes (Meta batches differently) but carry one event.
    bodies = [
        json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": page.meta_page_id,
                        "time": 1700000000000 + i,
                        "messaging": [
                            {
                                "sender": {"id": psid},
                                "recipient": {"id": page.meta_page_id},
                                "timestamp": 1700000000000,
                                "message": {"mid": mid, "text": "once"},
                            }
                        ],
                    }
                ],
            }
        ).encode()
        for i in range(3)
    ]
    services = sandbox_server.runtime.services
    for body in bodies:
        async with sandbox_server.client() as client:
            response = await client.post(
                "/webhooks/meta", content=body, headers=signed(runtime, body)
            )
        assert response.status_code == 200
    events = [e for b in bodies for e in await _events(runtime, b)]
    ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock)
    await asyncio.gather(*(process_event(ctx, e.id) for e in events))
    async with runtime.services.session_factory() as session:
        count = (
            await session.execute(
                select(func.count())
                .select_from(Message)
                .where(Message.meta_message_id == mid, Message.organization_id == tenant.org_id)
            )
        ).scalar_one()
        conversation = (
            await session.execute(
                select(Conversation)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Message.meta_message_id == mid, Message.organization_id == tenant.org_id)
            )
        ).scalar_one()
    # (Other organizations managing the same Page get their own copy, once each too.)
    assert count == 1
    assert conversation.unread_count == 1
