"""Per-Page sync schedules: when the scheduler syncs a Page, and what.

Every Page follows the defaults until its organization stores a schedule for it; the
defaults are the schedules metasync always had (contacts every 15 minutes, an incremental
sync every 30, a full sync daily at 02:00 UTC). A stored schedule can turn the Page's
scheduled syncs off, change the two intervals (5 minutes to a day: the lower bound keeps a
Page well inside the spec's limit of 10 syncs a minute), move the daily full sync to another
hour, and select fields (selective sync) for every scheduled run. The cron endpoint is not a
schedule: it syncs every Page when called.

The scheduler asks once a minute which syncs fall due in the window since its last tick
(:func:`start_scheduled_syncs`); interval slots are aligned to the epoch, as before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from domain.errors import InvalidInputError, NotFoundError, RateLimitedError
from domain.models import SyncRun, SyncSchedule
from domain.ports import RateGate
from domain.repositories.channels import PageRepository
from domain.repositories.inserts import insert_or_ignore
from domain.repositories.sync_schedules import (
    SyncScheduleRepository,
    syncable_pages_with_schedules,
)
from domain.services.sync.fields import SyncSelection, parse_selection
from domain.services.sync.runs import SyncLimits, SyncScope, start_sync
from domain.uow import UnitOfWork

log = structlog.get_logger(__name__)

INTERVAL_MINUTES = (5, 1440)
TRIGGER = "schedule"


@dataclass(frozen=True)
class Schedule:
    """A Page's schedule as it applies: stored, or the defaults (``stored`` False)."""

    page_id: uuid.UUID
    enabled: bool = True
    contacts_interval_minutes: int = 15
    incremental_interval_minutes: int = 30
    full_sync_hour: int = 2  # UTC, on the hour
    fields: tuple[str, ...] | None = None  # selective sync of every scheduled run
    stored: bool = False
    updated_at: datetime | None = None

    @classmethod
    def of(cls, page_id: uuid.UUID, row: SyncSchedule | None) -> Schedule:
        if row is None:
            return cls(page_id=page_id)
        return cls(
            page_id=page_id,
            enabled=row.enabled,
            contacts_interval_minutes=row.contacts_interval_minutes,
            incremental_interval_minutes=row.incremental_interval_minutes,
            full_sync_hour=row.full_sync_hour,
            fields=tuple(row.selected_fields) if row.selected_fields is not None else None,
            stored=True,
            updated_at=row.updated_at,
        )

    def due(self, since: datetime, until: datetime) -> list[SyncScope]:
        """The scopes whose slot begins in (since, until]: each at most once a window."""
        if not self.enabled:
            return []
        due = []
        for scope, minutes in (
            (SyncScope.CONTACTS, self.contacts_interval_minutes),
            (SyncScope.INCREMENTAL, self.incremental_interval_minutes),
        ):
            if _slot_begins(since, until, minutes * 60, 0):
                due.append(scope)
        if _slot_begins(since, until, 86400, self.full_sync_hour * 3600):
            due.append(SyncScope.FULL)
        return due

    def selection_for(self, scope: SyncScope) -> SyncSelection | None:
        """What a scheduled ``scope`` run syncs: None for everything, an empty selection
        when the schedule's fields leave that scope nothing to read."""
        if self.fields is None:
            return None
        return parse_selection(self.fields).for_scope(scope)


def _slot_begins(since: datetime, until: datetime, step: int, offset: int) -> bool:
    return (int(until.timestamp()) - offset) // step > (int(since.timestamp()) - offset) // step


async def get_schedule(uow: UnitOfWork, organization_id: uuid.UUID, page_id: uuid.UUID) -> Schedule:
    """A Page's schedule; another organization's Page is not found, like a missing one."""
    await _page(uow, organization_id, page_id)
    row = await SyncScheduleRepository(uow.session, organization_id).of_page(page_id)
    return Schedule.of(page_id, row)


async def update_schedule(
    uow: UnitOfWork, organization_id: uuid.UUID, page_id: uuid.UUID, changes: dict[str, Any]
) -> Schedule:
    """Store the given settings of a Page's schedule (the others keep their values, the
    defaults at first). Bad input is an InvalidInputError naming the setting. Does not
    commit."""
    await _page(uow, organization_id, page_id)
    values = _validated(changes)
    repo = SyncScheduleRepository(uow.session, organization_id)
    row = await repo.of_page(page_id)
    if row is None:
        # Two first saves at once: the unique (organization, Page) key lets one insert win
        # and the other update the row it made, instead of failing on a duplicate.
        base = Schedule(page_id=page_id)
        await insert_or_ignore(
            uow.session,
            SyncSchedule,
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "page_id": page_id,
                "enabled": base.enabled,
                "contacts_interval_minutes": base.contacts_interval_minutes,
                "incremental_interval_minutes": base.incremental_interval_minutes,
                "full_sync_hour": base.full_sync_hour,
                "selected_fields": None,
            },
            ["organization_id", "page_id"],
        )
        row = await repo.of_page(page_id)
        if row is None:  # inserted above, or by the concurrent save that won
            raise RuntimeError(f"the sync schedule of Page {page_id} vanished while saved")
    for key, value in values.items():
        setattr(row, key, value)
    await uow.session.flush()
    await uow.session.refresh(row)
    return Schedule.of(page_id, row)


async def start_scheduled_syncs(
    uow: UnitOfWork,
    since: datetime,
    until: datetime,
    *,
    gate: RateGate | None = None,
    limits: SyncLimits = SyncLimits(),
) -> list[SyncRun]:
    """Queue every sync that falls due in (since, until] by each Page's schedule (the
    defaults for Pages without one). A Page already running a scope keeps that run; a
    schedule whose fields leave a scope nothing to read skips it; so does a sync the spec's
    limits refuse (``gate``: say a person ran a full sync two minutes ago). Does not
    commit."""
    started = []
    for page_id, organization_id, row in await syncable_pages_with_schedules(uow.session):
        schedule = Schedule.of(page_id, row)
        for scope in schedule.due(since, until):
            selection = schedule.selection_for(scope)
            if selection is not None and not selection.parts():
                continue
            try:
                run, created = await start_sync(
                    uow, organization_id=organization_id, page_id=page_id, scope=scope,
                    trigger=TRIGGER, selection=selection, gate=gate, limits=limits,
                )  # fmt: skip
            except RateLimitedError as limited:
                log.info("scheduled_sync_skipped", page_id=str(page_id), scope=scope.value,
                         reason=limited.message)  # fmt: skip
                continue
            if created:
                started.append(run)
    return started


async def _page(uow: UnitOfWork, organization_id: uuid.UUID, page_id: uuid.UUID) -> None:
    if await PageRepository(uow.session, organization_id).get(page_id) is None:
        raise NotFoundError("Page")


SETTINGS = (
    "enabled",
    "contacts_interval_minutes",
    "incremental_interval_minutes",
    "full_sync_hour",
    "fields",
)


def _validated(changes: dict[str, Any]) -> dict[str, Any]:
    """Column values from client-given settings, each checked and named when wrong."""
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in SETTINGS:
            raise InvalidInputError(key, f"is not a schedule setting ({', '.join(SETTINGS)})")
        if key == "enabled":
            if not isinstance(value, bool):
                raise InvalidInputError(key, "must be true or false")
            values[key] = value
        elif key == "fields":
            values["selected_fields"] = _fields(value)
        else:
            low, high = (0, 23) if key == "full_sync_hour" else INTERVAL_MINUTES
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InvalidInputError(key, f"must be a whole number from {low} to {high}")
            values[key] = value
    return values


def _fields(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidInputError("fields", "must be a list of field names, or null for all")
    selection = parse_selection(value)
    return None if selection.is_everything else selection.names()
