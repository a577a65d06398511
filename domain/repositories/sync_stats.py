"""What a page's syncs left behind: totals for the sync-status answer and the rows a finished
run reports (spec/facebook-sync-api.md). Every query is scoped to one organization."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import Contact, Conversation, Message, SyncRun
from domain.repositories.messaging import (
    ContactRepository,
    ConversationRepository,
    MessageRepository,
)


@dataclass(frozen=True)
class PageTotals:
    conversations: int
    contacts: int
    messages: int


class SyncStatsRepository:
    def __init__(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        self.session = session
        self.organization_id = organization_id
        self._conversations = ConversationRepository(session, organization_id)
        self._contacts = ContactRepository(session, organization_id)
        self._messages = MessageRepository(session, organization_id)

    async def page_totals(self, page_id: uuid.UUID) -> PageTotals:
        messages = (
            select(func.count())
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.organization_id == self.organization_id,
                Conversation.page_id == page_id,
                Conversation.deleted_at.is_(None),
            )
        )
        return PageTotals(
            conversations=await self._conversations.count([Conversation.page_id == page_id]),
            contacts=await self._contacts.count([Contact.page_id == page_id]),
            messages=int((await self.session.execute(messages)).scalar_one()),
        )

    async def latest_run(self, page_id: uuid.UUID, *, status: str | None = None) -> SyncRun | None:
        stmt = select(SyncRun).where(
            SyncRun.organization_id == self.organization_id, SyncRun.page_id == page_id
        )
        if status is not None:
            stmt = stmt.where(SyncRun.status == status)
        stmt = stmt.order_by(SyncRun.created_at.desc(), SyncRun.id.desc()).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page_contacts(self, page_id: uuid.UUID, limit: int) -> list[Contact]:
        """In the order they were first stored."""
        stmt = (
            self._contacts.select()
            .where(Contact.page_id == page_id)
            .order_by(Contact.created_at, Contact.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def conversation_messages(self, conversation_id: uuid.UUID, limit: int) -> list[Message]:
        """Newest first, as Meta lists them."""
        stmt = (
            self._messages.select()
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_time.desc(), Message.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def page_conversations_with_message_counts(
        self, page_id: uuid.UUID, limit: int
    ) -> list[tuple[Conversation, int]]:
        """Most recently updated first, each with the number of messages stored for it."""
        counts = (
            select(Message.conversation_id, func.count().label("messages"))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.organization_id == self.organization_id, Conversation.page_id == page_id)
            .group_by(Message.conversation_id)
            .subquery()
        )
        stmt = (
            self._conversations.select()
            .add_columns(func.coalesce(counts.c.messages, 0))
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .where(Conversation.page_id == page_id)
            .order_by(Conversation.updated_time.desc(), Conversation.id.desc())
            .limit(limit)
        )
        return [(row[0], int(row[1])) for row in (await self.session.execute(stmt)).all()]
