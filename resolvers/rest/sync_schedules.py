"""The facebook-sync family's metasync extension: a Page's sync schedule.

``GET /api/facebook/pages/{pageId}/sync-schedule`` answers the schedule in force (the
defaults until one is stored); ``PUT`` stores the settings given (owners and admins). The
spec has no such endpoint ("Sync scheduling UI" is among its future enhancements): these
follow its route style and envelope, and say so in /openapi.json. Another organization's
Page is a 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from domain.services.permissions import Action
from domain.services.sync.fields import known_fields
from domain.services.sync.schedules import (
    INTERVAL_MINUTES,
    Schedule,
    get_schedule,
    update_schedule,
)
from resolvers.rest.common import BOOLEAN, NULLABLE_DATE_TIME, STRING, iso, require, uuid_value
from resolvers.rest.families import FACEBOOK_SYNC
from resolvers.rest.routing import Endpoint, RestContext

Json = dict[str, Any]
PATH = "/api/facebook/pages/{pageId}/sync-schedule"


def _schedule(schedule: Schedule) -> Json:
    return {
        "page_id": str(schedule.page_id),
        "enabled": schedule.enabled,
        "contacts_interval_minutes": schedule.contacts_interval_minutes,
        "incremental_interval_minutes": schedule.incremental_interval_minutes,
        "full_sync_hour": schedule.full_sync_hour,
        "fields": list(schedule.fields) if schedule.fields is not None else None,
        "is_default": not schedule.stored,
        "updated_at": iso(schedule.updated_at),
    }


async def show(ctx: RestContext) -> Json:
    page_id = uuid_value(ctx.request.path_params["pageId"], "pageId")
    async with ctx.services.uow() as uow:
        schedule = await get_schedule(uow, ctx.viewer.organization_id, page_id)
    return {"success": True, "schedule": _schedule(schedule)}


async def store(ctx: RestContext) -> Json:
    page_id = uuid_value(ctx.request.path_params["pageId"], "pageId")
    require(ctx, Action.MANAGE_SYNC_SCHEDULES)
    body = await ctx.json_body()
    async with ctx.services.uow() as uow:
        schedule = await update_schedule(uow, ctx.viewer.organization_id, page_id, body)
        await uow.commit()
    return {"success": True, "message": "Sync schedule saved", "schedule": _schedule(schedule)}


_INT_MINUTES = {"type": "integer", "minimum": INTERVAL_MINUTES[0], "maximum": INTERVAL_MINUTES[1]}
_HOUR = {"type": "integer", "minimum": 0, "maximum": 23}
_FIELDS = {"type": ["array", "null"], "items": {"type": "string", "enum": known_fields()}}
_SCHEDULE = {
    "type": "object",
    "required": [
        "page_id", "enabled", "contacts_interval_minutes", "incremental_interval_minutes",
        "full_sync_hour", "fields", "is_default",
    ],
    "properties": {
        "page_id": STRING,
        "enabled": BOOLEAN,
        "contacts_interval_minutes": _INT_MINUTES,
        "incremental_interval_minutes": _INT_MINUTES,
        "full_sync_hour": _HOUR,
        "fields": _FIELDS,
        "is_default": BOOLEAN,
        "updated_at": NULLABLE_DATE_TIME,
    },
}  # fmt: skip
_NOTE = (
    "metasync extension (not in spec/facebook-sync-api.md, whose future enhancements list a "
    "sync scheduling UI). A Page without a stored schedule follows the defaults: contacts "
    "every 15 minutes, an incremental sync every 30, a full sync daily at 02:00 UTC. "
    "Intervals are 5 to 1440 minutes (aligned to the epoch), full_sync_hour 0-23 UTC; "
    "fields (selective sync, null for all) apply to every scheduled run, and a scheduled "
    "sync reading none of them is skipped. Another organization's Page is a 404."
)

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        FACEBOOK_SYNC,
        "GET",
        PATH,
        show,
        "The Page's sync schedule (the defaults until one is stored)",
        description=_NOTE,
        response_schema={
            "type": "object",
            "required": ["success", "schedule"],
            "properties": {"success": {"const": True}, "schedule": _SCHEDULE},
        },
    ),
    Endpoint(
        FACEBOOK_SYNC,
        "PUT",
        PATH,
        store,
        "Change the Page's sync schedule (owners and admins); settings left out are kept",
        description=_NOTE,
        request_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": BOOLEAN,
                "contacts_interval_minutes": _INT_MINUTES,
                "incremental_interval_minutes": _INT_MINUTES,
                "full_sync_hour": _HOUR,
                "fields": _FIELDS,
            },
        },
        response_schema={
            "type": "object",
            "required": ["success", "message", "schedule"],
            "properties": {"success": {"const": True}, "message": STRING, "schedule": _SCHEDULE},
        },
    ),
]
