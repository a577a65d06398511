"""Relay cursor connections with ``totalCount``, for every list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from domain.pagination import Slice

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    # Counted only when asked for (a separate, batched statement).
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def from_slice(
        cls,
        page: Slice[RowT],
        convert: Callable[[RowT], NodeT],
        count: Callable[[], Awaitable[int]],
        *,
        has_previous: bool,
    ) -> Connection[NodeT]:
        return cls(
            edges=[
                Edge(node=convert(row), cursor=cursor)
                for row, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=has_previous,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
            count=count,
        )
