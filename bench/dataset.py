"""Rows for benches: pages with conversations, their contacts and messages, written with
Core bulk inserts (seeding is not what is measured)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert

from domain.models import Contact, Conversation, Message, Page
from server import Runtime

BASE_TIME = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@dataclass
class Seeded:
    page_ids: list[uuid.UUID] = field(default_factory=list)
    meta_page_ids: list[str] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)


async def seed_pages(
    runtime: Runtime, org_id: uuid.UUID, *, pages: int, conversations: int, messages: int
) -> Seeded:
    out = Seeded()
    page_rows: list[dict[str, Any]] = []
    contact_rows: list[dict[str, Any]] = []
    conversation_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    for p in range(pages):
        page_id, meta_page_id = uuid.uuid4(), f"{10**14 + uuid.uuid4().int % 10**14}"
        out.page_ids.append(page_id)
        out.meta_page_ids.append(meta_page_id)
        page_rows.append(
            {"id": page_id, "organization_id": org_id, "meta_page_id": meta_page_id,
             "name": f"Page {p:03d}", "category": "Shop"}
        )  # fmt: skip
        for c in range(conversations):
            contact_id, conversation_id = uuid.uuid4(), uuid.uuid4()
            contact_rows.append(
                {"id": contact_id, "organization_id": org_id, "page_id": page_id,
                 "platform": "messenger", "platform_user_id": f"psid-{uuid.uuid4().hex[:16]}",
                 "name": f"Person {p}-{c}", "meta_name": f"Person {p}-{c}",
                 "created_at": BASE_TIME + timedelta(minutes=c)}
            )  # fmt: skip
            conversation = {
                "id": conversation_id, "organization_id": org_id, "page_id": page_id,
                "contact_id": contact_id, "platform": "messenger",
                "meta_conversation_id": f"t_{uuid.uuid4().hex}", "unread_count": c % 3,
                "updated_time": BASE_TIME + timedelta(hours=c), "snippet": f"last words {c}",
            }  # fmt: skip
            conversation_rows.append(conversation)
            out.conversations.append(conversation)
            for m in range(messages):
                message_rows.append(
                    {"id": uuid.uuid4(), "organization_id": org_id,
                     "conversation_id": conversation_id, "meta_message_id": f"m_{uuid.uuid4().hex}",
                     "direction": "inbound" if m % 2 == 0 else "outbound",
                     "sender_id": "1", "recipient_id": meta_page_id,
                     "text": f"message {m} of conversation {c}: " + "lorem ipsum " * 4,
                     "created_time": BASE_TIME + timedelta(hours=c, minutes=m),
                     "status": "received" if m % 2 == 0 else "delivered"}
                )  # fmt: skip
    async with runtime.services.engine.begin() as conn:
        for model, rows in (
            (Page, page_rows),
            (Contact, contact_rows),
            (Conversation, conversation_rows),
            (Message, message_rows),
        ):
            for start in range(0, len(rows), 2000):
                await conn.execute(insert(model), rows[start : start + 2000])
    return out


async def drop_pages(runtime: Runtime, org_id: uuid.UUID) -> None:
    """Delete an organization's pages and, by cascade, what hangs off them: a long-lived
    bench database (BENCH_DATABASE_URL) keeps no bench rows."""
    async with runtime.services.engine.begin() as conn:
        await conn.execute(delete(Page).where(Page.organization_id == org_id))
