"""The root Query type."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers.graphql import posts as post_resolvers
from resolvers.graphql import query as resolvers
from resolvers.graphql import webhooks as webhook_resolvers
from schema.accounts import ConnectionHealth, MetaConnection, WhatsAppAccount
from schema.connections import Connection
from schema.posts import AccountAnalytics, Post, PostFilterInput
from schema.sync import SyncRun
from schema.templates import Template
from schema.types import GraphInfo, InstagramAccount, Node, Page, Viewer
from schema.webhooks import WebhookEvent, WebhookEventStatus


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated user and their organization.")
    def viewer(self, info: GraphInfo) -> Viewer:
        return resolvers.resolve_viewer(info)

    @strawberry.field(description="Any object by global id; null if missing or not visible.")
    async def node(self, info: GraphInfo, id: strawberry.ID) -> Node | None:
        return await resolvers.resolve_node(info, id)

    @strawberry.field(description="Objects by global ids, in order; null where not visible.")
    async def nodes(self, info: GraphInfo, ids: list[strawberry.ID]) -> list[Node | None]:
        return await resolvers.resolve_nodes(info, list(ids))

    @strawberry.field(description="The organization's Facebook Pages, by name.")
    async def pages(
        self, info: GraphInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[Page]:
        return await resolvers.resolve_pages(info, first, after)

    @strawberry.field(description="A Page by global id; null if missing or not visible.")
    async def page(self, info: GraphInfo, id: strawberry.ID) -> Page | None:
        return await resolvers.resolve_page(info, id)

    @strawberry.field(description="The organization's Meta logins, oldest first.")
    async def meta_connections(
        self, info: GraphInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[MetaConnection]:
        return await resolvers.resolve_meta_connections(info, first, after)

    @strawberry.field(description="The organization's Instagram accounts, in connection order.")
    async def instagram_accounts(
        self, info: GraphInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[InstagramAccount]:
        return await resolvers.resolve_instagram_accounts(info, first, after)

    @strawberry.field(
        description="The organization's WhatsApp Business accounts, in connection order."
    )
    async def whatsapp_accounts(
        self, info: GraphInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[WhatsAppAccount]:
        return await resolvers.resolve_whatsapp_accounts(info, first, after)

    @strawberry.field(description="How the organization's Meta connections are doing.")
    async def connection_health(self, info: GraphInfo) -> ConnectionHealth:
        return await resolvers.resolve_connection_health(info)

    @strawberry.field(
        description="The organization's sync runs, newest first; only one Page's with pageId."
    )
    async def sync_runs(
        self,
        info: GraphInfo,
        page_id: strawberry.ID | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[SyncRun]:
        return await resolvers.resolve_sync_runs(info, page_id, first, after)

    @strawberry.field(
        description="Webhook deliveries applied to the organization, newest first "
        "(owners and admins)."
    )
    async def webhook_events(
        self,
        info: GraphInfo,
        status: WebhookEventStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[WebhookEvent]:
        return await webhook_resolvers.webhook_events(info, status, first, after)

    @strawberry.field(description="A WhatsApp template by global id; null if not visible.")
    async def template(self, info: GraphInfo, id: strawberry.ID) -> Template | None:
        return await resolvers.resolve_template(info, id)

    @strawberry.field(description="The organization's posts, newest first.")
    async def posts(
        self,
        info: GraphInfo,
        filter: PostFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Post]:
        return await post_resolvers.posts(info, filter, first, after)

    @strawberry.field(description="A post by global id; null if missing or not visible.")
    async def post(self, info: GraphInfo, id: strawberry.ID) -> Post | None:
        node = await resolvers.resolve_node(info, id)
        return node if isinstance(node, Post) else None

    @strawberry.field(
        description="How a Page's or Instagram account's posts published between the dates "
        "perform (default: the last 30 days); null if the account is not visible."
    )
    async def account_analytics(
        self,
        info: GraphInfo,
        account_id: strawberry.ID,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> AccountAnalytics | None:
        return await post_resolvers.account_analytics(info, account_id, start_date, end_date)
