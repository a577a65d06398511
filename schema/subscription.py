"""The root Subscription type: sync progress, over graphql-transport-ws.

The resolvers' generators are closed with the stream (``aclosing``), so a client leaving
releases its bus subscription at once rather than whenever the generator is collected."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from resolvers.graphql import conversation_events as conversation_resolvers
from resolvers.graphql import posts as post_resolvers
from resolvers.graphql import subscription as resolvers
from resolvers.graphql import templates as template_resolvers
from schema.posts import Post
from schema.sync import SyncRun
from schema.templates import Template
from schema.types import ConversationEvent, GraphInfo


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A run's state now, then as it changes; ends after it succeeds or fails. "
        "A slow client gets the latest state rather than every step."
    )
    async def sync_progress(
        self, info: GraphInfo, run_id: strawberry.ID
    ) -> AsyncGenerator[SyncRun, None]:
        async with aclosing(resolvers.sync_progress(info, run_id)) as runs:
            async for run in runs:
                yield run

    @strawberry.subscription(
        description="A Page's runs as they start and change: first its queued and running "
        "runs (or else its latest run), then every run's changes until unsubscribed."
    )
    async def page_sync_progress(
        self, info: GraphInfo, page_id: strawberry.ID
    ) -> AsyncGenerator[SyncRun, None]:
        async with aclosing(resolvers.page_sync_progress(info, page_id)) as runs:
            async for run in runs:
                yield run

    @strawberry.subscription(
        description="New and changed messages and conversations of a Page, as webhooks from "
        "Meta are applied."
    )
    async def conversation_events(
        self, info: GraphInfo, page_id: strawberry.ID
    ) -> AsyncGenerator[ConversationEvent, None]:
        stream = conversation_resolvers.conversation_events(info, page_id)
        async with aclosing(stream) as events:
            async for event in events:
                yield event

    @strawberry.subscription(
        description="A WhatsApp account's templates as they are now, then each as Meta's "
        "review changes its status (PENDING → APPROVED / REJECTED with the reason, ...)."
    )
    async def template_status(
        self, info: GraphInfo, waba_id: strawberry.ID
    ) -> AsyncGenerator[Template, None]:
        async with aclosing(template_resolvers.template_status(info, waba_id)) as templates:
            async for template in templates:
                yield template

    @strawberry.subscription(
        description="A post as it is now, then each step the post queue takes (queued, "
        "processing, unconfirmed, published or failed); ends once it is published, has "
        "failed for good, or is deleted."
    )
    async def post_status(
        self, info: GraphInfo, post_id: strawberry.ID
    ) -> AsyncGenerator[Post, None]:
        async with aclosing(post_resolvers.post_status(info, post_id)) as steps:
            async for step in steps:
                yield step
