"""A conversation first seen through a webhook becomes Meta's conversation at the next sync."""

from __future__ import annotations

from sqlalchemy import func, select

from domain.models import Conversation, Message, WebhookEvent
from domain.services.sync.runs import SyncScope
from domain.services.webhooks.apply import ApplyContext, process_event
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected, sync


async def test_sync_adopts_the_webhook_conversation(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "reconcile")
    sent = await sandbox_server.sandbox.simulate_inbound_message(
        page_id=page.meta_page_id, text="Is this still available?"
    )
    await sandbox_server.sandbox.flush_webhooks()
    services = sandbox_server.runtime.services
    ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock)
    # This test's delivery only: the database is shared with the rest of the suite.
    mid = str(sent["message_id"]).encode()
    async with services.session_factory() as session:
        received = await session.execute(
            select(WebhookEvent.id, WebhookEvent.raw_body).where(WebhookEvent.status == "received")
        )
        pending = [event_id for event_id, raw in received if mid in raw]
    assert pending, "the simulated message's delivery is in the inbox"
    for event_id in pending:
        await process_event(ctx, event_id)

    async def conversations() -> list[Conversation]:
        async with services.session_factory() as session:
            rows = await session.execute(
                select(Conversation).where(Conversation.page_id == page.id)
            )
            return list(rows.scalars())

    [provisional] = await conversations()
    assert provisional.meta_conversation_id.startswith("pending:")

    run = await sync(sandbox_server, tenant, page, SyncScope.FULL)
    assert run.status == "succeeded", run.error
    after = await conversations()
    adopted = next(c for c in after if c.id == provisional.id)
    assert adopted.meta_conversation_id == sent["conversation_id"]
    assert not [c for c in after if c.meta_conversation_id.startswith("pending:")]
    async with services.session_factory() as session:
        copies = (
            await session.execute(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.meta_message_id == sent["message_id"],
                    Message.organization_id == tenant.org_id,
                )
            )
        ).scalar_one()
    assert copies == 1
