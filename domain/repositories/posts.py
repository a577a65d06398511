"""Posts of one organization: published through metasync or read from Meta."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement

from domain.models import Post
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped

# Newest first.
POST_ORDER = (
    SortKey(Post.created_at, True, datetime),
    SortKey(Post.id, True, uuid.UUID),
)


@dataclass(frozen=True)
class PostFilter:
    statuses: tuple[str, ...] = ()
    platform: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.statuses:
            found.append(Post.status.in_(self.statuses))
        if self.platform:
            found.append(Post.platform == self.platform)
        return found


class PostRepository(OrgScoped[Post]):
    model = Post

    async def connection(
        self, criteria: PostFilter, *, first: int, after: str | None
    ) -> Slice[Post]:
        return await self.list_slice(POST_ORDER, first=first, after=after, where=criteria.where())

    async def of_pages(
        self, page_ids: Sequence[uuid.UUID], criteria: PostFilter, *, first: int, after: str | None
    ) -> dict[uuid.UUID, Slice[Post]]:
        """A Page's own posts (not those of the Instagram account connected through it)."""
        where = [Post.instagram_account_id.is_(None), *criteria.where()]
        return await self.slices_by_parent(
            Post.page_id, page_ids, POST_ORDER, first=first, after=after, where=where
        )

    async def count_of_pages(
        self, page_ids: Sequence[uuid.UUID], criteria: PostFilter
    ) -> dict[uuid.UUID, int]:
        where = [Post.instagram_account_id.is_(None), *criteria.where()]
        return await self.counts_by_parent(Post.page_id, page_ids, where)

    async def of_instagram_accounts(
        self, ig_ids: Sequence[uuid.UUID], criteria: PostFilter, *, first: int, after: str | None
    ) -> dict[uuid.UUID, Slice[Post]]:
        return await self.slices_by_parent(
            Post.instagram_account_id, ig_ids, POST_ORDER,
            first=first, after=after, where=criteria.where(),
        )  # fmt: skip

    async def count_of_instagram_accounts(
        self, ig_ids: Sequence[uuid.UUID], criteria: PostFilter
    ) -> dict[uuid.UUID, int]:
        return await self.counts_by_parent(Post.instagram_account_id, ig_ids, criteria.where())
