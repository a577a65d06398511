"""Every webhook sample in shared/meta-payloads, signed and posted through the real endpoint,
then applied: messages land in the database and GraphQL, nothing fails, nothing is lost."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.models import Message, Post, Template, WebhookEvent, WhatsAppAccount
from domain.services.webhooks.apply import ApplyContext, process_event
from domain.services.webhooks.events import parse_delivery
from server import Runtime
from tests.conftest import REPO_ROOT
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.webhooks.test_receiver import signed

PAYLOADS = REPO_ROOT.parent / "shared" / "meta-payloads"
SAMPLES = sorted(
    p.name
    for p in PAYLOADS.glob("*.json")
    if re.match(r"(messenger_event|messenger_webhook|ig_webhook|wa_webhook|page_webhook)_", p.name)
)
# Kinds whose effect is a stored message.
MESSAGE_KINDS = {"message", "echo", "postback", "wa_message"}


def test_the_corpus_is_there() -> None:
    assert len(SAMPLES) >= 35, f"meta-payloads not found at {PAYLOADS}"


def _delivery(name: str, ids: dict[str, str]) -> dict[str, Any]:
    """The sample as a whole delivery, addressed to our page / Instagram / WhatsApp account,
    with its message ids made unique to this sample."""
    data: Any = json.loads((PAYLOADS / name).read_text())
    if "object" not in data:  # a single Messenger event: Meta sends it inside an entry
        data = {"object": "page", "entry": [{"id": "<PAGE_ID>", "time": 1700000000000,
                                              "messaging": [data]}]}  # fmt: skip
    owner = {"page": ids["page"], "instagram": ids["ig"], "whatsapp_business_account": ids["waba"]}
    ours = owner[data["object"]]
    text = json.dumps(data)
    for entry in data["entry"]:
        original = str(entry.get("id"))
        if original not in ("", "0"):
            text = text.replace(f'"{original}"', f'"{ours}"')
    text = text.replace('"<PAGE_ID>"', f'"{ids["page"]}"').replace('"0"', f'"{ours}"')
    text = re.sub(r'"(mid|id)": "((?:m_|mid\.|wamid\.|external_id|random_mid)[^"]*)"',
                  lambda m: f'"{m[1]}": "{m[2]}-{name}"', text)  # fmt: skip
    delivery: dict[str, Any] = json.loads(text)
    return delivery


@pytest.fixture
async def ids(sandbox_server: SandboxServer, runtime: Runtime) -> dict[str, str]:
    tenant, page = await connected(sandbox_server, runtime, "corpus")
    info = sandbox_server.sandbox.info()
    waba = info["whatsapp_business_accounts"][0]["id"]
    async with runtime.services.session_factory() as session:
        account = (
            await session.execute(
                select(WhatsAppAccount).where(
                    WhatsAppAccount.organization_id == tenant.org_id,
                    WhatsAppAccount.waba_id == waba,
                )
            )
        ).scalar_one()
        # The templates Meta's status updates in the samples name.
        for template_id, name in (
            ("1689556908129832", "order_confirmation"),
            ("1689556908129835", "abandoned_cart"),
        ):
            session.add(Template(
                organization_id=tenant.org_id, whatsapp_account_id=account.id,
                meta_template_id=template_id, name=name, language="en_US",
                category="UTILITY", status="PENDING",
            ))  # fmt: skip
        await session.commit()
    return {
        "org": str(tenant.org_id),
        "page": page.meta_page_id,
        "ig": info["pages"][0]["instagram_business_account"],
        "waba": waba,
    }


@pytest.mark.parametrize("name", SAMPLES)
async def test_sample_is_received_and_applied(
    sandbox_server: SandboxServer, runtime: Runtime, ids: dict[str, str], name: str
) -> None:
    delivery = _delivery(name, ids)
    body = json.dumps(delivery).encode()
    async with sandbox_server.client() as client:
        response = await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
    assert response.status_code == 200
    services = sandbox_server.runtime.services
    async with services.session_factory() as session:
        event = (
            await session.execute(select(WebhookEvent).where(WebhookEvent.raw_body == body))
        ).scalar_one()
    # No waiting: a sample about a message or conversation this database never had (a
    # status, a reaction, a read) is settled at once, with the reason.
    ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock, timedelta(0))
    status = await process_event(ctx, event.id)
    assert status in ("processed", "ignored"), status
    units = parse_delivery(delivery)
    assert units, name
    async with services.session_factory() as session:
        for unit in units:
            if unit.kind in MESSAGE_KINDS:
                mid = unit.payload.get("mid") or unit.payload.get("id") or unit.key
                stored = (
                    await session.execute(
                        select(Message).where(
                            Message.meta_message_id == str(mid),
                            Message.organization_id == event_organization(ids),
                        )
                    )
                ).scalar_one_or_none()
                assert stored is not None, (name, unit.kind, mid)
            elif unit.kind == "feed" and unit.payload.get("verb") == "add":
                post = (
                    (
                        await session.execute(
                            select(Post).where(Post.meta_post_id == unit.payload["post_id"])
                        )
                    )
                    .scalars()
                    .first()
                )
                assert post is not None
            elif unit.kind == "message_template_status_update":
                template = (
                    await session.execute(
                        select(Template).where(
                            Template.meta_template_id == str(unit.payload["message_template_id"]),
                            Template.organization_id == event_organization(ids),
                        )
                    )
                ).scalar_one()
                assert template.status == unit.payload["event"]
                if template.status == "REJECTED":
                    assert template.rejected_reason == unit.payload["reason"]
    # Posting the same bytes again is the same stored delivery, acknowledged again.
    async with sandbox_server.client() as client:
        again = await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
    assert again.status_code == 200


def event_organization(ids: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(ids["org"])
