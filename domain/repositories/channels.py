"""Pages, Instagram accounts and WhatsApp Business accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.models import InstagramAccount, Page, WhatsAppAccount
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped

PAGE_ORDER = (SortKey(Page.name, False, str), SortKey(Page.id, False, uuid.UUID))
# Instagram usernames and WABA names may be missing: these list in the order connected.
INSTAGRAM_ORDER = (
    SortKey(InstagramAccount.created_at, False, datetime),
    SortKey(InstagramAccount.id, False, uuid.UUID),
)
WHATSAPP_ORDER = (
    SortKey(WhatsAppAccount.created_at, False, datetime),
    SortKey(WhatsAppAccount.id, False, uuid.UUID),
)


class PageRepository(OrgScoped[Page]):
    model = Page

    async def list(self, *, first: int, after: str | None) -> Slice[Page]:
        return await self.list_slice(PAGE_ORDER, first=first, after=after)

    async def by_meta_id(self, meta_page_id: str) -> Page | None:
        stmt = self.select().where(Page.meta_page_id == meta_page_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def add(self, page: Page) -> None:
        page.organization_id = self.organization_id
        self.session.add(page)


class InstagramAccountRepository(OrgScoped[InstagramAccount]):
    model = InstagramAccount

    async def list(self, *, first: int, after: str | None) -> Slice[InstagramAccount]:
        return await self.list_slice(INSTAGRAM_ORDER, first=first, after=after)

    async def by_pages(self, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, InstagramAccount]:
        stmt = self.select().where(InstagramAccount.page_id.in_(set(page_ids)))
        rows = (await self.session.execute(stmt)).scalars()
        return {row.page_id: row for row in rows if row.page_id is not None}


class WhatsAppAccountRepository(OrgScoped[WhatsAppAccount]):
    model = WhatsAppAccount

    async def list(self, *, first: int, after: str | None) -> Slice[WhatsAppAccount]:
        return await self.list_slice(WHATSAPP_ORDER, first=first, after=after)

    async def by_waba_id(self, waba_id: str) -> WhatsAppAccount | None:
        stmt = self.select().where(WhatsAppAccount.waba_id == waba_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def first(self) -> WhatsAppAccount | None:
        """The account connected first: the default when a caller names none."""
        stmt = self.select().order_by(*(k.column for k in WHATSAPP_ORDER)).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()
