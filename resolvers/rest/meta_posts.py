"""spec/meta-business-api.md family: Page posts (read and created) and Instagram media."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from domain.errors import InvalidInputError, NotFoundError
from domain.meta import MetaOutcomeUnknown, MetaPost
from domain.models import InstagramAccount, Page, Post, PostStatus
from domain.services.publishing import PUBLISH_ACTOR, check_schedule
from domain.tokens import unseal
from resolvers.rest.common import iso, meta_id_value, translating_meta_errors
from resolvers.rest.families import META_BUSINESS, RestError
from resolvers.rest.meta_business import meta_failure
from resolvers.rest.routing import Endpoint, Handler, RestContext
from resolvers.rest.social_posts import _instant, _int, _text

Json = dict[str, Any]


async def _page(ctx: RestContext, raw: object, name: str) -> tuple[Page, str]:
    """A stored Page by its row id or its Meta id, with its token."""
    org_id = ctx.viewer.organization_id
    async with ctx.services.session_factory() as session:
        stmt = select(Page).where(Page.organization_id == org_id, Page.deleted_at.is_(None))
        if isinstance(raw, str) and "-" in raw:
            try:
                stmt = stmt.where(Page.id == uuid.UUID(raw))
            except ValueError:
                raise InvalidInputError(name, "is not a valid id") from None
        else:
            stmt = stmt.where(Page.meta_page_id == meta_id_value(raw, name))
        page = (await session.execute(stmt)).scalar_one_or_none()
    token = unseal(ctx.services.vault, page) if page else None
    if page is None or token is None:
        raise NotFoundError("Page")
    return page, token


def _post(item: MetaPost) -> Json:
    return {
        "id": item.meta_id,
        "message": item.message,
        "createdTime": iso(item.created_time),
        "type": item.type,
        "permalinkUrl": item.permalink,
        "picture": item.media_url,
        "likes": item.likes or 0,
        "comments": item.comments or 0,
        "shares": item.shares or 0,
    }


def _media(item: MetaPost) -> Json:
    return {
        "id": item.meta_id,
        "mediaType": item.type,
        "mediaUrl": item.media_url,
        "permalink": item.permalink,
        "caption": item.message,
        "timestamp": iso(item.created_time),
        "likes": item.likes or 0,
        "comments": item.comments or 0,
        "mediaProductType": item.product_type,
        "thumbnailUrl": item.thumbnail_url,
    }


def _window_args(ctx: RestContext) -> tuple[int, str | None, str | None]:
    query = ctx.request.query_params
    limit = _int(query.get("limit"), "limit", 25, 1, 100)
    return limit, query.get("before") or None, query.get("after") or None


async def facebook_posts(ctx: RestContext) -> Json:
    page, token = await _page(ctx, ctx.request.query_params.get("pageId"), "pageId")
    limit, before, after = _window_args(ctx)
    window = await ctx.services.meta.page_posts(
        page.meta_page_id, token, limit=limit, before=before, after=after
    )
    return {
        "success": True,
        "data": {
            "posts": [_post(p) for p in window.items],
            "pagination": {"before": window.before, "after": window.after},
        },
    }


async def facebook_create_post(ctx: RestContext) -> Json:
    body = await ctx.json_body()
    page, token = await _page(ctx, body.get("pageId"), "pageId")
    message, link = _text(body, "message"), _text(body, "link")
    if not (message or link):
        raise InvalidInputError("message", "a post needs a message or a link")
    published = body.get("published", True)
    if not isinstance(published, bool):
        raise InvalidInputError("published", "must be a boolean")
    services = ctx.services
    now = services.clock.now()
    scheduled = _instant(body, "scheduledPublishTime")
    check_schedule(scheduled, now, "scheduledPublishTime")
    # Recorded before Meta is called: an unanswered call is then reconciled, never resent.
    post = Post(
        id=uuid.uuid4(),
        organization_id=page.organization_id,
        page_id=page.id,
        platform="facebook",
        type="link" if link else "text",
        status=PostStatus.PROCESSING.value,
        message=message,
        link=link,
        scheduled_at=scheduled,
        idempotency_key=ctx.request.headers.get("idempotency-key") or str(uuid.uuid4()),
        attempts=1,
    )
    async with services.uow() as uow:
        uow.session.add(post)
        await uow.commit()
    try:
        meta_id = await services.meta.create_feed_post(
            page.meta_page_id,
            token,
            message=message,
            link=link,
            published=published,
            scheduled_at=scheduled,
        )
    except MetaOutcomeUnknown as exc:
        await _settle(ctx, post.id, PostStatus.UNCONFIRMED, enqueue=True)
        raise RestError(
            502,
            "Meta did not confirm the post; metasync is checking Meta and will not post twice",
            code="META_OUTCOME_UNKNOWN",
            details={"postId": str(post.id)},
        ) from exc
    except Exception:
        await _settle(ctx, post.id, PostStatus.FAILED)
        raise
    permalink = None
    try:
        permalink = (await services.meta.page_post(meta_id, token)).permalink
    except Exception:
        permalink = None
    status = PostStatus.PUBLISHED if published and not scheduled else PostStatus.SCHEDULED
    # A post Meta schedules (or keeps unpublished) is Meta's to publish, not the queue's.
    await _settle(ctx, post.id, status, meta_id=meta_id, permalink=permalink)
    return {
        "success": True,
        "data": {"id": meta_id, "permalinkUrl": permalink, "postId": str(post.id)},
    }


async def _settle(
    ctx: RestContext,
    post_id: uuid.UUID,
    status: PostStatus,
    *,
    enqueue: bool = False,
    meta_id: str | None = None,
    permalink: str | None = None,
) -> None:
    async with ctx.services.uow() as uow:
        post = await uow.session.get(Post, post_id)
        assert post is not None
        post.status = status.value
        post.meta_post_id, post.permalink = meta_id, permalink
        if status == PostStatus.PUBLISHED:
            post.published_at = ctx.services.clock.now()
        if enqueue:
            uow.enqueue(PUBLISH_ACTOR, post_id=str(post_id))
        await uow.commit()


async def instagram_media(ctx: RestContext) -> Json:
    raw = ctx.request.query_params.get("accountId")
    org_id = ctx.viewer.organization_id
    async with ctx.services.session_factory() as session:
        stmt = select(InstagramAccount).where(
            InstagramAccount.organization_id == org_id, InstagramAccount.deleted_at.is_(None)
        )
        if raw and "-" in raw:
            try:
                stmt = stmt.where(InstagramAccount.id == uuid.UUID(raw))
            except ValueError:
                raise InvalidInputError("accountId", "is not a valid id") from None
        else:
            stmt = stmt.where(InstagramAccount.meta_ig_id == meta_id_value(raw, "accountId"))
        ig = (await session.execute(stmt)).scalar_one_or_none()
        page = await session.get(Page, ig.page_id) if ig and ig.page_id else None
    token = unseal(ctx.services.vault, page) if page else None
    if ig is None or token is None:
        raise NotFoundError("Instagram account")
    limit, before, after = _window_args(ctx)
    window = await ctx.services.meta.ig_media(
        ig.meta_ig_id, token, limit=limit, before=before, after=after
    )
    return {
        "success": True,
        "data": {
            "media": [_media(m) for m in window.items],
            "pagination": {"before": window.before, "after": window.after},
        },
    }


def _endpoint(method: str, path: str, handler: Handler, summary: str) -> Endpoint:
    return Endpoint(
        META_BUSINESS,
        method,
        path,
        translating_meta_errors(handler, meta_failure),
        summary,
        query_params={"limit": {"type": "integer"}, "before": {"type": "string"}}
        if method == "GET"
        else {},
    )


ENDPOINTS: list[Endpoint] = [
    _endpoint("GET", "/api/meta/facebook/posts", facebook_posts, "A Page's posts from Meta"),
    _endpoint("POST", "/api/meta/facebook/posts", facebook_create_post, "Post to a Page"),
    _endpoint("GET", "/api/meta/instagram/media", instagram_media, "An account's media"),
]
