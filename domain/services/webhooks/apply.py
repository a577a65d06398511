"""Applying stored deliveries: each unit event in its own transaction, exactly once.

Exactly once in effect: the event's key is inserted into ``applied_webhook_events`` in the
same transaction as its effect, so a second delivery of it (or the same delivery processed
twice, concurrently) fails that insert and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.meta import MetaError, MetaGateway
from domain.models import (
    AppliedWebhookEvent,
    ChannelStatus,
    Contact,
    InstagramAccount,
    Page,
    WebhookEvent,
    WebhookEventStatus,
    WhatsAppAccount,
)
from domain.ports import Clock
from domain.services.webhooks import handlers
from domain.services.webhooks.events import UnitEvent, parse_delivery
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)

APPLIED, DUPLICATE, IGNORED, WAITING = "applied", "duplicate", "ignored", "waiting"
# process_event's answer for a delivery left "received" to be tried again.
DEFERRED = "deferred"


@dataclass
class ApplyContext:
    make_uow: Callable[[], UnitOfWork]
    meta: MetaGateway
    vault: TokenVault
    clock: Clock
    # How long an event about something not stored yet waits for it (settings.py).
    defer: timedelta = timedelta(seconds=300)


@dataclass
class Target:
    """Where a unit event lands: one organization's Page or WhatsApp account."""

    organization_id: uuid.UUID
    page: Page | None = None
    whatsapp: WhatsAppAccount | None = None
    page_token: str | None = None


async def process_event(ctx: ApplyContext, event_id: uuid.UUID) -> str | None:
    """Apply a stored delivery; returns its final status (None if it does not exist)."""
    async with ctx.make_uow() as uow:
        event = await uow.session.get(WebhookEvent, event_id)
        if event is None:
            return None
        if event.status in (WebhookEventStatus.PROCESSED.value, WebhookEventStatus.IGNORED.value):
            return event.status
        event.attempts += 1
        event.queued_at = ctx.clock.now()  # in a worker's hands: the sweeper waits
        raw, received_at = event.raw_body, event.received_at
        await uow.commit()
    try:
        body = orjson.loads(raw)
        units = parse_delivery(body) if isinstance(body, dict) else []
    except orjson.JSONDecodeError as exc:
        return await _finish(ctx, event_id, WebhookEventStatus.FAILED, f"not JSON: {exc}")
    waiting: list[str] = []
    outcomes = [await apply_unit(ctx, unit, event_id, waiting) for unit in units]
    if waiting:
        what = ", ".join(dict.fromkeys(waiting))[:900]  # once, however many organizations
        if ctx.clock.now() - received_at < ctx.defer:
            # Kept "received": the worker's retry (or the sweeper) applies it once the
            # message it is about has arrived; the units applied already are not redone.
            await _note(ctx, event_id, f"waiting for {what}")
            return DEFERRED
        note = f"gave up waiting for {what}"
        status = WebhookEventStatus.PROCESSED if APPLIED in outcomes else WebhookEventStatus.IGNORED
        return await _finish(ctx, event_id, status, note)
    if not outcomes or all(o == IGNORED for o in outcomes):
        return await _finish(ctx, event_id, WebhookEventStatus.IGNORED, "nothing metasync manages")
    return await _finish(ctx, event_id, WebhookEventStatus.PROCESSED, None)


async def _note(ctx: ApplyContext, event_id: uuid.UUID, error: str) -> None:
    async with ctx.make_uow() as uow:
        event = await uow.session.get(WebhookEvent, event_id)
        assert event is not None
        event.error = error
        await uow.commit()


async def _finish(
    ctx: ApplyContext, event_id: uuid.UUID, status: WebhookEventStatus, error: str | None
) -> str:
    async with ctx.make_uow() as uow:
        event = await uow.session.get(WebhookEvent, event_id)
        assert event is not None
        event.status, event.error, event.processed_at = status.value, error, ctx.clock.now()
        await uow.commit()
    return status.value


async def apply_unit(
    ctx: ApplyContext,
    unit: UnitEvent,
    event_id: uuid.UUID | None,
    waiting: list[str] | None = None,
) -> str:
    """Apply one unit event to every organization it reaches. A unit about something not
    stored yet is not recorded as applied: it is named in ``waiting`` (when given) and
    applied on a later attempt."""
    if unit.kind == "unknown" or not unit.key:
        return IGNORED
    handler = handlers.HANDLERS.get(unit.kind)
    if handler is None:
        return IGNORED
    async with ctx.make_uow() as uow:
        targets = await _targets(uow, ctx.vault, unit)
    if not targets:
        return IGNORED
    outcome = DUPLICATE
    for target in targets:
        profile = await _profile_if_new(ctx, target, unit)
        async with ctx.make_uow() as uow:
            uow.session.add(
                AppliedWebhookEvent(
                    key=f"{target.organization_id}:{unit.key}"[:400],
                    webhook_event_id=event_id,
                )
            )
            try:
                await uow.session.flush()
            except IntegrityError:
                await uow.rollback()
                continue
            try:
                await handler(uow, target, unit, profile)
            except handlers.NotStoredYet as missing:
                await uow.rollback()
                if waiting is not None:
                    waiting.append(str(missing))
                outcome = WAITING
                continue
            await uow.commit()
            outcome = APPLIED
    return outcome


async def _targets(uow: UnitOfWork, vault: TokenVault, unit: UnitEvent) -> list[Target]:
    """Every organization managing the Page / Instagram account / WABA the event names."""
    live = ChannelStatus.DISCONNECTED.value
    if unit.platform == "whatsapp":
        rows = (
            await uow.session.execute(
                select(WhatsAppAccount).where(
                    WhatsAppAccount.waba_id == unit.owner_id,
                    WhatsAppAccount.deleted_at.is_(None),
                    WhatsAppAccount.status != live,
                )
            )
        ).scalars()
        return [Target(w.organization_id, whatsapp=w) for w in rows]
    if unit.platform == "instagram":
        stmt: Any = (
            select(Page)
            .join(InstagramAccount, InstagramAccount.page_id == Page.id)
            .where(InstagramAccount.meta_ig_id == unit.owner_id)
        )
    else:
        stmt = select(Page).where(Page.meta_page_id == unit.owner_id)
    pages = (
        await uow.session.execute(stmt.where(Page.deleted_at.is_(None), Page.status != live))
    ).scalars()
    return [Target(p.organization_id, page=p, page_token=unseal(vault, p)) for p in pages]


async def _profile_if_new(ctx: ApplyContext, target: Target, unit: UnitEvent) -> handlers.Profile:
    """A first message from someone: their name and picture from the profile API, read
    before the transaction. A failure leaves a placeholder (the message is never lost) and
    the contact is filled by the next contacts sync."""
    # An echo can be the first event of a contact too (the Page wrote first, or deliveries
    # arrived out of order): the contact gets the same name either way.
    kinds = ("message", "postback", "echo")
    if unit.kind not in kinds or not unit.person_id or target.page is None:
        return None
    async with ctx.make_uow() as uow:
        known = (
            await uow.session.execute(
                select(Contact.id).where(
                    Contact.page_id == target.page.id,
                    Contact.platform == unit.platform,
                    Contact.platform_user_id == unit.person_id,
                )
            )
        ).first()
    if known is not None or target.page_token is None:
        return None
    try:
        profile = await ctx.meta.user_profile(
            unit.person_id, target.page_token, platform=unit.platform
        )
    except MetaError as exc:
        log.info("webhook_profile_unavailable", person=unit.person_id, error=str(exc))
        return None
    return profile.name, profile.picture_url
