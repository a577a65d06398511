"""Root query resolvers: viewer, node/nodes, pages, page."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from domain.errors import InvalidInputError
from domain.pagination import MAX_PAGE_SIZE, clamp_first
from domain.repositories.channels import PageRepository
from schema.connections import Connection
from schema.scalars import decode_global_id
from schema.types import (
    Contact,
    Conversation,
    GraphInfo,
    Message,
    Node,
    Organization,
    Page,
    Viewer,
)

MAX_NODES = MAX_PAGE_SIZE


def resolve_viewer(info: GraphInfo) -> Viewer:
    return Viewer.from_principal(info.context.viewer)


async def resolve_pages(info: GraphInfo, first: int | None, after: str | None) -> Connection[Page]:
    services = info.context.services
    org = info.context.viewer.organization_id
    size = clamp_first(first)
    async with services.session_factory() as session:
        repo = PageRepository(session, org)
        page = await repo.list(first=size, after=after)

    async def count() -> int:
        async with services.session_factory() as session:
            return await PageRepository(session, org).count()

    return Connection[Page].from_slice(
        page, Page.from_domain, count, has_previous=after is not None
    )


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
    "Organization": _organization,
    "User": _user,
}
