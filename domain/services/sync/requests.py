"""Syncs people ask for through an API: started as runs, then waited on for a while so the
caller can answer with what the run did (or with the run, when it takes longer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from domain.errors import InvalidInputError, NotFoundError
from domain.models import Conversation, SyncRun
from domain.ports import EventBus, RateGate
from domain.services.sync.fields import SyncSelection
from domain.services.sync.runs import CONVERSATION_SCOPES, SyncLimits, SyncScope, start_sync
from domain.services.sync.waiting import wait_for_run
from domain.uow import UnitOfWork


async def conversation_page(
    uow: UnitOfWork, organization_id: uuid.UUID, conversation_id: uuid.UUID
) -> uuid.UUID:
    """The Page a conversation belongs to (404 for another organization's conversation)."""
    row = await uow.session.get(Conversation, conversation_id)
    if row is None or row.organization_id != organization_id or row.deleted_at:
        raise NotFoundError("Conversation")
    if row.page_id is None:  # a WhatsApp conversation: Meta has no conversation API for it
        raise InvalidInputError("conversationId", "is not a Facebook or Instagram conversation")
    return row.page_id


async def request_sync(
    make_uow: Callable[[], UnitOfWork],
    bus: EventBus,
    *,
    organization_id: uuid.UUID,
    scope: SyncScope,
    page_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
    gate: RateGate | None,
    limits: SyncLimits,
    wait_seconds: float,
    selection: SyncSelection | None = None,
) -> SyncRun:
    """Start ``scope`` for a page (or one conversation) within the spec's limits, and wait up
    to ``wait_seconds`` for it. The run comes back finished or as it stands."""
    async with make_uow() as uow:
        if scope in CONVERSATION_SCOPES:
            if conversation_id is None:
                raise InvalidInputError("conversationId", "is required")
            page_id = await conversation_page(uow, organization_id, conversation_id)
        if page_id is None:
            raise InvalidInputError("pageId", "is required")
        run, _ = await start_sync(
            uow,
            organization_id=organization_id,
            page_id=page_id,
            scope=scope,
            trigger="api",
            conversation_id=conversation_id,
            gate=gate,
            limits=limits,
            selection=selection,
        )
        await uow.commit()
        run_id = run.id
    return await wait_for_run(make_uow, bus, run_id, wait_seconds=wait_seconds)
