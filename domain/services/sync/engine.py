"""Executing a sync run: Meta is paged with nested field expansion and applied in chunks,
one transaction per chunk, with progress saved on the run and published on the bus."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from domain.meta import (
    ConversationRead,
    MetaConversation,
    MetaError,
    MetaGateway,
    MetaTokenInvalid,
)
from domain.models import Contact, Conversation, InstagramAccount, Page, SyncRun, SyncStatus
from domain.ports import Clock
from domain.services.sync.failures import describe
from domain.services.sync.fields import SyncSelection, stored_selection
from domain.services.sync.lease import DEFAULT_LEASE, claim, heartbeat
from domain.services.sync.runs import SyncScope, publish
from domain.services.sync.upserts import Counts, apply_chunk
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)

CHUNK = 25
# What a run's ``details["counts"]`` splits its totals into.
KINDS = ("page", "contacts", "conversations", "messages")
PROFILE_CONCURRENCY = 4


class SyncFailed(Exception):
    """A run ended in FAILED with a recorded reason."""


async def execute_run(
    make_uow: Callable[[], UnitOfWork],
    meta: MetaGateway,
    vault: TokenVault,
    clock: Clock,
    run_id: uuid.UUID,
    lease: timedelta = DEFAULT_LEASE,
) -> SyncRun | None:
    """Run a queued sync to the end. Transient Meta failures are re-raised (the actor
    retries with backoff); anything else fails the run with its reason. A run another live
    worker holds (a duplicate job) is left to it; while this one works, its heartbeat
    keeps the lease."""
    async with make_uow() as uow:
        run = await uow.session.get(SyncRun, run_id)
        if run is None or run.status == SyncStatus.SUCCEEDED.value:
            return run
        if not await claim(uow, run, clock.now(), lease):
            return run
        page = await uow.session.get(Page, run.page_id) if run.page_id else None
        if page is None:
            await _fail(uow, run, clock, "page no longer exists")
            return run
        token = unseal(vault, page)
        if token is None:
            await _fail(uow, run, clock, "page has no token: connect it again")
            return run
        # A retry (Dramatiq's, after a transient failure) continues the counts of the
        # attempts before it: rows they wrote are this run's too.
        earlier = _Earlier.of(run) if run.status == SyncStatus.FAILED.value else _Earlier()
        run.status, run.started_at, run.error = SyncStatus.RUNNING.value, clock.now(), None
        run.details = {k: v for k, v in run.details.items() if k != "meta_error"}  # a retry
        publish(uow, run)
        await uow.commit()
        ig_linked = (
            await uow.session.execute(
                select(InstagramAccount.id).where(InstagramAccount.page_id == page.id)
            )
        ).first() is not None
        target = _Target(run.id, run.organization_id, page.id, page.meta_page_id, token, ig_linked)
        scope = SyncScope(run.scope)
        selection = stored_selection(run.selected_fields).for_scope(scope)
        conversation_meta_id = None
        if run.conversation_id is not None:
            conversation = await uow.session.get(Conversation, run.conversation_id)
            conversation_meta_id = conversation.meta_conversation_id if conversation else None
            target.conversation_platform = conversation.platform if conversation else "messenger"
        watermark = page.sync_watermark

    counts = Counts()
    work = _Work(make_uow, meta, target, counts, selection, earlier)
    try:
        with meta.count_calls() as counter:
            async with heartbeat(make_uow, clock, run_id, lease):
                newest = await work.run(scope, watermark, conversation_meta_id)
    except MetaError as exc:
        async with make_uow() as uow:
            run = await uow.session.get(SyncRun, run_id)
            assert run is not None
            reason = (
                f"reauthorization required: {exc.message}"
                if isinstance(exc, MetaTokenInvalid)
                else f"Meta error {exc.meta_code}: {exc.message}"
            )
            _record(run, work.totals(), earlier.calls + counter.calls)
            # Kept structured so whoever waits on the run can answer with Meta's code.
            run.details = {**run.details, **work.breakdown(), "meta_error": describe(exc)}
            await _fail(uow, run, clock, reason)
        if exc.transient:
            raise
        return None

    async with make_uow() as uow:
        run = await uow.session.get(SyncRun, run_id)
        page = await uow.session.get(Page, target.page_id)
        assert run is not None
        assert page is not None
        _record(run, work.totals(), earlier.calls + counter.calls)
        run.details = {**run.details, **work.breakdown()}
        run.status, run.finished_at, run.progress = SyncStatus.SUCCEEDED.value, clock.now(), 1.0
        run.phase = "done"
        page.last_synced_at = clock.now()
        if (
            newest is not None
            and _moves_watermark(scope, selection)
            and (page.sync_watermark is None or newest > page.sync_watermark)
        ):
            page.sync_watermark = newest
        publish(uow, run)
        await uow.commit()
        return run


class _Target:
    def __init__(
        self,
        run_id: uuid.UUID,
        organization_id: uuid.UUID,
        page_id: uuid.UUID,
        meta_page_id: str,
        token: str,
        instagram: bool,
    ) -> None:
        self.run_id = run_id
        self.organization_id = organization_id
        self.page_id = page_id
        self.meta_page_id = meta_page_id
        self.token = token
        self.platforms = ["messenger", "instagram"] if instagram else ["messenger"]
        self.conversation_platform = "messenger"


def _moves_watermark(scope: SyncScope, selection: SyncSelection) -> bool:
    """The watermark says "everything before this is stored": only a run that stored every
    conversation with its messages may move it. A contacts sync (no messages) or a selective
    one would otherwise make the next incremental sync skip what they left out."""
    everything = SyncSelection.everything().for_scope(scope)
    return scope in (SyncScope.FULL, SyncScope.INCREMENTAL) and selection == everything


class _Earlier:
    """What the failed attempts of a run counted before this one."""

    def __init__(
        self, total: Counts | None = None, kinds: dict[str, Counts] | None = None, calls: int = 0
    ) -> None:
        self.total = total or Counts()
        self.kinds = kinds or {}
        self.calls = calls

    @classmethod
    def of(cls, run: SyncRun) -> _Earlier:
        recorded = run.details.get("counts") or {}
        kinds = {
            kind: Counts(**{k: int(v) for k, v in recorded[kind].items()})
            for kind in KINDS
            if isinstance(recorded.get(kind), dict)
        }
        total = Counts(run.created_count, run.updated_count, run.unchanged_count)
        return cls(total, kinds, run.graph_calls)

    @staticmethod
    def merged(before: Counts, now: Counts) -> Counts:
        # A row an earlier attempt wrote is "unchanged" when this attempt reaches it again:
        # it counts once, as what the earlier attempt did.
        again = before.created + before.updated
        return Counts(
            before.created + now.created,
            before.updated + now.updated,
            max(before.unchanged, now.unchanged - again),
        )


def _record(run: SyncRun, counts: Counts, calls: int) -> None:
    run.created_count, run.updated_count = counts.created, counts.updated
    run.unchanged_count, run.graph_calls = counts.unchanged, calls


async def _fail(uow: UnitOfWork, run: SyncRun, clock: Clock, reason: str) -> None:
    run.status, run.error, run.finished_at = SyncStatus.FAILED.value, reason, clock.now()
    publish(uow, run)
    await uow.commit()
    log.warning("sync_failed", run_id=str(run.id), reason=reason)


class _Work:
    """One run's work against Meta and the database."""

    def __init__(
        self,
        make_uow: Callable[[], UnitOfWork],
        meta: MetaGateway,
        target: _Target,
        counts: Counts,
        selection: SyncSelection,
        earlier: _Earlier | None = None,
    ) -> None:
        self.make_uow, self.meta, self.target, self.counts = make_uow, meta, target, counts
        self.selection = selection
        self.earlier = earlier or _Earlier()
        # What each conversation read asks Meta for (selective sync asks for less).
        self.read = ConversationRead(
            fields=frozenset(selection.columns("conversations")),
            participant_names="name" in selection.contacts,
            messages=selection.messages,
        )
        self.done = 0
        # The totals split by what was synced, for answers that report one kind (contacts
        # synced, conversations synced) rather than rows in general.
        self.kinds = {kind: Counts() for kind in KINDS}

    def totals(self) -> Counts:
        return _Earlier.merged(self.earlier.total, self.counts)

    def breakdown(self) -> dict[str, Any]:
        merged = {
            kind: _Earlier.merged(self.earlier.kinds.get(kind, Counts()), c)
            for kind, c in self.kinds.items()
        }
        return {"counts": {kind: c.as_dict() for kind, c in merged.items()}}

    async def run(
        self, scope: SyncScope, watermark: datetime | None, conversation_meta_id: str | None
    ) -> datetime | None:
        """Do the scope's work; returns the newest conversation update seen."""
        target, selection = self.target, self.selection
        if scope in (SyncScope.FULL, SyncScope.DETAILS):
            if selection.page:
                await self.details()
            if scope == SyncScope.DETAILS:
                return None
        if not (selection.contacts or selection.conversations or selection.messages):
            return None  # nothing selected that a conversation listing would bring
        if conversation_meta_id is not None:
            item = await self.meta.conversation(
                conversation_meta_id,
                target.meta_page_id,
                target.token,
                platform=target.conversation_platform,
                read=self.read,
            )
            await self.apply([item])
            return None
        since = watermark if scope == SyncScope.INCREMENTAL else None
        async with self.make_uow() as uow:
            run = await uow.session.get(SyncRun, target.run_id)
            limit = int(run.details.get("limit") or 0) if run else 0
        newest: datetime | None = None
        for platform in target.platforms:
            chunk: list[MetaConversation] = []
            async for item in self.meta.conversations(
                target.meta_page_id,
                target.token,
                platform=platform,
                updated_since=since,
                read=self.read,
                limit=limit or None,
            ):
                newest = item.updated_time if newest is None else max(newest, item.updated_time)
                chunk.append(item)
                if len(chunk) >= CHUNK:
                    await self.apply(chunk)
                    chunk = []
            if chunk:
                await self.apply(chunk)
        return newest

    async def details(self) -> None:
        columns = self.selection.columns("page")
        everything = columns == set(PAGE_DETAILS)
        info = await self.meta.page(
            self.target.meta_page_id, self.target.token, None if everything else columns
        )
        async with self.make_uow() as uow:
            page = await uow.session.get(Page, self.target.page_id)
            assert page is not None
            changed = False
            for attr in (a for a in PAGE_DETAILS if a in columns):
                value = getattr(info, attr)
                if value is not None and getattr(page, attr) != value:
                    setattr(page, attr, value)
                    changed = True
            for counts in (self.counts, self.kinds["page"]):
                counts.updated += changed
                counts.unchanged += not changed
            await self._progress(uow, "details")
            await uow.commit()

    async def apply(self, items: list[MetaConversation]) -> None:
        selection = self.selection
        async with self.make_uow() as uow:
            result = await apply_chunk(
                uow,
                self.target.organization_id,
                self.target.page_id,
                self.target.meta_page_id,
                items,
                selection=selection,
            )
            self.counts.add(result.total())
            self.kinds["contacts"].add(result.contacts)
            self.kinds["conversations"].add(result.conversations)
            self.kinds["messages"].add(result.messages)
            self.done += len(items)
            await self._progress(uow, "messages" if selection.messages else "contacts")
            await uow.commit()
        profile_fields = selection.columns("contacts")
        if result.new_contacts and profile_fields:
            await _profiles(
                self.make_uow,
                self.meta,
                self.target,
                [c.id for c in result.new_contacts],
                profile_fields,
            )

    async def _progress(self, uow: UnitOfWork, phase: str) -> None:
        run = await uow.session.get(SyncRun, self.target.run_id)
        assert run is not None
        run.phase = phase
        run.details = {**run.details, "done": self.done, **self.breakdown()}
        _record(run, self.totals(), run.graph_calls)
        publish(uow, run)


PAGE_DETAILS = (
    "name",
    "category",
    "about",
    "phone",
    "website",
    "picture_url",
    "fan_count",
    "followers_count",
)


async def _profiles(
    make_uow: Callable[[], UnitOfWork],
    meta: MetaGateway,
    target: _Target,
    contact_ids: list[uuid.UUID],
    fields: set[str],
) -> None:
    """Names and pictures of new contacts from the profile API (``fields``: the Contact
    columns selected, name and/or picture_url; only those are asked for and written). A
    failure keeps the name Meta gave in the conversation (the contact is never lost) for a
    later sync to fill."""
    async with make_uow() as uow:
        contacts = (
            (await uow.session.execute(select(Contact).where(Contact.id.in_(contact_ids))))
            .scalars()
            .all()
        )
        wanted = [(c.id, c.platform_user_id, c.platform) for c in contacts]
    gate = asyncio.Semaphore(PROFILE_CONCURRENCY)

    async def fetch(user_id: str, platform: str) -> tuple[str | None, str | None] | None:
        async with gate:
            try:
                profile = await meta.user_profile(
                    user_id, target.token, platform=platform, fields=fields
                )
            except MetaError as exc:
                log.info("profile_unavailable", user_id=user_id, error=str(exc))
                return None
            return profile.name, profile.picture_url

    results = await asyncio.gather(*(fetch(uid, platform) for _, uid, platform in wanted))
    async with make_uow() as uow:
        for (contact_id, _, _), found in zip(wanted, results, strict=True):
            contact = await uow.session.get(Contact, contact_id)
            if contact is None or found is None:
                continue
            name, picture = found
            if "picture_url" in fields:
                contact.meta_picture_url = picture
                if "picture_url" not in (contact.locally_edited or []):
                    contact.picture_url = picture
            if name and "name" in fields:
                contact.meta_name = name
                if "name" not in (contact.locally_edited or []):
                    contact.name = name
        await uow.commit()
