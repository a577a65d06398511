"""WhatsApp message templates of one organization."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select

from domain.models import Template
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped

# Newest first, as Meta's template manager lists them.
TEMPLATE_ORDER = (
    SortKey(Template.created_at, True, datetime),
    SortKey(Template.id, True, uuid.UUID),
)


def template_filter(
    account_id: uuid.UUID, statuses: Sequence[str] = (), category: str | None = None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Template.whatsapp_account_id == account_id]
    if statuses:
        where.append(Template.status.in_(list(statuses)))
    if category:
        where.append(Template.category == category)
    return where


class TemplateRepository(OrgScoped[Template]):
    model = Template

    async def page(
        self, where: Sequence[ColumnElement[bool]], *, limit: int, offset: int
    ) -> list[Template]:
        stmt = (
            self.select()
            .where(*where)
            .order_by(Template.created_at.desc(), Template.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def connection(
        self, where: Sequence[ColumnElement[bool]], *, first: int, after: str | None
    ) -> Slice[Template]:
        return await self.list_slice(TEMPLATE_ORDER, first=first, after=after, where=where)

    async def first_by_accounts(
        self,
        account_ids: Sequence[uuid.UUID],
        *,
        first: int,
        after: str | None,
        statuses: Sequence[str] = (),
    ) -> dict[uuid.UUID, Slice[Template]]:
        where = [Template.status.in_(list(statuses))] if statuses else []
        return await self.slices_by_parent(
            Template.whatsapp_account_id, account_ids, TEMPLATE_ORDER,
            first=first, after=after, where=where,
        )  # fmt: skip

    async def count_by_accounts(
        self, account_ids: Sequence[uuid.UUID], statuses: Sequence[str] = ()
    ) -> dict[uuid.UUID, int]:
        where = [Template.status.in_(list(statuses))] if statuses else []
        return await self.counts_by_parent(Template.whatsapp_account_id, account_ids, where)

    async def of_account(self, account_id: uuid.UUID) -> list[Template]:
        stmt = self.select().where(Template.whatsapp_account_id == account_id)
        return list((await self.session.execute(stmt)).scalars())

    async def any_state(self, account_id: uuid.UUID, name: str) -> list[Template]:
        """Rows of that name, deleted ones included: for Meta's 30-day name block."""
        stmt = select(Template).where(
            Template.organization_id == self.organization_id,
            Template.whatsapp_account_id == account_id,
            Template.name == name,
        )
        return list((await self.session.execute(stmt)).scalars())

    def add(self, template: Template) -> None:
        template.organization_id = self.organization_id
        self.session.add(template)
