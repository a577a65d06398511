"""Root query resolvers: viewer, node/nodes, the organization's lists (sync runs included),
connection health."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInputError
from domain.models import SyncRun as SyncRunRow
from domain.pagination import MAX_PAGE_SIZE, Slice, clamp_first
from domain.repositories.accounts import MetaConnectionRepository
from domain.repositories.channels import (
    InstagramAccountRepository,
    PageRepository,
    WhatsAppAccountRepository,
)
from domain.repositories.sync_runs import SyncRunRepository
from domain.repositories.webhook_events import WebhookEventRepository
from domain.services.connection_health import organization_health
from domain.services.permissions import Action, may
from resolvers.graphql import posts as post_resolvers
from resolvers.graphql.ids import id_of
from schema.accounts import ConnectionHealth, MetaConnection, WhatsAppAccount
from schema.connections import Connection
from schema.scalars import decode_global_id
from schema.sync import SyncRun
from schema.templates import Template
from schema.types import (
    Contact,
    Conversation,
    GraphInfo,
    InstagramAccount,
    Message,
    Node,
    Organization,
    Page,
    Viewer,
)
from schema.webhooks import WebhookEvent

MAX_NODES = MAX_PAGE_SIZE
RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")


def resolve_viewer(info: GraphInfo) -> Viewer:
    return Viewer.from_principal(info.context.viewer)


class _Listing(Protocol[RowT]):
    async def list(self, *, first: int, after: str | None) -> Slice[RowT]: ...

    async def count(self) -> int: ...


async def _root_list(
    info: GraphInfo,
    repo_cls: Callable[[AsyncSession, uuid.UUID], _Listing[RowT]],
    convert: Callable[[RowT], NodeT],
    first: int | None,
    after: str | None,
) -> Connection[NodeT]:
    """A list of the viewer's organization; counted (in its own session) only if asked."""
    services = info.context.services
    org = info.context.viewer.organization_id
    size = clamp_first(first)
    async with services.session_factory() as session:
        page = await repo_cls(session, org).list(first=size, after=after)

    async def count() -> int:
        async with services.session_factory() as session:
            return await repo_cls(session, org).count()

    return Connection[NodeT].from_slice(page, convert, count, has_previous=after is not None)


async def resolve_pages(info: GraphInfo, first: int | None, after: str | None) -> Connection[Page]:
    return await _root_list(info, PageRepository, Page.from_domain, first, after)


async def resolve_meta_connections(
    info: GraphInfo, first: int | None, after: str | None
) -> Connection[MetaConnection]:
    return await _root_list(
        info, MetaConnectionRepository, MetaConnection.from_domain, first, after
    )


async def resolve_instagram_accounts(
    info: GraphInfo, first: int | None, after: str | None
) -> Connection[InstagramAccount]:
    return await _root_list(
        info, InstagramAccountRepository, InstagramAccount.from_domain, first, after
    )


async def resolve_whatsapp_accounts(
    info: GraphInfo, first: int | None, after: str | None
) -> Connection[WhatsAppAccount]:
    return await _root_list(
        info, WhatsAppAccountRepository, WhatsAppAccount.from_domain, first, after
    )


@dataclass
class _SyncRuns:
    """The organization's runs, or one page's (another organization's page has none)."""

    repo: SyncRunRepository
    page_id: uuid.UUID | None

    async def list(self, *, first: int, after: str | None) -> Slice[SyncRunRow]:
        return await self.repo.list(first=first, after=after, page_id=self.page_id)

    async def count(self) -> int:
        return await self.repo.count_of(self.page_id)


async def resolve_sync_runs(
    info: GraphInfo, page_id: str | None, first: int | None, after: str | None
) -> Connection[SyncRun]:
    page = None if page_id is None else id_of(page_id, "Page", field="pageId")

    def runs(session: AsyncSession, org: uuid.UUID) -> _SyncRuns:
        return _SyncRuns(SyncRunRepository(session, org), page)

    return await _root_list(info, runs, SyncRun.from_domain, first, after)


async def resolve_connection_health(info: GraphInfo) -> ConnectionHealth:
    services = info.context.services
    async with services.session_factory() as session:
        report = await organization_health(
            session, info.context.viewer.organization_id, services.clock.now()
        )
    return ConnectionHealth.from_domain(report)


async def resolve_page(info: GraphInfo, id: str) -> Page | None:
    node = await resolve_node(info, id)
    return node if isinstance(node, Page) else None


async def resolve_node(info: GraphInfo, id: str) -> Node | None:
    """Any object by global id; None when missing or another organization's (same answer)."""
    decoded = decode_global_id(id)
    if decoded is None:
        return None
    type_name, row_id = decoded
    resolver = _NODE_RESOLVERS.get(type_name)
    return await resolver(info, row_id) if resolver else None


async def resolve_nodes(info: GraphInfo, ids: list[str]) -> list[Node | None]:
    if len(ids) > MAX_NODES:
        raise InvalidInputError("ids", f"at most {MAX_NODES} ids per call")
    # Each id goes through the loaders, so ids of one type share one batch.
    return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))


async def _page(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.page.load(row_id)
    return Page.from_domain(row) if row else None


async def _conversation(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.conversation.load(row_id)
    return Conversation.from_domain(row) if row else None


async def _message(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.message.load(row_id)
    return Message.from_domain(row) if row else None


async def _contact(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.contact.load(row_id)
    return Contact.from_domain(row) if row else None


async def _meta_connection(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.meta_connection.load(row_id)
    return MetaConnection.from_domain(row) if row else None


async def _instagram_account(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.instagram_account.load(row_id)
    return InstagramAccount.from_domain(row) if row else None


async def _whatsapp_account(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.whatsapp_account.load(row_id)
    return WhatsAppAccount.from_domain(row) if row else None


async def _template(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.template.load(row_id)
    return Template.from_domain(row) if row else None


async def resolve_template(info: GraphInfo, id: str) -> Template | None:
    node = await resolve_node(info, id)
    return node if isinstance(node, Template) else None


async def _sync_run(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    row = await info.context.loaders.sync_run.load(row_id)
    return SyncRun.from_domain(row) if row else None


async def _webhook_event(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    # Deliveries are for owners and admins (as Query.webhookEvents); anyone else sees null,
    # the answer for what does not exist.
    viewer = info.context.viewer
    if not may(viewer.role, Action.OPERATE_WEBHOOKS):
        return None
    async with info.context.services.session_factory() as session:
        row = await WebhookEventRepository(session, viewer.organization_id).get(row_id)
    return WebhookEvent.from_domain(row) if row else None


async def _organization(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    viewer = info.context.viewer
    if row_id != viewer.organization_id:
        return None
    return Organization.from_domain(viewer.organization_id, viewer.organization_name)


async def _user(info: GraphInfo, row_id: uuid.UUID) -> Node | None:
    return resolve_viewer(info) if row_id == info.context.viewer.user_id else None


_NODE_RESOLVERS: dict[str, Callable[[GraphInfo, uuid.UUID], Awaitable[Node | None]]] = {
    "Page": _page,
    "Conversation": _conversation,
    "Message": _message,
    "Contact": _contact,
    "MetaConnection": _meta_connection,
    "InstagramAccount": _instagram_account,
    "WhatsAppAccount": _whatsapp_account,
    "Template": _template,
    "SyncRun": _sync_run,
    "WebhookEvent": _webhook_event,
    "Organization": _organization,
    "User": _user,
    "Post": post_resolvers.post_node,
    "PostComment": post_resolvers.post_comment_node,
}
