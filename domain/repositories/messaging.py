"""Conversations, messages and contacts, including the batched lookups the GraphQL
loaders use (one statement for any number of parents)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_

from domain.models import Contact, Conversation, Message
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped

CONVERSATION_ORDER = (
    SortKey(Conversation.updated_time, True, datetime),
    SortKey(Conversation.id, True, uuid.UUID),
)
MESSAGE_ORDER = (
    SortKey(Message.created_time, True, datetime),
    SortKey(Message.id, True, uuid.UUID),
)
CONTACT_ORDER = (
    SortKey(Contact.created_at, False, datetime),
    SortKey(Contact.id, False, uuid.UUID),
)


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    platform: str | None = None
    archived: bool | None = None
    unread_only: bool = False
    folder: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.platform is not None:
            out.append(Conversation.platform == self.platform)
        if self.archived is not None:
            out.append(Conversation.archived.is_(self.archived))
        if self.unread_only:
            out.append(Conversation.unread_count > 0)
        if self.folder is not None:
            out.append(Conversation.folder == self.folder)
        return out


class ConversationRepository(OrgScoped[Conversation]):
    model = Conversation

    async def first_by_pages(
        self,
        page_ids: Sequence[uuid.UUID],
        *,
        first: int,
        after: str | None,
        filter: ConversationFilter,
    ) -> dict[uuid.UUID, Slice[Conversation]]:
        return await self.slices_by_parent(
            Conversation.page_id,
            page_ids,
            CONVERSATION_ORDER,
            first=first,
            after=after,
            where=filter.conditions(),
        )

    async def count_by_pages(
        self, page_ids: Sequence[uuid.UUID], filter: ConversationFilter
    ) -> dict[uuid.UUID, int]:
        return await self.counts_by_parent(Conversation.page_id, page_ids, filter.conditions())


class MessageRepository(OrgScoped[Message]):
    model = Message
    soft_delete = False

    async def first_by_conversations(
        self, conversation_ids: Sequence[uuid.UUID], *, first: int, after: str | None
    ) -> dict[uuid.UUID, Slice[Message]]:
        return await self.slices_by_parent(
            Message.conversation_id, conversation_ids, MESSAGE_ORDER, first=first, after=after
        )

    async def count_by_conversations(
        self, conversation_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        return await self.counts_by_parent(Message.conversation_id, conversation_ids)


def contact_search(search: str | None) -> list[ColumnElement[bool]]:
    if not search:
        return []
    pattern = f"%{search.strip().lower()}%"
    return [
        or_(
            func.lower(Contact.name).like(pattern),
            func.lower(Contact.email).like(pattern),
            Contact.phone.like(pattern),
            Contact.platform_user_id.like(pattern),
        )
    ]


class ContactRepository(OrgScoped[Contact]):
    model = Contact

    async def first_by_pages(
        self,
        page_ids: Sequence[uuid.UUID],
        *,
        first: int,
        after: str | None,
        search: str | None,
    ) -> dict[uuid.UUID, Slice[Contact]]:
        return await self.slices_by_parent(
            Contact.page_id,
            page_ids,
            CONTACT_ORDER,
            first=first,
            after=after,
            where=contact_search(search),
        )

    async def count_by_pages(
        self, page_ids: Sequence[uuid.UUID], search: str | None
    ) -> dict[uuid.UUID, int]:
        return await self.counts_by_parent(Contact.page_id, page_ids, contact_search(search))
