"""Meta does not order deliveries: whatever order they arrive in, the result is the same.

Found by the webhook loss benchmark (bench/webhook_loss.py), which posts 20 % of its
deliveries out of order: a read receipt that overtook the Page's echo left the echo
"sent", a reaction that overtook its message was dropped, and a contact whose first event
was an echo kept a placeholder name.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from domain.models import Contact, Message, WebhookEvent
from domain.services.webhooks.apply import ApplyContext, process_event
from server import Runtime
from tests.conftest import Tenant
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.webhooks.test_receiver import signed

T0 = 1_700_000_000_000


def _page_event(page: str, item: dict[str, Any]) -> dict[str, Any]:
    entry = {"id": page, "time": item["timestamp"], "messaging": [item]}
    return {"object": "page", "entry": [entry]}


def _message(page: str, person: str, mid: str, at: int, *, echo: bool = False) -> dict[str, Any]:
    sender, recipient = (page, person) if echo else (person, page)
    message: dict[str, Any] = {"mid": mid, "text": f"text of {mid}"}
    if echo:
        message.update(is_echo=True, app_id=1517776481860111)
    return _page_event(page, {"sender": {"id": sender}, "recipient": {"id": recipient},
                              "timestamp": at, "message": message})  # fmt: skip


def _receipt(page: str, person: str, kind: str, at: int) -> dict[str, Any]:
    return _page_event(page, {"sender": {"id": person}, "recipient": {"id": page},
                              "timestamp": at, kind: {"watermark": at}})  # fmt: skip


def _reaction(page: str, person: str, mid: str, at: int, action: str = "react") -> dict[str, Any]:
    return _page_event(page, {"sender": {"id": person}, "recipient": {"id": page}, "timestamp": at,
                              "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f",
                                           "action": action, "mid": mid}})  # fmt: skip


class Inbox:
    def __init__(self, server: SandboxServer, runtime: Runtime, defer: timedelta) -> None:
        services = server.runtime.services
        self.server, self.runtime = server, runtime
        self.ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock, defer)

    async def post(self, payload: dict[str, Any]) -> uuid.UUID:
        body = json.dumps(payload).encode()
        async with self.server.client() as client:
            response = await client.post(
                "/webhooks/meta", content=body, headers=signed(self.runtime, body)
            )
        assert response.status_code == 200
        async with self.ctx.make_uow() as uow:
            return (
                await uow.session.execute(
                    select(WebhookEvent.id).where(WebhookEvent.raw_body == body)
                )
            ).scalar_one()

    async def deliver(self, payload: dict[str, Any]) -> str | None:
        return await process_event(self.ctx, await self.post(payload))

    async def event(self, event_id: uuid.UUID) -> WebhookEvent:
        async with self.ctx.make_uow() as uow:
            event = await uow.session.get(WebhookEvent, event_id)
            assert event is not None
            return event

    async def message(self, tenant: Tenant, mid: str) -> Message:
        async with self.ctx.make_uow() as uow:
            return (
                await uow.session.execute(
                    select(Message).where(
                        Message.organization_id == tenant.org_id, Message.meta_message_id == mid
                    )
                )
            ).scalar_one()


def _person(server: SandboxServer, meta_page_id: str) -> tuple[str, str]:
    """Someone who wrote to the Page on Meta (so the profile API knows them)."""
    page = server.sandbox.store.page(meta_page_id)
    assert page is not None
    conversation = next(c for c in page.conversations if c.platform == "messenger")
    person = server.sandbox.store.get(conversation.person_id)
    return conversation.person_id, person.name


async def test_a_read_receipt_that_overtakes_the_echo_still_covers_it(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "overtake")
    inbox = Inbox(sandbox_server, runtime, timedelta(minutes=5))
    person, _ = _person(sandbox_server, page.meta_page_id)
    pid, echo_mid = page.meta_page_id, f"m_{uuid.uuid4().hex}"
    assert await inbox.deliver(_message(pid, person, f"m_{uuid.uuid4().hex}", T0)) == "processed"
    assert await inbox.deliver(_receipt(pid, person, "delivery", T0 + 3000)) == "processed"
    assert await inbox.deliver(_receipt(pid, person, "read", T0 + 2000)) == "processed"
    # The Page's reply was sent at T0+1000 but its echo arrives after both receipts.
    assert await inbox.deliver(_message(pid, person, echo_mid, T0 + 1000, echo=True)) == "processed"
    assert (await inbox.message(tenant, echo_mid)).status == "read"
    later_mid = f"m_{uuid.uuid4().hex}"
    await inbox.deliver(_message(pid, person, later_mid, T0 + 2500, echo=True))
    assert (await inbox.message(tenant, later_mid)).status == "delivered"


async def test_a_reaction_that_overtakes_its_message_waits_for_it(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "react")
    inbox = Inbox(sandbox_server, runtime, timedelta(minutes=5))
    person, _ = _person(sandbox_server, page.meta_page_id)
    pid, mid = page.meta_page_id, f"m_{uuid.uuid4().hex}"
    reaction = await inbox.post(_reaction(pid, person, mid, T0 + 1000))
    assert await process_event(inbox.ctx, reaction) == "deferred"
    waiting = await inbox.event(reaction)
    assert waiting.status == "received"
    assert waiting.error == f"waiting for message {mid}"

    assert await inbox.deliver(_message(pid, person, mid, T0, echo=True)) == "processed"
    # The worker's retry (or the sweeper) tries again, as often as it happens to.
    assert await process_event(inbox.ctx, reaction) == "processed"
    assert await process_event(inbox.ctx, reaction) == "processed"
    reactions = (await inbox.message(tenant, mid)).reactions
    assert [(r["by"], r["reaction"]) for r in reactions] == [(person, "love")]
    assert (await inbox.event(reaction)).error is None


async def test_a_react_delivered_after_the_newer_unreact_does_not_revive_it(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "unreact")
    inbox = Inbox(sandbox_server, runtime, timedelta(minutes=5))
    person, _ = _person(sandbox_server, page.meta_page_id)
    pid, mid = page.meta_page_id, f"m_{uuid.uuid4().hex}"
    assert await inbox.deliver(_message(pid, person, mid, T0, echo=True)) == "processed"
    unreact = _reaction(pid, person, mid, T0 + 2000, action="unreact")
    assert await inbox.deliver(unreact) == "processed"
    assert await inbox.deliver(_reaction(pid, person, mid, T0 + 1000)) == "processed"
    reactions = (await inbox.message(tenant, mid)).reactions
    assert [r for r in reactions if not r.get("removed")] == []
    # A newer react after all that is the person's reaction again.
    assert await inbox.deliver(_reaction(pid, person, mid, T0 + 3000)) == "processed"
    reactions = (await inbox.message(tenant, mid)).reactions
    assert [(r["by"], r["reaction"]) for r in reactions] == [(person, "love")]


async def test_an_event_whose_message_never_comes_is_dropped_after_the_wait_with_the_reason(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "never")
    inbox = Inbox(sandbox_server, runtime, timedelta(0))
    person, _ = _person(sandbox_server, page.meta_page_id)
    mid = f"m_{uuid.uuid4().hex}"  # a message from before metasync was connected
    event_id = await inbox.post(_reaction(page.meta_page_id, person, mid, T0))
    assert await process_event(inbox.ctx, event_id) == "ignored"
    assert (await inbox.event(event_id)).error == f"gave up waiting for message {mid}"


async def test_a_contact_whose_first_event_is_an_echo_gets_their_name(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "echofirst")
    inbox = Inbox(sandbox_server, runtime, timedelta(minutes=5))
    person, name = _person(sandbox_server, page.meta_page_id)
    mid = f"m_{uuid.uuid4().hex}"
    assert await inbox.deliver(_message(page.meta_page_id, person, mid, T0, echo=True)) == (
        "processed"
    )
    async with inbox.ctx.make_uow() as uow:
        contact = (
            await uow.session.execute(
                select(Contact).where(
                    Contact.organization_id == tenant.org_id, Contact.platform_user_id == person
                )
            )
        ).scalar_one()
    assert (contact.name, contact.meta_name) == (name, name)
