"""Rows for tests, written through the real models (no fixtures files)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.models import Contact, Conversation, InstagramAccount, Message, MetaConnection, Page
from domain.services.connections import ConnectReport, add_meta_token
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


async def connect_meta(
    runtime: Runtime, org_id: uuid.UUID, user_id: uuid.UUID, token: str, *, label: str = "t"
) -> ConnectReport:
    """Connect what ``token`` reaches on ``runtime``'s Meta (the sandbox) for an organization,
    as pasting a token does."""
    services = runtime.services
    return await add_meta_token(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=org_id,
        user_id=user_id,
        label=label,
        token=token,
        now=services.clock.now(),
    )


@dataclass
class SeededAccounts:
    connection: MetaConnection
    pages: list[Page] = field(default_factory=list)
    instagram: list[InstagramAccount] = field(default_factory=list)


async def seed_instagram_accounts(
    runtime: Runtime,
    org_id: uuid.UUID,
    count: int,
    *,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> SeededAccounts:
    """``count`` Pages, each with its Instagram account, reached through one Meta login."""
    conn = MetaConnection(
        id=uuid.uuid4(),
        organization_id=org_id,
        label=f"seed-{uuid.uuid4().hex[:6]}",
        meta_user_id=f"{uuid.uuid4().int % 10**15}",
        scopes=list(scopes or []),
        expires_at=expires_at,
        last_refreshed_at=BASE_TIME,
    )
    seeded = SeededAccounts(connection=conn)
    async with runtime.services.uow() as uow:
        uow.session.add(conn)
        await uow.session.flush()
        for i in range(count):
            page = Page(
                id=uuid.uuid4(),
                organization_id=org_id,
                connection_id=conn.id,
                meta_page_id=f"{uuid.uuid4().int % 10**15}",
                name=f"Page {i:03d}",
                last_synced_at=BASE_TIME,
            )
            uow.session.add(page)
            await uow.session.flush()
            ig = InstagramAccount(
                id=uuid.uuid4(),
                organization_id=org_id,
                page_id=page.id,
                connection_id=conn.id,
                meta_ig_id=f"1784{uuid.uuid4().int % 10**12}",
                username=f"shop_{i:03d}",
                created_at=BASE_TIME + timedelta(minutes=i),
            )
            uow.session.add(ig)
            seeded.pages.append(page)
            seeded.instagram.append(ig)
        await uow.commit()
    return seeded
