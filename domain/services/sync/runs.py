"""Sync runs: every sync is a ``sync_runs`` row, started here and executed by an actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from domain.errors import InvalidInputError, NotFoundError, RateLimitedError
from domain.models import Conversation, Page, SyncRun, SyncStatus
from domain.ports import RateGate
from domain.services.sync.fields import SyncSelection

# Re-exported: callers import the scopes from here, beside start_sync.
from domain.services.sync.scopes import CONVERSATION_SCOPES as CONVERSATION_SCOPES
from domain.services.sync.scopes import PAGE_SCOPES as PAGE_SCOPES
from domain.services.sync.scopes import SyncScope as SyncScope
from domain.uow import UnitOfWork

RUN_ACTOR = "run_sync"
# Requests by people, and schedules, are held to the spec's limits (a gate is passed).
GATED_TRIGGERS = {"manual", "api", "schedule"}


@dataclass(frozen=True)
class SyncLimits:
    """spec/facebook-sync-api.md: a full sync at most once per 5 minutes per Page, other
    syncs at most 10 per minute per Page; reads are unlimited. People's requests and the
    schedules count; the cron endpoint, auto-connect and webhooks do not."""

    full_interval_seconds: float = 300
    individual_per_minute: int = 10


ACTIVE = (SyncStatus.QUEUED.value, SyncStatus.RUNNING.value)


def run_channel(run_id: uuid.UUID) -> str:
    return f"sync_run:{run_id}"


def page_channel(page_id: uuid.UUID) -> str:
    return f"page_sync:{page_id}"


def snapshot(run: SyncRun) -> dict[str, Any]:
    """A run as published on the event bus (and read back by subscriptions)."""
    return {
        "id": str(run.id),
        "page_id": str(run.page_id) if run.page_id else None,
        "conversation_id": str(run.conversation_id) if run.conversation_id else None,
        "scope": run.scope,
        "trigger": run.trigger,
        "status": run.status,
        "phase": run.phase,
        "progress": run.progress,
        "done": int(run.details.get("done", 0)),
        "total": run.details.get("total"),
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "graph_calls": run.graph_calls,
        "fields": run.selected_fields,
        "error": run.error,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def publish(uow: UnitOfWork, run: SyncRun) -> None:
    event = snapshot(run)
    uow.publish(run_channel(run.id), event)
    if run.page_id is not None:
        uow.publish(page_channel(run.page_id), event)


async def start_sync(
    uow: UnitOfWork,
    *,
    organization_id: uuid.UUID,
    page_id: uuid.UUID,
    scope: SyncScope,
    trigger: str,
    conversation_id: uuid.UUID | None = None,
    limit: int | None = None,
    gate: RateGate | None = None,
    limits: SyncLimits = SyncLimits(),
    selection: SyncSelection | None = None,
) -> tuple[SyncRun, bool]:
    """Queue a sync (the job is sent after the caller commits). An identical run already
    queued or running (or one of the same scope syncing every field, which covers any
    selection) is returned instead of a second one. Returns (run, created).

    ``selection`` (domain.services.sync.fields) limits what the run reads and writes; None
    or a selection of everything the scope reads is stored as None: a plain sync.

    Requests by people (``manual``/``api`` triggers) and schedules pass ``gate``: beyond the
    spec's limits they get RateLimitedError with the seconds to wait."""
    page = await uow.session.get(Page, page_id)
    if page is None or page.organization_id != organization_id or page.deleted_at:
        raise NotFoundError("Page")
    if scope in CONVERSATION_SCOPES:
        if conversation_id is None:
            raise InvalidInputError("conversationId", "is required for this scope")
        conversation = await uow.session.get(Conversation, conversation_id)
        if conversation is None or conversation.organization_id != organization_id:
            raise NotFoundError("Conversation")
    fields = _stored_fields(scope, selection)
    candidates = (
        await uow.session.execute(
            select(SyncRun).where(
                SyncRun.page_id == page_id,
                SyncRun.scope == scope.value,
                SyncRun.conversation_id.is_(None)
                if conversation_id is None
                else SyncRun.conversation_id == conversation_id,
                SyncRun.status.in_(ACTIVE),
            )
        )
    ).scalars()
    active = next(
        (r for r in candidates if r.selected_fields is None or r.selected_fields == fields), None
    )
    if active is not None:
        return active, False
    if gate is not None and trigger in GATED_TRIGGERS:
        await _check_limits(gate, limits, page_id, scope)
    run = SyncRun(
        id=uuid.uuid4(),
        organization_id=organization_id,
        page_id=page_id,
        conversation_id=conversation_id,
        scope=scope.value,
        trigger=trigger,
        status=SyncStatus.QUEUED.value,
        details={"done": 0, "total": None, **({"limit": limit} if limit else {})},
        selected_fields=fields,
    )
    uow.session.add(run)
    await uow.session.flush()
    uow.enqueue(RUN_ACTOR, run_id=str(run.id))
    publish(uow, run)
    return run, True


def _stored_fields(scope: SyncScope, selection: SyncSelection | None) -> list[str] | None:
    if selection is None:
        return None
    mine = selection.for_scope(scope)
    if not mine.parts():
        raise InvalidInputError("fields", f"selects nothing a {scope.value} sync reads")
    return None if mine == SyncSelection.everything().for_scope(scope) else mine.names()


async def _check_limits(
    gate: RateGate, limits: SyncLimits, page_id: uuid.UUID, scope: SyncScope
) -> None:
    if scope == SyncScope.FULL:
        wait = await gate.hit(f"sync:full:{page_id}", 1, limits.full_interval_seconds)
        what = "a full sync runs at most once per 5 minutes per page"
    else:
        wait = await gate.hit(f"sync:individual:{page_id}", limits.individual_per_minute, 60)
        what = f"at most {limits.individual_per_minute} syncs per minute per page"
    if wait is not None:
        raise RateLimitedError(f"Too many syncs: {what}", wait)


async def start_for_every_page(
    uow: UnitOfWork, scope: SyncScope, trigger: str, *, limit: int | None = None
) -> list[SyncRun]:
    """Queue ``scope`` for every active page of every organization (the cron endpoint, which
    syncs every Page whatever its schedule says); pages already syncing that scope keep
    their run. Does not commit."""
    pages = (
        await uow.session.execute(
            select(Page.id, Page.organization_id).where(
                Page.deleted_at.is_(None),
                Page.status == "active",
                Page.page_token_encrypted.is_not(None),
            )
        )
    ).all()
    runs = []
    for page_id, organization_id in pages:
        run, _ = await start_sync(
            uow,
            organization_id=organization_id,
            page_id=page_id,
            scope=scope,
            trigger=trigger,
            limit=limit,
        )
        runs.append(run)
    return runs
