"""What a finished sync run did, in the terms spec/facebook-sync-api.md answers with.

The run records exact counts per kind (``details["counts"]``: page, contacts,
conversations, messages). Rows are listed from the database; a row counts as ``created``
when it was first stored while the run ran (so a re-run that finds nothing new lists every
row with ``created: false``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from domain.errors import NotFoundError
from domain.models import Contact, Conversation, Page, SyncRun, SyncStatus
from domain.repositories.channels import PageRepository
from domain.repositories.messaging import ConversationRepository
from domain.repositories.sync_stats import PageTotals, SyncStatsRepository
from domain.services.sync.upserts import Counts
from domain.uow import UnitOfWork

T = TypeVar("T")
# Rows listed in one answer; the counts stay exact beyond it (the answer says it was cut).
LIST_LIMIT = 1000


def kind_counts(run: SyncRun, kind: str) -> Counts:
    """The run's counts for one kind: page, contacts, conversations or messages."""
    raw = (run.details.get("counts") or {}).get(kind) or {}
    return Counts(
        created=int(raw.get("created", 0)),
        updated=int(raw.get("updated", 0)),
        unchanged=int(raw.get("unchanged", 0)),
    )


def synced(counts: Counts) -> int:
    """Rows the run read from Meta and applied (new, changed or already up to date)."""
    return counts.created + counts.updated + counts.unchanged


def created_during(run: SyncRun, stored_at: datetime) -> bool:
    if run.started_at is None:
        return False
    return stored_at >= run.started_at and (run.finished_at is None or stored_at <= run.finished_at)


@dataclass(frozen=True)
class ContactLine:
    id: uuid.UUID
    name: str | None
    facebook_id: str
    created: bool


@dataclass(frozen=True)
class MessageLine:
    id: uuid.UUID
    facebook_message_id: str
    created: bool
    sender: str | None  # the person's or the Page's name; None when Meta no longer shows it
    sender_id: str | None
    created_time: datetime


@dataclass(frozen=True)
class ConversationLine:
    id: uuid.UUID
    facebook_conversation_id: str
    messages: int


@dataclass(frozen=True)
class Listing(Generic[T]):
    rows: list[T]
    truncated: bool


@dataclass(frozen=True)
class PageStatus:
    page: Page
    totals: PageTotals
    last_succeeded: SyncRun | None
    last_run: SyncRun | None


async def _page(uow: UnitOfWork, organization_id: uuid.UUID, page_id: uuid.UUID) -> Page:
    page = await PageRepository(uow.session, organization_id).get(page_id)
    if page is None:
        raise NotFoundError("Page")
    return page


def _listing(rows: list[T]) -> Listing[T]:
    return Listing(rows[:LIST_LIMIT], len(rows) > LIST_LIMIT)


async def run_page(
    make_uow: Callable[[], UnitOfWork], organization_id: uuid.UUID, run: SyncRun
) -> Page:
    """The run's page as it stands after the run."""
    assert run.page_id is not None
    async with make_uow() as uow:
        page = await _page(uow, organization_id, run.page_id)
        uow.session.expunge(page)
        return page


async def run_conversation(
    make_uow: Callable[[], UnitOfWork], organization_id: uuid.UUID, run: SyncRun
) -> Conversation:
    """The run's conversation as it stands after the run."""
    assert run.conversation_id is not None
    async with make_uow() as uow:
        row = await ConversationRepository(uow.session, organization_id).get(run.conversation_id)
        if row is None:
            raise NotFoundError("Conversation")
        uow.session.expunge(row)
        return row


async def contacts_of_run(
    make_uow: Callable[[], UnitOfWork], organization_id: uuid.UUID, run: SyncRun
) -> Listing[ContactLine]:
    assert run.page_id is not None
    async with make_uow() as uow:
        repo = SyncStatsRepository(uow.session, organization_id)
        rows = await repo.page_contacts(run.page_id, LIST_LIMIT + 1)
        return _listing(
            [
                ContactLine(c.id, c.name, c.platform_user_id, created_during(run, c.created_at))
                for c in rows
            ]
        )


async def messages_of_run(
    make_uow: Callable[[], UnitOfWork], organization_id: uuid.UUID, run: SyncRun
) -> Listing[MessageLine]:
    assert run.conversation_id is not None
    async with make_uow() as uow:
        conversation = await ConversationRepository(uow.session, organization_id).get(
            run.conversation_id
        )
        if conversation is None:
            raise NotFoundError("Conversation")
        names = await _participant_names(uow, organization_id, conversation)
        rows = await SyncStatsRepository(uow.session, organization_id).conversation_messages(
            conversation.id, LIST_LIMIT + 1
        )
        return _listing(
            [
                MessageLine(
                    id=m.id,
                    facebook_message_id=m.meta_message_id,
                    created=created_during(run, m.created_at),
                    sender=names.get(m.sender_id or ""),
                    sender_id=m.sender_id,
                    created_time=m.created_time,
                )
                for m in rows
            ]
        )


async def _participant_names(
    uow: UnitOfWork, organization_id: uuid.UUID, conversation: Conversation
) -> dict[str, str]:
    """Meta ids of the conversation's two sides (the person, the Page) to their names."""
    names: dict[str, str] = {}
    if conversation.contact_id is not None:
        contact = await uow.session.get(Contact, conversation.contact_id)
        if contact is not None and contact.name:
            names[contact.platform_user_id] = contact.name
    if conversation.page_id is not None:
        page = await _page(uow, organization_id, conversation.page_id)
        names[page.meta_page_id] = page.name
    return names


async def conversations_of_run(
    make_uow: Callable[[], UnitOfWork], organization_id: uuid.UUID, run: SyncRun
) -> Listing[ConversationLine]:
    """The page's conversations with the messages stored for each: after a full sync, the
    message ids Meta lists for that conversation (details only for its 20 most recent)."""
    assert run.page_id is not None
    async with make_uow() as uow:
        repo = SyncStatsRepository(uow.session, organization_id)
        rows = await repo.page_conversations_with_message_counts(run.page_id, LIST_LIMIT + 1)
        return _listing([ConversationLine(c.id, c.meta_conversation_id, n) for c, n in rows])


async def page_status(
    make_uow: Callable[[], UnitOfWork], organization_id: uuid.UUID, page_id: uuid.UUID
) -> PageStatus:
    async with make_uow() as uow:
        page = await _page(uow, organization_id, page_id)
        repo = SyncStatsRepository(uow.session, organization_id)
        status = PageStatus(
            page=page,
            totals=await repo.page_totals(page_id),
            last_succeeded=await repo.latest_run(page_id, status=SyncStatus.SUCCEEDED.value),
            last_run=await repo.latest_run(page_id),
        )
        uow.session.expunge_all()
        return status
