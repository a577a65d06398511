"""Reordered and foreign deliveries: a status never goes backwards; unknown Pages are ignored."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from domain.models import Message, WebhookEvent
from domain.services.webhooks.apply import ApplyContext, process_event
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.webhooks.test_receiver import signed


async def _deliver(server: SandboxServer, runtime: Runtime, payload: dict[str, object]) -> str:
    body = json.dumps(payload).encode()
    async with server.client() as client:
        assert (
            await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
        ).status_code == 200
    services = server.runtime.services
    async with services.session_factory() as session:
        event = (
            await session.execute(select(WebhookEvent).where(WebhookEvent.raw_body == body))
        ).scalar_one()
    ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock)
    status = await process_event(ctx, event.id)
    assert status is not None
    return status


def _wa(waba: str, kind: str, item: dict[str, object]) -> dict[str, object]:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}, kind: [item]}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"field": "messages", "value": value}]}],
    }


async def test_a_late_delivered_after_read_is_ignored(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, _ = await connected(sandbox_server, runtime, "order")
    waba = sandbox_server.sandbox.info()["whatsapp_business_accounts"][0]["id"]
    wamid = f"wamid.{uuid.uuid4().hex}"
    # An outbound message metasync knows (as sent by metasync).
    inbound = {"from": "15550001111", "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1700000000",
               "type": "text", "text": {"body": "hi"}}  # fmt: skip
    assert await _deliver(sandbox_server, runtime, _wa(waba, "messages", inbound)) == "processed"
    services = sandbox_server.runtime.services
    async with services.session_factory() as session:
        first = (
            await session.execute(
                select(Message).where(
                    Message.meta_message_id == inbound["id"],
                    Message.organization_id == tenant.org_id,
                )
            )
        ).scalar_one()
        session.add(
            Message(
                organization_id=tenant.org_id, conversation_id=first.conversation_id,
                meta_message_id=wamid, direction="outbound", status="sent", text="Your order",
            )
        )  # fmt: skip
        await session.commit()

    def status(state: str, ts: str) -> dict[str, object]:
        return _wa(waba, "statuses", {"id": wamid, "status": state, "timestamp": ts,
                                      "recipient_id": "15550001111"})  # fmt: skip

    await _deliver(sandbox_server, runtime, status("read", "1700000100"))
    await _deliver(sandbox_server, runtime, status("delivered", "1700000050"))  # arrives late
    async with services.session_factory() as session:
        row = (
            await session.execute(
                select(Message).where(
                    Message.meta_message_id == wamid, Message.organization_id == tenant.org_id
                )
            )
        ).scalar_one()
    assert row.status == "read"


async def test_deliveries_for_pages_metasync_does_not_manage_are_ignored(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    stranger_page = str(uuid.uuid4().int % 10**15)
    payload = {
        "object": "page",
        "entry": [{"id": stranger_page, "time": 1700000000000, "messaging": [
            {"sender": {"id": "1"}, "recipient": {"id": stranger_page}, "timestamp": 1700000000000,
             "message": {"mid": f"m_{uuid.uuid4().hex}", "text": "not for us"}}]}],
    }  # fmt: skip
    assert await _deliver(sandbox_server, runtime, payload) == "ignored"
