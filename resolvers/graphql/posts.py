"""Posts and analytics in GraphQL: the post queue's mutations on the domain services, the
live ``postStatus`` stream, the post lists and an account's analytics."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncGenerator
from datetime import date

import strawberry

from domain import models
from domain.errors import InvalidInputError, NotFoundError
from domain.pagination import clamp_first
from domain.ports import JSONDict
from domain.repositories.posts import PostRepository
from domain.services import post_analytics, publishing
from domain.services.post_insights import queue_account_sync, resolve_account
from resolvers.graphql.errors import errors_as_data
from resolvers.graphql.ids import id_of
from schema.connections import Connection
from schema.posts import (
    AccountAnalytics,
    AnalyticsRefreshQueued,
    CreatePostInput,
    EngagementPoint,
    Post,
    PostComment,
    PostDeleted,
    PostFilterInput,
    PostStatus,
    PostSuccess,
)
from schema.scalars import decode_global_id
from schema.types import GraphInfo

# Statuses after which a post changes no more (unless someone retries or deletes it).
FINAL = frozenset({"published", "failed", "deleted"})
# The bus is best effort: when it stays quiet this long, the database is read again.
RESYNC_SECONDS = 10.0
ACCOUNT_TYPES = {"Page": "facebook", "InstagramAccount": "instagram"}


def _account(global_id: str, field: str = "accountId") -> tuple[str, uuid.UUID]:
    decoded = decode_global_id(global_id)
    if decoded is None or decoded[0] not in ACCOUNT_TYPES:
        raise InvalidInputError(field, "must be the id of a Page or an InstagramAccount")
    return ACCOUNT_TYPES[decoded[0]], decoded[1]


@errors_as_data
async def create_post(info: GraphInfo, input: CreatePostInput) -> PostSuccess:
    platform, account_id = _account(input.account_id, "input.accountId")
    req = publishing.PostRequest(
        account_id=account_id,
        platform=platform,
        kind=input.kind.value,
        message=input.message,
        link=input.link,
        media=[publishing.MediaItem(m.url, m.kind.value, m.thumbnail_url) for m in input.media],
        scheduled_at=input.scheduled_at,
        idempotency_key=input.idempotency_key,
    )
    services = info.context.services
    async with services.uow() as uow:
        row, created = await publishing.create_post(
            uow, info.context.viewer.organization_id, req, services.clock.now()
        )
        await uow.commit()
    return PostSuccess(post=Post.from_domain(row), created=created)


@errors_as_data
async def delete_post(info: GraphInfo, id: str) -> PostDeleted:
    services = info.context.services
    async with services.uow() as uow:
        row = await publishing.get_post(uow, info.context.viewer.organization_id, id_of(id, "Post"))
        on_meta = await publishing.delete_post(
            uow, services.meta, services.vault, row, services.clock.now()
        )
        uow.publish(publishing.status_channel(row.id), {"postId": str(row.id), "status": "deleted"})
        await uow.commit()
    return PostDeleted(post_id=strawberry.ID(id), deleted_on_meta=on_meta)


@errors_as_data
async def retry_post(info: GraphInfo, id: str) -> PostSuccess:
    services = info.context.services
    async with services.uow() as uow:
        row = await publishing.retry_post(
            uow, info.context.viewer.organization_id, id_of(id, "Post")
        )
        await uow.commit()
    return PostSuccess(post=Post.from_domain(row), created=False)


@errors_as_data
async def refresh_analytics(info: GraphInfo, account_id: str) -> AnalyticsRefreshQueued:
    _, row_id = _account(account_id)
    org = info.context.viewer.organization_id
    async with info.context.services.uow() as uow:
        account = await resolve_account(uow, org, row_id)
        queue_account_sync(uow, org, account)
        await uow.commit()
    return AnalyticsRefreshQueued(account_id=strawberry.ID(account_id))


async def posts(
    info: GraphInfo, filter: PostFilterInput | None, first: int | None, after: str | None
) -> Connection[Post]:
    services = info.context.services
    org = info.context.viewer.organization_id
    criteria = (filter or PostFilterInput()).to_domain()
    size = clamp_first(first)
    async with services.session_factory() as session:
        page = await PostRepository(session, org).connection(criteria, first=size, after=after)

    async def count() -> int:
        async with services.session_factory() as session:
            return await PostRepository(session, org).count(criteria.where())

    return Connection[Post].from_slice(
        page, Post.from_domain, count, has_previous=after is not None
    )


async def post_node(info: GraphInfo, row_id: uuid.UUID) -> Post | None:
    row = await info.context.loaders.post.load(row_id)
    return Post.from_domain(row) if row else None


async def post_comment_node(info: GraphInfo, row_id: uuid.UUID) -> PostComment | None:
    row = await info.context.loaders.post_comment.load(row_id)
    return PostComment.from_domain(row) if row else None


async def account_analytics(
    info: GraphInfo, account_id: str, start_date: date | None, end_date: date | None
) -> AccountAnalytics | None:
    """None when the account is missing or another organization's (like ``node``)."""
    _, row_id = _account(account_id)
    services = info.context.services
    org = info.context.viewer.organization_id
    start, end = post_analytics.date_range(start_date, end_date, services.clock.now().date())
    async with services.uow() as uow:
        try:
            account = await resolve_account(uow, org, row_id)
        except NotFoundError:
            return None
        result = await post_analytics.account_analytics(uow.session, org, account, start, end)
        top = (
            await uow.session.get(models.Post, result.top_post.post_id) if result.top_post else None
        )
    return AccountAnalytics(
        start_date=result.start,
        end_date=result.end,
        total_posts=result.total_posts,
        total_engagement=result.total_engagement,
        average_engagement_rate=result.average_engagement_rate,
        total_reach=result.total_reach,
        total_views=result.total_views,
        total_impressions=None,
        followers=result.followers,
        top_post=Post.from_domain(top) if top else None,
        top_post_engagement_rate=result.top_post.engagement_rate if result.top_post else None,
        engagement_trend=[
            EngagementPoint(date=p.day, engagement=p.engagement) for p in result.trend
        ],
        last_captured_at=result.last_captured_at,
    )


async def post_status(info: GraphInfo, post_id: str) -> AsyncGenerator[Post, None]:
    """The post as it is now, then each step the queue takes (from the bus, so no step is
    skipped), until it is published, has failed for good, or is deleted."""
    services = info.context.services
    org = info.context.viewer.organization_id
    row_id = id_of(post_id, "Post", field="postId")

    async def current() -> Post | None:
        async with services.uow() as uow:
            try:
                return Post.from_domain(await publishing.get_post(uow, org, row_id))
            except NotFoundError:
                return None

    # Subscribed before the read, so no step published in between is missed.
    async with services.bus.subscribe(publishing.status_channel(row_id)) as events:
        last = await current()
        if last is None:
            raise NotFoundError("Post")
        yield last
        iterator = aiter(events)
        while last.status.value not in FINAL:
            try:
                event = await asyncio.wait_for(anext(iterator), RESYNC_SECONDS)
            except TimeoutError:
                # Nothing heard for a while: the database says where the post is.
                now = await current()
                if now is None:
                    return
                if _changed(last, now):
                    last = now
                    yield now
                continue
            if event.get("status") == "deleted":
                return
            step = _step(last, event)
            if step is not None:
                last = step
                yield step


def _changed(before: Post, after: Post) -> bool:
    keys = ("status", "attempts", "error", "meta_post_id", "permalink")
    return any(getattr(before, k) != getattr(after, k) for k in keys)


def _step(last: Post, event: JSONDict) -> Post | None:
    """The post after a queue event; None for a repeat, or an event older than ``last``
    (published between the subscription and the first read)."""
    try:
        status = PostStatus(str(event.get("status")))
    except ValueError:
        return None
    attempts = int(event.get("attempts") or 0)
    if attempts < last.attempts:
        return None
    step = dataclasses.replace(
        last,
        status=status,
        attempts=attempts,
        error=event.get("error"),
        meta_post_id=event.get("metaPostId"),
        permalink=event.get("permalink"),
    )
    return step if _changed(last, step) else None
