"""Per-Page sync schedules: one organization's rows, and the scheduler's sweep."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import Page, SyncSchedule
from domain.repositories.base import OrgScoped


class SyncScheduleRepository(OrgScoped[SyncSchedule]):
    model = SyncSchedule
    soft_delete = False

    async def of_page(self, page_id: uuid.UUID) -> SyncSchedule | None:
        stmt = self.select().where(SyncSchedule.page_id == page_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_pages(self, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SyncSchedule]:
        """Each page's stored schedule (pages following the defaults are left out)."""
        if not page_ids:
            return {}
        stmt = self.select().where(SyncSchedule.page_id.in_(set(page_ids)))
        return {row.page_id: row for row in (await self.session.execute(stmt)).scalars()}


async def syncable_pages_with_schedules(
    session: AsyncSession,
) -> list[tuple[uuid.UUID, uuid.UUID, SyncSchedule | None]]:
    """(page id, organization id, stored schedule or None) of every Page a scheduled sync
    can run for, across organizations: the scheduler's one sweep a minute. The join matches
    the organization as well as the Page, so no row of one organization reaches another's."""
    stmt = (
        select(Page.id, Page.organization_id, SyncSchedule)
        .outerjoin(
            SyncSchedule,
            and_(
                SyncSchedule.page_id == Page.id,
                SyncSchedule.organization_id == Page.organization_id,
            ),
        )
        .where(
            Page.deleted_at.is_(None),
            Page.status == "active",
            Page.page_token_encrypted.is_not(None),
        )
        .order_by(Page.organization_id, Page.id)
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(stmt)).all()]
