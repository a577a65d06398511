"""spec/auto-connect.md: connect every Page the organization's stored Facebook logins reach
and give each a first sync; and the cron's incremental sync of every Page.

Each Page syncs as its own run (workers run them in parallel); one Page failing is reported
for that Page and never fails the others. Callers wait within a budget: a run still going
when it ends keeps going in the background and is reported as still running.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from domain.errors import ConflictError, InvalidInputError
from domain.meta import MetaError, MetaGateway, MetaTokenInvalid
from domain.models import SyncRun, SyncStatus
from domain.ports import Clock, EventBus
from domain.services.connections import apply_discovery, connection_tokens, discover
from domain.services.sync.reports import kind_counts, synced
from domain.services.sync.runs import SyncScope, start_for_every_page, start_sync
from domain.services.sync.waiting import wait_for_runs
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)

# spec/auto-connect.md "Performance optimizations".
FIRST_SYNC_LIMIT = 500
BUDGET_SECONDS = 300.0


@dataclass(frozen=True)
class PageOutcome:
    """One Page's sync: its run as it stood when the caller stopped waiting."""

    page_id: uuid.UUID
    meta_page_id: str | None
    name: str | None
    run: SyncRun | None
    problem: str | None = None  # why the Page could not be synced at all

    @property
    def status(self) -> str:
        return self.run.status if self.run is not None else SyncStatus.FAILED.value

    @property
    def success(self) -> bool:
        return self.status == SyncStatus.SUCCEEDED.value

    @property
    def conversations(self) -> int:
        """Conversations the run read from Meta and applied."""
        return synced(kind_counts(self.run, "conversations")) if self.run is not None else 0

    @property
    def error(self) -> str | None:
        if self.problem is not None:
            return self.problem
        if self.run is None or self.success:
            return None
        if self.run.status == SyncStatus.FAILED.value:
            return self.run.error or "the sync failed"
        return "still syncing when the wait ended; it goes on in the background"


@dataclass(frozen=True)
class SyncReport:
    outcomes: list[PageOutcome]
    duration_seconds: float
    pages_found: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def connected(self) -> int:
        return sum(1 for o in self.outcomes if o.problem is None)

    @property
    def succeeded(self) -> int:
        return sum(1 for o in self.outcomes if o.success)

    @property
    def total_conversations(self) -> int:
        return sum(o.conversations for o in self.outcomes)


@dataclass(frozen=True)
class _Connected:
    page_id: uuid.UUID
    meta_page_id: str
    name: str
    has_token: bool


async def auto_connect(
    make_uow: Callable[[], UnitOfWork],
    meta: MetaGateway,
    vault: TokenVault,
    bus: EventBus,
    clock: Clock,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID | None,
    budget_seconds: float = BUDGET_SECONDS,
    first_sync_limit: int = FIRST_SYNC_LIMIT,
) -> SyncReport:
    """Connect what the stored logins reach, then sync each Page's conversations, contacts
    and messages — at most ``first_sync_limit`` conversations the first time (later syncs
    are incremental from there; the daily full sync reaches older ones)."""
    started = time.monotonic()
    pages, warnings = await _connect_all(make_uow, meta, vault, clock, organization_id, user_id)
    syncable = [p for p in pages if p.has_token]
    async with make_uow() as uow:
        run_ids = []
        for page in syncable:
            run, _ = await start_sync(
                uow,
                organization_id=organization_id,
                page_id=page.page_id,
                scope=SyncScope.INCREMENTAL,
                trigger="auto_connect",
                limit=first_sync_limit,
            )
            run_ids.append(run.id)
        await uow.commit()
    remaining = max(0.0, budget_seconds - (time.monotonic() - started))
    runs = await wait_for_runs(make_uow, bus, run_ids, wait_seconds=remaining)
    outcomes = [
        PageOutcome(p.page_id, p.meta_page_id, p.name, run)
        for p, run in zip(syncable, runs, strict=True)
    ] + [
        PageOutcome(
            p.page_id, p.meta_page_id, p.name, None, "no Page token: the login has no role here"
        )
        for p in pages
        if not p.has_token
    ]
    return SyncReport(outcomes, time.monotonic() - started, len(pages), warnings)


async def _connect_all(
    make_uow: Callable[[], UnitOfWork],
    meta: MetaGateway,
    vault: TokenVault,
    clock: Clock,
    organization_id: uuid.UUID,
    user_id: uuid.UUID | None,
) -> tuple[list[_Connected], list[str]]:
    """Every login's Pages stored (Meta read first, then one transaction per login)."""
    async with make_uow() as uow:
        # Plain values: leaving the read-only unit of work expires its rows.
        logins = [(c.label, t) for c, t in await connection_tokens(uow, vault, organization_id)]
    if not logins:
        raise ConflictError(
            "No Facebook login is stored for this organization: log in with Facebook first"
        )
    pages: dict[str, _Connected] = {}
    warnings: list[str] = []
    failure: MetaError | None = None
    for label, token in logins:
        try:
            found = await discover(meta, token)
        except InvalidInputError as exc:  # debug_token says the token is dead
            failure = MetaTokenInvalid(exc.problem)
            warnings.append(f"login {label!r}: {exc.problem}")
            continue
        except MetaError as exc:
            failure = exc
            warnings.append(f"login {label!r}: {exc.message}")
            continue
        async with make_uow() as uow:
            report = await apply_discovery(
                uow,
                vault,
                found,
                organization_id=organization_id,
                user_id=user_id,
                label=label,
                now=clock.now(),
            )
            for page in report.pages:
                pages[page.meta_page_id] = _Connected(
                    page.id, page.meta_page_id, page.name, page.page_token_encrypted is not None
                )
            await uow.commit()
        warnings.extend(report.warnings)
    if not pages and failure is not None:
        raise failure  # no login worked: the caller must log in again (or retry later)
    log.info("auto_connect_pages", organization_id=str(organization_id), pages=len(pages))
    return list(pages.values()), warnings


async def sync_every_page(
    make_uow: Callable[[], UnitOfWork], bus: EventBus, *, wait_seconds: float
) -> SyncReport:
    """The cron: an incremental sync of every active Page of every organization (Pages
    already syncing keep their run), waited on up to ``wait_seconds``."""
    started = time.monotonic()
    async with make_uow() as uow:
        runs = await start_for_every_page(uow, SyncScope.INCREMENTAL, "cron")
        await uow.commit()
        targets = [(run.id, run.page_id) for run in runs]
    finished = await wait_for_runs(
        make_uow, bus, [run_id for run_id, _ in targets], wait_seconds=wait_seconds
    )
    outcomes = [
        PageOutcome(page_id, None, None, run)
        for (_, page_id), run in zip(targets, finished, strict=True)
        if page_id is not None
    ]
    return SyncReport(outcomes, time.monotonic() - started, len(outcomes))
