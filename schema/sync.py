"""Sync runs and a Page's sync status.

A run reaches GraphQL either as a ``sync_runs`` row or as the event the bus carries for it
(``domain.services.sync.runs.snapshot``); both become a ``SyncRun`` through that one
snapshot shape, so a subscription's live events and a query's rows cannot disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import strawberry

from domain import models
from domain.pagination import clamp_first
from domain.services.sync.runs import snapshot
from schema.connections import Connection
from schema.enums import SyncRunScope, SyncRunStatus
from schema.types import Conversation, GraphInfo, Node, Page, node_ids


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


@strawberry.type(description="One sync from Meta of a Page (or of one of its conversations).")
class SyncRun(Node):
    status: SyncRunStatus
    scope: SyncRunScope
    trigger: str = strawberry.field(
        description="What started it: manual, api, schedule, cron, auto_connect or webhook."
    )
    phase: str | None = strawberry.field(description="What it is reading now (or 'done').")
    progress: float = strawberry.field(description="From 0 to 1; 1 once succeeded.")
    done: int = strawberry.field(description="Conversations read from Meta and stored so far.")
    total: int | None = strawberry.field(description="How many there are, once known.")
    created: int
    updated: int
    unchanged: int
    graph_calls: int = strawberry.field(description="Graph API calls made.")
    fields: list[str] | None = strawberry.field(
        description="Selective sync: the fields it read and wrote (null: every field)."
    )
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = strawberry.field(description="Why it failed.")
    page_id: strawberry.Private[uuid.UUID | None]
    conversation_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_snapshot(cls, event: Mapping[str, Any]) -> Self:
        total = event.get("total")
        return cls(
            **node_ids("SyncRun", uuid.UUID(str(event["id"]))),
            status=SyncRunStatus(event["status"]),
            scope=SyncRunScope(event["scope"]),
            trigger=str(event["trigger"]),
            phase=event.get("phase"),
            progress=float(event.get("progress") or 0.0),
            done=int(event.get("done") or 0),
            total=None if total is None else int(total),
            created=int(event.get("created") or 0),
            updated=int(event.get("updated") or 0),
            unchanged=int(event.get("unchanged") or 0),
            graph_calls=int(event.get("graph_calls") or 0),
            fields=event.get("fields"),
            started_at=_time(event.get("started_at")),
            finished_at=_time(event.get("finished_at")),
            error=event.get("error"),
            page_id=_uuid(event.get("page_id")),
            conversation_id=_uuid(event.get("conversation_id")),
        )

    @classmethod
    def from_domain(cls, row: models.SyncRun) -> Self:
        return cls.from_snapshot(snapshot(row))

    @strawberry.field
    async def page(self, info: GraphInfo) -> Page | None:
        if self.page_id is None:
            return None
        row = await info.context.loaders.page.load(self.page_id)
        return Page.from_domain(row) if row else None

    @strawberry.field(description="The conversation a MESSAGES or STATUS run synced.")
    async def conversation(self, info: GraphInfo) -> Conversation | None:
        if self.conversation_id is None:
            return None
        row = await info.context.loaders.conversation.load(self.conversation_id)
        return Conversation.from_domain(row) if row else None


@strawberry.type(description="What metasync holds of a Page and how its syncs are going.")
class PageSyncStatus:
    last_synced_at: datetime | None = strawberry.field(
        description="When a sync of the Page last succeeded."
    )
    page_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def total_conversations(self, info: GraphInfo) -> int:
        return (await info.context.loaders.sync_totals_of_page.load(self.page_id)).conversations

    @strawberry.field
    async def total_contacts(self, info: GraphInfo) -> int:
        return (await info.context.loaders.sync_totals_of_page.load(self.page_id)).contacts

    @strawberry.field
    async def total_messages(self, info: GraphInfo) -> int:
        return (await info.context.loaders.sync_totals_of_page.load(self.page_id)).messages

    @strawberry.field(description="The newest queued or running run, if any.")
    async def active_run(self, info: GraphInfo) -> SyncRun | None:
        row = await info.context.loaders.active_sync_run_of_page.load(self.page_id)
        return SyncRun.from_domain(row) if row else None

    @strawberry.field(description="The Page's runs, newest first.")
    async def recent_runs(
        self, info: GraphInfo, first: int | None = 10, after: str | None = None
    ) -> Connection[SyncRun]:
        loaders = info.context.loaders
        page = await loaders.sync_runs_of_page.load((self.page_id, clamp_first(first), after))
        return Connection[SyncRun].from_slice(
            page,
            SyncRun.from_domain,
            lambda: loaders.sync_run_count_of_page.load(self.page_id),
            has_previous=after is not None,
        )
