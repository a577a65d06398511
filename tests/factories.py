"""Rows for tests, written through the real models (no fixtures files)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.models import Contact, Conversation, Message, Page
from server import Runtime

BASE_TIME = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@dataclass
class SeededPage:
    page: Page
    conversations: list[Conversation] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    messages: dict[uuid.UUID, list[Message]] = field(default_factory=dict)


async def seed_pages(
    runtime: Runtime,
    org_id: uuid.UUID,
    *,
    pages: int = 1,
    conversations: int = 3,
    messages: int = 4,
    platform: str = "messenger",
) -> list[SeededPage]:
    out: list[SeededPage] = []
    async with runtime.services.uow() as uow:
        for p in range(pages):
            page = Page(
                id=uuid.uuid4(),
                organization_id=org_id,
                meta_page_id=f"{uuid.uuid4().int % 10**15}",
                name=f"Page {p:03d}",
                category="Shop",
            )
            uow.session.add(page)
            seeded = SeededPage(page=page)
            for c in range(conversations):
                contact = Contact(
                    id=uuid.uuid4(),
                    organization_id=org_id,
                    page_id=page.id,
                    platform=platform,
                    platform_user_id=f"psid-{uuid.uuid4().hex[:12]}",
                    name=f"Person {p}-{c}",
                    created_at=BASE_TIME + timedelta(minutes=c),
                )
                conv = Conversation(
                    id=uuid.uuid4(),
                    organization_id=org_id,
                    page_id=page.id,
                    contact_id=contact.id,
                    platform=platform,
                    meta_conversation_id=f"t_{uuid.uuid4().hex}",
                    unread_count=c % 2,
                    updated_time=BASE_TIME + timedelta(hours=c),
                    snippet=f"last words {c}",
                )
                uow.session.add_all([contact, conv])
                seeded.contacts.append(contact)
                seeded.conversations.append(conv)
                msgs = [
                    Message(
                        id=uuid.uuid4(),
                        organization_id=org_id,
                        conversation_id=conv.id,
                        meta_message_id=f"m_{uuid.uuid4().hex}",
                        direction="inbound" if m % 2 == 0 else "outbound",
                        text=f"message {m} of {c}",
                        created_time=BASE_TIME + timedelta(hours=c, minutes=m),
                        status="received" if m % 2 == 0 else "delivered",
                    )
                    for m in range(messages)
                ]
                uow.session.add_all(msgs)
                seeded.messages[conv.id] = msgs
            out.append(seeded)
        await uow.commit()
    return out
