"""A Page's sync schedule (domain.services.sync.schedules): types, input and result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

import strawberry

from domain.services.sync.schedules import Schedule
from schema.errors import AnyError


@strawberry.type(
    description="When the scheduler syncs a Page, and what. A Page without a stored schedule "
    "follows the defaults: contacts every 15 minutes, incremental every 30, full daily at "
    "02:00 UTC."
)
class SyncSchedule:
    enabled: bool = strawberry.field(description="False: no scheduled syncs for this Page.")
    contacts_interval_minutes: int = strawberry.field(
        description="Minutes between contacts syncs (5 to 1440, slots aligned to the epoch)."
    )
    incremental_interval_minutes: int = strawberry.field(
        description="Minutes between incremental syncs (5 to 1440)."
    )
    full_sync_hour: int = strawberry.field(
        description="The hour (UTC, 0-23) of the daily full sync."
    )
    fields: list[str] | None = strawberry.field(
        description="Selective sync for every scheduled run (null: every field); a scheduled "
        "sync that reads none of these is skipped."
    )
    is_default: bool = strawberry.field(description="True until a schedule is stored.")
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, schedule: Schedule) -> Self:
        return cls(
            enabled=schedule.enabled,
            contacts_interval_minutes=schedule.contacts_interval_minutes,
            incremental_interval_minutes=schedule.incremental_interval_minutes,
            full_sync_hour=schedule.full_sync_hour,
            fields=list(schedule.fields) if schedule.fields is not None else None,
            is_default=not schedule.stored,
            updated_at=schedule.updated_at,
        )


@strawberry.input(description="Schedule settings to change; omitted ones are kept.")
class SyncScheduleInput:
    enabled: bool | None = strawberry.UNSET
    contacts_interval_minutes: int | None = strawberry.UNSET
    incremental_interval_minutes: int | None = strawberry.UNSET
    full_sync_hour: int | None = strawberry.UNSET
    fields: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Field names, or null for every field."
    )

    def to_fields(self) -> dict[str, Any]:
        given = {
            "enabled": self.enabled,
            "contacts_interval_minutes": self.contacts_interval_minutes,
            "incremental_interval_minutes": self.incremental_interval_minutes,
            "full_sync_hour": self.full_sync_hour,
            "fields": self.fields,
        }
        return {key: value for key, value in given.items() if value is not strawberry.UNSET}


@strawberry.type(description="The Page's schedule as stored.")
class SyncScheduleUpdated:
    schedule: SyncSchedule


UpdateSyncScheduleResult = Annotated[
    SyncScheduleUpdated | AnyError, strawberry.union("UpdateSyncScheduleResult")
]
