"""Issue 9, item 4: the bulk upsert of 10,000 messages that sync uses, against the best
plain insert of the same rows into an empty twin table, on SQLite and (with
BENCH_DATABASE_URL) PostgreSQL; and re-upserting the unchanged rows writes nothing.

metasync's side is ``upsert_messages`` (domain/services/sync/upserts.py) over 500
conversations x 20 messages in one unit of work, committed. The baseline builds the same
row values and sends them as one Core executemany in one transaction, into a twin table
with the same columns, keys and indexes. Each side runs a few times; the best time counts.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    event,
    select,
    text,
)

from bench.dataset import BASE_TIME, drop_pages, seed_pages
from bench.harness import database_urls, sandbox_runtime, tenant
from bench.report import Figure
from domain.meta import MetaConversation, MetaMessage
from domain.models import Conversation, Message, MessageDirection, MessageStatus
from domain.services.sync.upserts import Counts, upsert_messages
from server import Runtime

CONVERSATIONS, PER_CONVERSATION = 500, 20
MESSAGES = CONVERSATIONS * PER_CONVERSATION
ROUNDS = 3
TWIN = "bench_messages_twin"
WRITES = ("INSERT", "UPDATE", "DELETE")


def _twin_table() -> Table:
    """The messages table's columns, unique key, foreign keys and indexes under new names."""
    source = Message.__table__
    columns = [
        Column(
            c.name,
            c.type,
            *(ForeignKey(fk.column, ondelete=fk.ondelete) for fk in c.foreign_keys),
            primary_key=c.primary_key,
            nullable=c.nullable,
        )
        for c in source.columns
    ]
    indexed = [c.name for c in source.columns if c.index]
    return Table(
        TWIN,
        MetaData(),
        *columns,
        UniqueConstraint("organization_id", "meta_message_id", name=f"uq_{TWIN}"),
        Index(f"ix_{TWIN}_conversation_created_id", "conversation_id", "created_time", "id"),
        *(Index(f"ix_{TWIN}_{name}", name) for name in indexed),
    )


def _items(conversations: list[dict[str, Any]], meta_page_id: str) -> list[MetaConversation]:
    """What Meta returns for the conversations: 20 detailed messages each, newest first."""
    out = []
    for row in conversations:
        messages = [
            MetaMessage(
                meta_message_id=f"m_{uuid.uuid4().hex}",
                created_time=BASE_TIME + timedelta(minutes=m),
                detailed=True,
                text=f"message {m}: " + "lorem ipsum " * 6,
                sender_id=meta_page_id if m % 2 else "4242",
                recipient_id="4242" if m % 2 else meta_page_id,
                attachments=[{"type": "image", "url": "https://x.test/i.png"}]
                if m % 7 == 0
                else [],
            )
            for m in reversed(range(PER_CONVERSATION))
        ]
        out.append(
            MetaConversation(
                meta_conversation_id=row["meta_conversation_id"], platform="messenger",
                updated_time=row["updated_time"], messages=messages,
            )
        )  # fmt: skip
    return out


def _plain_rows(
    org_id: uuid.UUID, meta_page_id: str, by_meta_id: dict[str, uuid.UUID],
    items: list[MetaConversation],
) -> list[dict[str, Any]]:  # fmt: skip
    """The values metasync stores for each message, built the straightforward way."""
    now = BASE_TIME
    rows = []
    for item in items:
        conversation_id = by_meta_id[item.meta_conversation_id]
        for m in item.messages:
            outbound = m.sender_id == meta_page_id
            direction = MessageDirection.OUTBOUND if outbound else MessageDirection.INBOUND
            rows.append(
                {"id": uuid.uuid4(), "organization_id": org_id, "conversation_id": conversation_id,
                 "meta_message_id": m.meta_message_id,
                 "direction": direction.value,
                 "status": (MessageStatus.SENT if outbound else MessageStatus.RECEIVED).value,
                 "sender_id": m.sender_id, "recipient_id": m.recipient_id, "text": m.text,
                 "attachments": list(m.attachments), "reply_to_meta_id": m.reply_to,
                 "reactions": [], "created_time": m.created_time, "detail_available": True,
                 "deleted": False, "created_at": now, "updated_at": now}
            )  # fmt: skip
    return rows


@contextlib.contextmanager
def _counting_writes(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement[:80])

    engine = runtime.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def _measure(label: str, url: str) -> list[Figure]:
    async with sandbox_runtime(database_url=url, redis_url="", sandbox=False) as rt:
        services = rt.services
        who = await tenant(rt, f"bulk-{uuid.uuid4().hex[:8]}@example.com")
        org = who.organization_id
        seeded = await seed_pages(rt, org, pages=1, conversations=CONVERSATIONS, messages=0)
        meta_page_id = seeded.meta_page_ids[0]
        by_meta_id = {c["meta_conversation_id"]: c["id"] for c in seeded.conversations}
        async with services.uow() as uow:
            found = await uow.session.execute(
                select(Conversation).where(Conversation.organization_id == org)
            )
            conversations = {c.meta_conversation_id: c for c in found.scalars()}
        twin = _twin_table()
        plain_best = ours_best = float("inf")
        first_items: list[MetaConversation] = []
        try:
            for _ in range(ROUNDS):
                items = _items(seeded.conversations, meta_page_id)
                first_items = first_items or items
                async with services.engine.begin() as conn:
                    await conn.run_sync(twin.drop, checkfirst=True)
                    await conn.run_sync(twin.create)
                    if conn.dialect.name == "postgresql":
                        # What autovacuum does in production (it is off on the shared test
                        # server): with statistics from when the table was empty, the
                        # planner looks messages up through the organization index alone
                        # and filters every message of the organization (seconds, not ms).
                        await conn.execute(text("ANALYZE messages"))
                started = time.perf_counter()
                async with services.engine.begin() as conn:
                    await conn.execute(
                        twin.insert(), _plain_rows(org, meta_page_id, by_meta_id, items)
                    )
                plain_best = min(plain_best, time.perf_counter() - started)

                started = time.perf_counter()
                counts = Counts()
                async with services.uow() as uow:
                    await upsert_messages(uow, org, meta_page_id, conversations, items, counts)
                    await uow.commit()
                ours_best = min(ours_best, time.perf_counter() - started)
                assert counts.created == MESSAGES, counts
            again = Counts()
            with _counting_writes(rt) as writes:
                async with services.uow() as uow:
                    await upsert_messages(uow, org, meta_page_id, conversations, first_items, again)
                    await uow.commit()
            assert again.unchanged == MESSAGES, again
        finally:
            async with services.engine.begin() as conn:
                await conn.run_sync(twin.drop, checkfirst=True)
            await drop_pages(rt, org)
    return [
        Figure(f"bulk_upsert.{label}.rate_vs_plain_insert", plain_best / ours_best, ">= 0.7",
               f"{MESSAGES / ours_best:.0f} rows/s ({ours_best:.2f}s) "
               f"plain={MESSAGES / plain_best:.0f} rows/s ({plain_best:.2f}s)"),
        Figure(f"bulk_upsert.{label}.reupsert_writes", float(len(writes)), "<= 0",
               f"{len(writes)} write statements, {again.unchanged} rows unchanged"),
    ]  # fmt: skip


async def run() -> list[Figure]:
    figures: list[Figure] = []
    with database_urls() as urls:
        for label, url in urls:
            figures.extend(await _measure(label, url))
    return figures
