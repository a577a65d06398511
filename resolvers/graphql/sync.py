"""Syncs from Meta over GraphQL — of a Page, of a conversation, of every Page auto-connect
reaches — started on request and answered at once.

Unlike the REST shims, nothing here waits for a run: the mutation returns it queued and
the client follows it with ``Subscription.syncProgress``.
"""

from __future__ import annotations

import uuid

from domain.services.auto_connect import auto_connect
from domain.services.permissions import Action
from domain.services.sync import runs
from domain.services.sync.fields import selection_for
from domain.services.sync.requests import conversation_page
from resolvers.graphql.access import require
from resolvers.graphql.errors import errors_as_data
from resolvers.graphql.ids import id_of
from schema.enums import ConversationSyncScope, SyncScope
from schema.payloads import AutoConnectPagesSuccess, SyncStarted
from schema.sync import SyncRun
from schema.types import GraphInfo


@errors_as_data
async def auto_connect_pages(info: GraphInfo) -> AutoConnectPagesSuccess:
    require(info, Action.CONNECT_PAGES)
    services, viewer = info.context.services, info.context.viewer
    report = await auto_connect(
        services.uow,
        services.meta,
        services.vault,
        services.bus,
        services.clock,
        organization_id=viewer.organization_id,
        user_id=viewer.user_id,
        # Answer with the runs as queued rather than wait for them (the REST shim waits).
        budget_seconds=0,
    )
    return AutoConnectPagesSuccess.from_report(report)


@errors_as_data
async def sync_page(
    info: GraphInfo, page_id: str, scope: SyncScope, fields: list[str] | None = None
) -> SyncStarted:
    return await _start(
        info,
        runs.SyncScope[scope.name],
        fields,
        page_id=id_of(page_id, "Page", field="pageId"),
    )


@errors_as_data
async def sync_conversation(
    info: GraphInfo,
    conversation_id: str,
    scope: ConversationSyncScope,
    fields: list[str] | None = None,
) -> SyncStarted:
    return await _start(
        info,
        runs.SyncScope[scope.name],
        fields,
        conversation_id=id_of(conversation_id, "Conversation", field="conversationId"),
    )


async def _start(
    info: GraphInfo,
    scope: runs.SyncScope,
    fields: list[str] | None,
    *,
    page_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
) -> SyncStarted:
    selection = selection_for(scope, fields)  # a ValidationError naming `fields` when bad
    services = info.context.services
    organization_id = info.context.viewer.organization_id
    async with services.uow() as uow:
        if conversation_id is not None:
            page_id = await conversation_page(uow, organization_id, conversation_id)
        assert page_id is not None
        run, created = await runs.start_sync(
            uow,
            organization_id=organization_id,
            page_id=page_id,
            scope=scope,
            trigger="manual",
            conversation_id=conversation_id,
            gate=services.rate_gate,
            limits=services.sync_limits,
            selection=selection,
        )
        await uow.commit()
        return SyncStarted(run=SyncRun.from_domain(run), created=created)
