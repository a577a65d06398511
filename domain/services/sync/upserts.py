"""Idempotent bulk upserts that count exactly what changed.

Each chunk reads the existing rows by their natural keys in one statement, inserts the new
ones, updates only rows whose values differ, and leaves identical rows untouched (no UPDATE
is sent), so re-syncing unchanged data writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select

from domain.meta import MetaConversation, MetaMessage, MetaParticipant
from domain.models import (
    Contact,
    Conversation,
    Message,
    MessageDirection,
    MessageStatus,
)
from domain.services.sync.fields import SyncSelection
from domain.uow import UnitOfWork

# Natural keys per lookup statement: few round trips, far below both backends' limit on
# bound parameters (32,766 on SQLite 3.32+, 32,767 on PostgreSQL).
LOOKUP_BATCH = 2000
# The table itself, not the ORM entity: a Core executemany skips the ORM's bulk machinery.
MESSAGES_TABLE = cast(Table, Message.__table__)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ChunkResult:
    contacts: Counts = field(default_factory=Counts)
    conversations: Counts = field(default_factory=Counts)
    messages: Counts = field(default_factory=Counts)
    new_contacts: list[Contact] = field(default_factory=list)

    def total(self) -> Counts:
        out = Counts()
        for part in (self.contacts, self.conversations, self.messages):
            out.add(part)
        return out


def _apply(row: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``row``; True when anything differed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _same_instant(a: datetime | None, b: datetime | None) -> bool:
    return a == b or (a is not None and b is not None and a.timestamp() == b.timestamp())


async def upsert_contacts(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    page_id: uuid.UUID,
    platform: str,
    people: Sequence[MetaParticipant],
    counts: Counts,
    *,
    names: bool = True,
) -> tuple[dict[str, Contact], list[Contact]]:
    """Contacts by platform user id; Meta owns name and picture unless edited locally
    (then Meta's value is kept beside the local one). Returns all and the new ones.
    Without ``names`` (a selective sync that leaves contact names out) only the people
    themselves are stored: no name is written, new or old."""
    unique = {p.user_id: p for p in people}
    if not unique:
        return {}, []
    existing = {
        c.platform_user_id: c
        for c in (
            await uow.session.execute(
                select(Contact).where(
                    Contact.page_id == page_id,
                    Contact.platform == platform,
                    Contact.platform_user_id.in_(list(unique)),
                )
            )
        ).scalars()
    }
    created: list[Contact] = []
    for user_id, person in unique.items():
        meta_name = (person.name or person.username) if names else None
        contact = existing.get(user_id)
        if contact is None:
            contact = Contact(
                id=uuid.uuid4(),
                organization_id=organization_id,
                page_id=page_id,
                platform=platform,
                platform_user_id=user_id,
                name=meta_name,
                meta_name=meta_name,
            )
            uow.session.add(contact)
            existing[user_id] = contact
            created.append(contact)
            counts.created += 1
            continue
        # The profile API is the better source of a name (participants carry only a
        # username on Instagram): the participant's name only fills a contact that has none.
        values: dict[str, Any] = {}
        if meta_name and contact.meta_name is None:
            values["meta_name"] = meta_name
            if contact.name is None and "name" not in (contact.locally_edited or []):
                values["name"] = meta_name
        if _apply(contact, values):
            counts.updated += 1
        else:
            counts.unchanged += 1
    return existing, created


async def upsert_conversations(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    page_id: uuid.UUID,
    items: Sequence[MetaConversation],
    contacts: dict[str, Contact],
    counts: Counts,
    *,
    columns: set[str] | None = None,
) -> dict[str, Conversation]:
    """Conversations by Meta's id. ``columns`` (selective sync): the status columns to write;
    the others of an existing row are left as they are (None: all)."""
    keys = [c.meta_conversation_id for c in items]
    existing = {
        c.meta_conversation_id: c
        for c in (
            await uow.session.execute(
                select(Conversation).where(
                    Conversation.organization_id == organization_id,
                    Conversation.meta_conversation_id.in_(keys),
                )
            )
        ).scalars()
    }
    await _adopt_provisional(uow, page_id, items, contacts, existing)
    for item in items:
        person = contacts.get(item.participants[0].user_id) if item.participants else None
        status: dict[str, Any] = {
            "unread_count": item.unread_count,
            "message_count": item.message_count,
            "snippet": item.snippet,
            "folder": item.folder,
        }
        values: dict[str, Any] = {
            "page_id": page_id,
            "platform": item.platform,
            "contact_id": person.id if person else None,
            **{k: v for k, v in status.items() if columns is None or k in columns},
        }
        write_time = columns is None or "updated_time" in columns
        row = existing.get(item.meta_conversation_id)
        if row is None:
            row = Conversation(
                id=uuid.uuid4(),
                organization_id=organization_id,
                meta_conversation_id=item.meta_conversation_id,
                **({"updated_time": item.updated_time} if write_time else {}),
                **values,
            )
            uow.session.add(row)
            existing[item.meta_conversation_id] = row
            counts.created += 1
            continue
        changed = _apply(row, values)
        if write_time and not _same_instant(row.updated_time, item.updated_time):
            row.updated_time = item.updated_time
            changed = True
        counts.updated += changed
        counts.unchanged += not changed
    return existing


async def _adopt_provisional(
    uow: UnitOfWork,
    page_id: uuid.UUID,
    items: Sequence[MetaConversation],
    contacts: dict[str, Contact],
    existing: dict[str, Conversation],
) -> None:
    """A conversation first seen through a webhook has a provisional id (webhooks do not
    name Meta's conversation); the sync that finds it gives it Meta's id, so the thread and
    its messages stay one."""
    wanted = {
        contacts[c.participants[0].user_id].id: c.meta_conversation_id
        for c in items
        if c.meta_conversation_id not in existing
        and c.participants
        and c.participants[0].user_id in contacts
    }
    if not wanted:
        return
    rows = (
        await uow.session.execute(
            select(Conversation).where(
                Conversation.page_id == page_id,
                Conversation.contact_id.in_(list(wanted)),
                Conversation.meta_conversation_id.like("pending:%"),
            )
        )
    ).scalars()
    for row in rows:
        assert row.contact_id is not None
        row.meta_conversation_id = wanted[row.contact_id]
        existing[row.meta_conversation_id] = row


async def upsert_messages(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    meta_page_id: str,
    conversations: dict[str, Conversation],
    items: Sequence[MetaConversation],
    counts: Counts,
) -> None:
    """New messages go in as one bulk INSERT of plain rows (building an ORM object per
    message cost more than the insert itself); existing ones are compared and updated
    only when Meta's values differ."""
    wanted: list[tuple[Conversation, MetaMessage]] = [
        (conversations[c.meta_conversation_id], m) for c in items for m in c.messages
    ]
    if not wanted:
        return
    ids = [m.meta_message_id for _, m in wanted]
    existing: dict[str, Message] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start : start + LOOKUP_BATCH]
        rows = await uow.session.execute(
            select(Message).where(
                Message.organization_id == organization_id, Message.meta_message_id.in_(batch)
            )
        )
        existing.update({m.meta_message_id: m for m in rows.scalars()})
    new: dict[str, dict[str, Any]] = {}
    for conversation, item in wanted:
        # Details Meta no longer shows (the message aged past the 20 most recent) are kept,
        # not erased; the delivery status belongs to webhooks and is never set back here.
        values = _details(item) if item.detailed else {}
        if item.detailed:
            values["detail_available"] = True
        row = existing.get(item.meta_message_id)
        if row is not None:
            changed = _apply(row, values)
        elif item.meta_message_id in new:  # listed twice in one chunk: the first one wins
            pending = new[item.meta_message_id]
            changed = any(pending[k] != v for k, v in values.items())
            pending.update(values)
        else:
            new[item.meta_message_id] = _new_message(
                organization_id, meta_page_id, conversation.id, item
            )
            counts.created += 1
            continue
        counts.updated += changed
        counts.unchanged += not changed
    if new:
        await uow.session.execute(insert(MESSAGES_TABLE), list(new.values()))


def _new_message(
    organization_id: uuid.UUID, meta_page_id: str, conversation_id: uuid.UUID, item: MetaMessage
) -> dict[str, Any]:
    outbound = item.sender_id == meta_page_id
    direction = MessageDirection.OUTBOUND if outbound else MessageDirection.INBOUND
    status = MessageStatus.SENT if outbound else MessageStatus.RECEIVED
    return {
        "id": uuid.uuid4(),
        "organization_id": organization_id,
        "conversation_id": conversation_id,
        "meta_message_id": item.meta_message_id,
        "direction": direction.value,
        "status": status.value,
        "created_time": item.created_time,
        "detail_available": item.detailed,
        **_details(item),
    }


def _details(item: MetaMessage) -> dict[str, Any]:
    return {
        "text": item.text,
        "sender_id": item.sender_id,
        "recipient_id": item.recipient_id,
        "attachments": list(item.attachments),
        "reply_to_meta_id": item.reply_to,
    }


async def apply_chunk(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    page_id: uuid.UUID,
    meta_page_id: str,
    items: Sequence[MetaConversation],
    *,
    selection: SyncSelection,
) -> ChunkResult:
    """One transaction's worth of conversations (contacts, conversations, messages), writing
    only what ``selection`` chose. People are always stored (conversations link to them);
    conversations only when a conversation field or the messages are selected."""
    result = ChunkResult()
    contacts: dict[str, Contact] = {}
    for platform in {c.platform for c in items}:
        people = [p for c in items if c.platform == platform for p in c.participants]
        found, new = await upsert_contacts(
            uow, organization_id, page_id, platform, people, result.contacts,
            names="name" in selection.contacts,
        )  # fmt: skip
        contacts.update(found)
        result.new_contacts.extend(new)
    await uow.session.flush()
    if not selection.conversations and not selection.messages:
        return result
    conversations = await upsert_conversations(
        uow, organization_id, page_id, items, contacts, result.conversations,
        columns=selection.columns("conversations"),
    )  # fmt: skip
    await uow.session.flush()
    if selection.messages:
        await upsert_messages(
            uow, organization_id, meta_page_id, conversations, items, result.messages
        )
    await uow.session.flush()
    return result
