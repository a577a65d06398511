"""A Page's sync schedule over GraphQL (owners and admins change it)."""

from __future__ import annotations

from domain.services.permissions import Action
from domain.services.sync.schedules import update_schedule
from resolvers.graphql.access import require
from resolvers.graphql.errors import errors_as_data
from resolvers.graphql.ids import id_of
from schema.schedules import SyncSchedule, SyncScheduleInput, SyncScheduleUpdated
from schema.types import GraphInfo


@errors_as_data
async def update_sync_schedule(
    info: GraphInfo, page_id: str, input: SyncScheduleInput
) -> SyncScheduleUpdated:
    require(info, Action.MANAGE_SYNC_SCHEDULES)
    page = id_of(page_id, "Page", field="pageId")
    async with info.context.services.uow() as uow:
        schedule = await update_schedule(
            uow, info.context.viewer.organization_id, page, input.to_fields()
        )
        await uow.commit()
    return SyncScheduleUpdated(schedule=SyncSchedule.from_domain(schedule))
