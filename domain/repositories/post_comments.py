"""Comments on the Page posts of one organization (deleted ones are tombstones: unseen)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.models import PostComment
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped

# Oldest first: a thread reads in the order it was written.
COMMENT_ORDER = (
    SortKey(PostComment.created_time, False, datetime),
    SortKey(PostComment.id, False, uuid.UUID),
)


class PostCommentRepository(OrgScoped[PostComment]):
    model = PostComment

    async def first_by_posts(
        self, meta_post_ids: Sequence[str], *, first: int, after: str | None
    ) -> dict[str, Slice[PostComment]]:
        """Each post's first comments, keyed by Meta's post id, in one statement."""
        return await self.slices_by_parent(
            PostComment.meta_post_id, meta_post_ids, COMMENT_ORDER, first=first, after=after
        )

    async def count_by_posts(self, meta_post_ids: Sequence[str]) -> dict[str, int]:
        return await self.counts_by_parent(PostComment.meta_post_id, meta_post_ids)

    async def by_meta_ids(self, meta_comment_ids: Sequence[str]) -> dict[str, PostComment]:
        """The visible comments with these Meta ids (a reply's parent, for instance)."""
        if not meta_comment_ids:
            return {}
        stmt = self.select().where(PostComment.meta_comment_id.in_(set(meta_comment_ids)))
        return {row.meta_comment_id: row for row in (await self.session.execute(stmt)).scalars()}
