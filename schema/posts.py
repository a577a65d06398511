"""GraphQL types of posts (published through metasync or read from Meta) and analytics."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Hashable
from datetime import date, datetime
from typing import Annotated, Self

import strawberry
from strawberry.dataloader import DataLoader

from domain import models
from domain.pagination import Slice, clamp_first
from domain.repositories.posts import PostFilter
from domain.services import post_analytics
from schema.connections import Connection
from schema.errors import AnyError
from schema.types import GraphInfo, InstagramAccount, Node, Page, node_ids


@strawberry.enum
class PostStatus(enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNCONFIRMED = strawberry.enum_value(
        "unconfirmed",
        description="Meta may have published it but never confirmed: metasync reads Meta "
        "before trying again, never publishing twice.",
    )


@strawberry.enum
class PostPlatform(enum.Enum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


@strawberry.enum
class PostKind(enum.Enum):
    FEED = "feed"
    REEL = "reel"
    STORY = "story"


@strawberry.enum
class MediaKind(enum.Enum):
    IMAGE = "image"
    VIDEO = "video"


@strawberry.type
class PostMedia:
    url: str | None
    kind: str
    thumbnail_url: str | None


@strawberry.type(description="A post's numbers as last read from Meta.")
class PostMetrics:
    captured_at: datetime
    likes: int | None
    comments: int | None
    shares: int | None
    reach: int | None = strawberry.field(description="Instagram only: Meta no longer serves it.")
    views: int | None
    saved: int | None
    clicks: int | None
    engagement: int
    engagement_rate: float | None = strawberry.field(
        description="engagement / reach * 100 (Instagram), / Page followers (Facebook)."
    )

    @classmethod
    def from_domain(cls, m: post_analytics.PostMetrics) -> Self:
        return cls(
            captured_at=m.captured_at,
            likes=m.likes,
            comments=m.comments,
            shares=m.shares,
            reach=m.reach,
            views=m.views,
            saved=m.saved,
            clicks=m.clicks,
            engagement=m.engagement,
            engagement_rate=m.engagement_rate,
        )


@strawberry.type(
    description="A comment on a Facebook Page post, or a reply to one, as Meta's Page feed "
    "webhook reported it (added, edited, hidden, removed: a removed one is no longer listed)."
)
class PostComment(Node):
    meta_comment_id: str
    parent_meta_comment_id: str | None = strawberry.field(
        description="The comment this one replies to; null for a comment on the post itself."
    )
    author_meta_id: str | None
    author_name: str | None
    message: str | None
    created_at: datetime = strawberry.field(description="When it was written, by Meta's clock.")
    edited_at: datetime | None
    hidden: bool = strawberry.field(description="Hidden on Facebook (by the Page).")
    row: strawberry.Private[models.PostComment]

    @classmethod
    def from_domain(cls, row: models.PostComment) -> Self:
        return cls(
            **node_ids("PostComment", row.id),
            meta_comment_id=row.meta_comment_id,
            parent_meta_comment_id=row.parent_meta_comment_id,
            author_meta_id=row.author_meta_id,
            author_name=row.author_name,
            message=row.message,
            created_at=row.created_time,
            edited_at=row.edited_at,
            hidden=row.hidden,
            row=row,
        )

    @strawberry.field(
        description="The global id of the comment this one replies to; null for a comment on "
        "the post itself, or when that comment is not stored (or was removed)."
    )
    async def parent_id(self, info: GraphInfo) -> strawberry.ID | None:
        if self.row.parent_meta_comment_id is None:
            return None
        parent = await info.context.loaders.comment_by_meta_id.load(self.row.parent_meta_comment_id)
        return node_ids("PostComment", parent.id)["id"] if parent else None


@strawberry.type(description="A Facebook Page post or an Instagram media item.")
class Post(Node):
    platform: PostPlatform
    type: str = strawberry.field(
        description="text, link, photo, video, multi_photo, image, reel, story or carousel"
    )
    status: PostStatus
    message: str | None
    link: str | None
    media: list[PostMedia]
    scheduled_at: datetime | None
    published_at: datetime | None
    meta_post_id: str | None
    permalink: str | None
    attempts: int
    error: str | None = strawberry.field(description="Why the last attempt failed, readable.")
    error_code: str | None
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Post]

    @classmethod
    def from_domain(cls, row: models.Post) -> Self:
        return cls(
            **node_ids("Post", row.id),
            platform=PostPlatform(row.platform),
            type=row.type,
            status=PostStatus(row.status),
            message=row.message,
            link=row.link,
            media=[
                PostMedia(
                    url=m.get("url"), kind=str(m.get("kind")), thumbnail_url=m.get("thumbnail_url")
                )
                for m in row.media or []
            ],
            scheduled_at=row.scheduled_at,
            published_at=row.published_at,
            meta_post_id=row.meta_post_id,
            permalink=row.permalink,
            attempts=row.attempts,
            error=row.last_error,
            error_code=row.last_error_code,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field(description="The latest numbers read from Meta; null if never read.")
    async def metrics(self, info: GraphInfo) -> PostMetrics | None:
        found = await info.context.loaders.post_metrics.load(self.row.id)
        return PostMetrics.from_domain(found) if found else None

    @strawberry.field(
        description="Comments and replies on a Facebook post, oldest first, as Meta's Page "
        "feed webhook reports them (removed ones are not listed; hidden ones are, flagged)."
    )
    async def comments(
        self, info: GraphInfo, first: int | None = 50, after: str | None = None
    ) -> Connection[PostComment]:
        loaders = info.context.loaders
        size = clamp_first(first)
        meta_post_id = self.row.meta_post_id
        if meta_post_id is None:  # not on Meta (yet): nothing to comment on
            page: Slice[models.PostComment] = Slice(items=[], cursors=[], has_next=False)
        else:
            page = await loaders.comments_of_post.load((meta_post_id, size, after))

        async def count() -> int:
            return await loaders.comment_count_of_post.load(meta_post_id) if meta_post_id else 0

        return Connection[PostComment].from_slice(
            page, PostComment.from_domain, count, has_previous=after is not None
        )

    @strawberry.field(description="The Page it was posted on (Instagram: the linked Page).")
    async def page(self, info: GraphInfo) -> Page | None:
        if self.row.page_id is None:
            return None
        row = await info.context.loaders.page.load(self.row.page_id)
        return Page.from_domain(row) if row else None

    @strawberry.field
    async def instagram_account(self, info: GraphInfo) -> InstagramAccount | None:
        if self.row.instagram_account_id is None:
            return None
        row = await info.context.loaders.instagram_account.load(self.row.instagram_account_id)
        return InstagramAccount.from_domain(row) if row else None


@strawberry.input
class PostFilterInput:
    status: list[PostStatus] | None = None
    platform: PostPlatform | None = None

    def to_domain(self) -> PostFilter:
        statuses = tuple(sorted(s.value for s in self.status or ()))
        return PostFilter(statuses, self.platform.value if self.platform else None)


async def post_connection(
    listing: DataLoader[tuple[Hashable, ...], Slice[models.Post]],
    counting: DataLoader[tuple[Hashable, ...], int],
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    filter: PostFilterInput | None,
) -> Connection[Post]:
    """A Page's posts or an Instagram account's media, through the operation's loaders."""
    criteria = (filter or PostFilterInput()).to_domain()
    page = await listing.load((parent_id, clamp_first(first), after, criteria))
    return Connection[Post].from_slice(
        page,
        Post.from_domain,
        lambda: counting.load((parent_id, criteria)),
        has_previous=after is not None,
    )


@strawberry.input
class MediaInput:
    url: str
    kind: MediaKind
    thumbnail_url: str | None = None


@strawberry.input
class CreatePostInput:
    account_id: strawberry.ID = strawberry.field(
        description="A Page's or an Instagram account's global id."
    )
    kind: PostKind = PostKind.FEED
    message: str | None = None
    link: str | None = strawberry.field(default=None, description="Facebook only.")
    media: list[MediaInput] = strawberry.field(default_factory=list)
    scheduled_at: datetime | None = strawberry.field(
        default=None, description="10 minutes to 30 days ahead; null publishes now."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key again answers the post already made."
    )


@strawberry.type
class PostSuccess:
    post: Post
    created: bool = strawberry.field(description="False: the idempotency key's earlier post.")


@strawberry.type
class PostDeleted:
    post_id: strawberry.ID
    deleted_on_meta: bool


@strawberry.type
class AnalyticsRefreshQueued:
    account_id: strawberry.ID


CreatePostResult = Annotated[PostSuccess | AnyError, strawberry.union("CreatePostResult")]
DeletePostResult = Annotated[PostDeleted | AnyError, strawberry.union("DeletePostResult")]
RetryPostResult = Annotated[PostSuccess | AnyError, strawberry.union("RetryPostResult")]
RefreshAnalyticsResult = Annotated[
    AnalyticsRefreshQueued | AnyError, strawberry.union("RefreshAnalyticsResult")
]


@strawberry.type
class EngagementPoint:
    date: date
    engagement: int


@strawberry.type(description="How an account's posts published in a date range perform.")
class AccountAnalytics:
    start_date: date
    end_date: date
    total_posts: int
    total_engagement: int
    average_engagement_rate: float | None
    total_reach: int | None
    total_views: int | None
    total_impressions: int | None = strawberry.field(
        description="Always null: Meta no longer serves impressions."
    )
    followers: int | None
    top_post: Post | None
    top_post_engagement_rate: float | None
    engagement_trend: list[EngagementPoint] = strawberry.field(
        description="Per day snapshots were taken: the posts' engagement as captured that day."
    )
    last_captured_at: datetime | None
