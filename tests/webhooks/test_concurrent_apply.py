"""Workers apply events of one conversation at the same time: nothing is lost in between.

Found by the webhook loss benchmark on PostgreSQL: two new messages applied at once counted
one unread (both read the count, both wrote it plus one), and concurrent receipts could
leave the older watermark.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from domain.models import Contact, Conversation
from domain.services.webhooks.apply import process_event
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.webhooks.test_out_of_order import T0, Inbox, _message, _person, _receipt


async def test_concurrent_messages_and_receipts_of_one_conversation_all_count(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "concurrent")
    inbox = Inbox(sandbox_server, runtime, timedelta(minutes=5))
    person, _ = _person(sandbox_server, page.meta_page_id)
    pid = page.meta_page_id
    assert await inbox.deliver(_message(pid, person, f"m_{uuid.uuid4().hex}", T0)) == "processed"
    events = [await inbox.post(_message(pid, person, f"m_{uuid.uuid4().hex}", T0 + i))
              for i in range(1, 13)]  # fmt: skip
    events += [await inbox.post(_receipt(pid, person, "read", T0 + 100 + i)) for i in range(6)]
    results = await asyncio.gather(*(process_event(inbox.ctx, e) for e in events))
    assert set(results) == {"processed"}
    async with runtime.services.session_factory() as session:
        conversation = (
            await session.execute(
                select(Conversation)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(
                    Conversation.organization_id == tenant.org_id,
                    Contact.platform_user_id == person,
                )
            )
        ).scalar_one()
    assert conversation.unread_count == 13
    assert conversation.read_watermark is not None
    assert int(conversation.read_watermark.timestamp() * 1000) == T0 + 105
