"""Sync runs and the per-page totals they leave behind, batched for the GraphQL loaders
(one statement for any number of pages)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from domain.models import Contact, Conversation, Message, Page, SyncRun, SyncStatus
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped
from domain.repositories.sync_stats import PageTotals

# Newest first: what a sync history shows.
RUN_ORDER = (
    SortKey(SyncRun.created_at, True, datetime),
    SortKey(SyncRun.id, True, uuid.UUID),
)


def _active() -> list[ColumnElement[bool]]:
    return [SyncRun.status.in_((SyncStatus.QUEUED.value, SyncStatus.RUNNING.value))]


class SyncRunRepository(OrgScoped[SyncRun]):
    model = SyncRun
    soft_delete = False

    async def list(
        self, *, first: int, after: str | None, page_id: uuid.UUID | None = None
    ) -> Slice[SyncRun]:
        where = [] if page_id is None else [SyncRun.page_id == page_id]
        return await self.list_slice(RUN_ORDER, first=first, after=after, where=where)

    async def count_of(self, page_id: uuid.UUID | None) -> int:
        return await self.count([] if page_id is None else [SyncRun.page_id == page_id])

    async def first_by_pages(
        self, page_ids: Sequence[uuid.UUID], *, first: int, after: str | None
    ) -> dict[uuid.UUID, Slice[SyncRun]]:
        return await self.slices_by_parent(
            SyncRun.page_id, page_ids, RUN_ORDER, first=first, after=after
        )

    async def count_by_pages(self, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        return await self.counts_by_parent(SyncRun.page_id, page_ids)

    async def active_by_pages(self, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SyncRun]:
        """Each page's newest queued or running run (pages without one are left out)."""
        slices = await self.slices_by_parent(
            SyncRun.page_id, page_ids, RUN_ORDER, first=1, after=None, where=_active()
        )
        return {pid: found.items[0] for pid, found in slices.items() if found.items}

    async def active_of_page(self, page_id: uuid.UUID) -> builtins.list[SyncRun]:
        """A page's queued and running runs, oldest first."""
        stmt = (
            self.select()
            .where(SyncRun.page_id == page_id, *_active())
            .order_by(SyncRun.created_at, SyncRun.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def latest_of_page(self, page_id: uuid.UUID) -> SyncRun | None:
        stmt = (
            self.select()
            .where(SyncRun.page_id == page_id)
            .order_by(SyncRun.created_at.desc(), SyncRun.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page_totals(self, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PageTotals]:
        """What each page's syncs stored (as ``SyncStatsRepository.page_totals`` counts it),
        in one statement: a correlated count per kind for every page asked about."""
        if not page_ids:
            return {}
        org = self.organization_id
        conversations = (
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.organization_id == org,
                Conversation.page_id == Page.id,
                Conversation.deleted_at.is_(None),
            )
            .scalar_subquery()
        )
        contacts = (
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.organization_id == org,
                Contact.page_id == Page.id,
                Contact.deleted_at.is_(None),
            )
            .scalar_subquery()
        )
        messages = (
            select(func.count())
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.organization_id == org,
                Conversation.page_id == Page.id,
                Conversation.deleted_at.is_(None),
            )
            .scalar_subquery()
        )
        stmt = select(Page.id, conversations, contacts, messages).where(
            Page.organization_id == org, Page.id.in_(set(page_ids))
        )
        found = {
            row[0]: PageTotals(conversations=row[1], contacts=row[2], messages=row[3])
            for row in (await self.session.execute(stmt)).all()
        }
        empty = PageTotals(conversations=0, contacts=0, messages=0)
        return {pid: found.get(pid, empty) for pid in page_ids}
