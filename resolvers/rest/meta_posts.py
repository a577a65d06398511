"""spec/meta-business-api.md family: Page posts (read and created) and Instagram media."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select

from domain.errors import InvalidInputError, NotFoundError
from domain.meta import MetaError, MetaOutcomeUnknown, MetaPost, MetaPostWindow
from domain.models import InstagramAccount, Page, Post, PostStatus
from domain.services.publishing import PUBLISH_ACTOR, check_schedule
from domain.tokens import unseal
from resolvers.rest.common import (
    BOOLEAN,
    DATE_TIME,
    NULLABLE_DATE_TIME,
    NULLABLE_STRING,
    STRING,
    array_of,
    iso,
    meta_id_value,
    object_schema,
    translating_meta_errors,
)
from resolvers.rest.families import META_BUSINESS, RestError
from resolvers.rest.meta_business import META_ERRORS, meta_failure, success_schema
from resolvers.rest.routing import Endpoint, Handler, RestContext
from resolvers.rest.social_posts import _instant, _int, _text

Json = dict[str, Any]
_INVALID_PARAMETER = 100  # Meta's code for a parameter it refuses

_UNSEEN_UNCONFIRMED = (
    "It may exist among the Page's unpublished or scheduled posts; check there before "
    "posting again (metasync does not re-send it)."
)


def _is_web_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


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


async def _window(
    read: Callable[..., Awaitable[MetaPostWindow]], meta_id: str, token: str, ctx: RestContext
) -> MetaPostWindow:
    """One window of posts or media. Cursors are Meta's and opaque: one Meta refuses as an
    invalid parameter (#100) is the caller's bad input, a 400 naming it, not Meta failing."""
    limit, before, after = _window_args(ctx)
    try:
        return await read(meta_id, token, limit=limit, before=before, after=after)
    except MetaError as exc:
        cursor = "before" if before else "after" if after else None
        if cursor is None or exc.meta_code != _INVALID_PARAMETER:
            raise
        raise InvalidInputError(cursor, "is not a cursor Meta gave for this list") from exc


async def facebook_posts(ctx: RestContext) -> Json:
    page, token = await _page(ctx, ctx.request.query_params.get("pageId"), "pageId")
    window = await _window(ctx.services.meta.page_posts, page.meta_page_id, token, ctx)
    return {
        "success": True,
        "data": {
            "posts": [_post(p) for p in window.items],
            "pagination": {"before": window.before, "after": window.after},
        },
    }


def _created(post: Post) -> Json:
    return {
        "success": True,
        "data": {"id": post.meta_post_id, "permalinkUrl": post.permalink, "postId": str(post.id)},
    }


async def _by_key(ctx: RestContext, key: str | None) -> Post | None:
    if not key:
        return None
    async with ctx.services.session_factory() as session:
        stmt = select(Post).where(
            Post.organization_id == ctx.viewer.organization_id, Post.idempotency_key == key
        )
        return (await session.execute(stmt)).scalar_one_or_none()


async def facebook_create_post(ctx: RestContext) -> Json:
    body = await ctx.json_body()
    page, token = await _page(ctx, body.get("pageId"), "pageId")
    message, link = _text(body, "message"), _text(body, "link")
    if not (message or link):
        raise InvalidInputError("message", "a post needs a message or a link")
    if link is not None and not _is_web_url(link):
        raise InvalidInputError("link", "must be an http(s) URL")
    published = body.get("published", True)
    if not isinstance(published, bool):
        raise InvalidInputError("published", "must be a boolean")
    services = ctx.services
    now = services.clock.now()
    scheduled = _instant(body, "scheduledPublishTime")
    check_schedule(scheduled, now, "scheduledPublishTime")
    key = ctx.request.headers.get("idempotency-key")
    earlier = await _by_key(ctx, key)
    if earlier is not None:
        # The same request again: Meta is not called twice; the first answer is repeated.
        if earlier.meta_post_id is None:
            raise RestError(
                409,
                "A post with this Idempotency-Key is still being published or was not confirmed",
                code="POST_IN_PROGRESS",
                details={"postId": str(earlier.id), "status": earlier.status},
            )
        return _created(earlier)
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
        idempotency_key=key or str(uuid.uuid4()),
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
        if published and scheduled is None:
            # The queue reads the Page's feed for it and publishes only if Meta never got it.
            await _settle(ctx, post.id, PostStatus.UNCONFIRMED, enqueue=True)
            message = (
                "Meta did not confirm the post; metasync is checking Meta and will not post twice"
            )
        else:
            # An unpublished or Meta-scheduled post is not on the feed the queue reads, and
            # the queue publishes at once: it is left for a person to check, never re-sent.
            await _settle(ctx, post.id, PostStatus.FAILED, error=_UNSEEN_UNCONFIRMED)
            message = f"Meta did not confirm the post. {_UNSEEN_UNCONFIRMED}"
        raise RestError(
            502, message, code="META_OUTCOME_UNKNOWN", details={"postId": str(post.id)}
        ) from exc
    except Exception:
        await _settle(ctx, post.id, PostStatus.FAILED)
        raise
    permalink = None
    try:
        permalink = (await services.meta.page_post(meta_id, token)).permalink
    except Exception:
        permalink = None
    status = PostStatus.PUBLISHED
    if scheduled is not None:
        status = PostStatus.SCHEDULED
    elif not published:
        status = PostStatus.DRAFT  # an unpublished ("dark") post, published later on Meta
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
    error: str | None = None,
) -> None:
    async with ctx.services.uow() as uow:
        post = await uow.session.get(Post, post_id)
        assert post is not None
        post.status = status.value
        post.meta_post_id, post.permalink = meta_id, permalink
        post.last_error = error
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
    window = await _window(ctx.services.meta.ig_media, ig.meta_ig_id, token, ctx)
    return {
        "success": True,
        "data": {
            "media": [_media(m) for m in window.items],
            "pagination": {"before": window.before, "after": window.after},
        },
    }


def _endpoint(
    method: str, path: str, handler: Handler, summary: str, data: Json, **extra: Any
) -> Endpoint:
    return Endpoint(
        META_BUSINESS,
        method,
        path,
        translating_meta_errors(handler, meta_failure),
        summary,
        response_schema=success_schema(data),
        # A POST repeated with its Idempotency-Key while the first is being checked: 409.
        errors=(*META_ERRORS, 409) if method == "POST" else META_ERRORS,
        **extra,
    )


_INT: Json = {"type": "integer"}
# A Page or Instagram account: its row id (a UUID) or its Meta id (digits).
_ACCOUNT_REF: Json = {"type": ["string", "integer"]}
_WINDOW_QUERY: dict[str, Json] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    "before": STRING,
    "after": STRING,
}
_PAGINATION = object_schema({"before": NULLABLE_STRING, "after": NULLABLE_STRING})
_POST = object_schema(
    {
        "id": STRING,
        "message": NULLABLE_STRING,
        "createdTime": NULLABLE_DATE_TIME,
        "type": NULLABLE_STRING,
        "permalinkUrl": NULLABLE_STRING,
        "picture": NULLABLE_STRING,
        "likes": _INT,
        "comments": _INT,
        "shares": _INT,
    }
)
_MEDIA = object_schema(
    {
        "id": STRING,
        "mediaType": NULLABLE_STRING,
        "mediaUrl": NULLABLE_STRING,
        "permalink": NULLABLE_STRING,
        "caption": NULLABLE_STRING,
        "timestamp": NULLABLE_DATE_TIME,
        "likes": _INT,
        "comments": _INT,
    },
    {"mediaProductType": NULLABLE_STRING, "thumbnailUrl": NULLABLE_STRING},
)

ENDPOINTS: list[Endpoint] = [
    _endpoint(
        "GET",
        "/api/meta/facebook/posts",
        facebook_posts,
        "A Page's posts from Meta",
        object_schema({"posts": array_of(_POST), "pagination": _PAGINATION}),
        query_params={"pageId": STRING, **_WINDOW_QUERY},
        required_query=("pageId",),
    ),
    _endpoint(
        "POST",
        "/api/meta/facebook/posts",
        facebook_create_post,
        "Post to a Page",
        object_schema({"id": STRING, "permalinkUrl": NULLABLE_STRING}, {"postId": STRING}),
        request_schema={
            **object_schema(
                {"pageId": _ACCOUNT_REF},
                {
                    "message": STRING,
                    "link": STRING,
                    "published": BOOLEAN,
                    "scheduledPublishTime": DATE_TIME,
                },
            ),
            "example": {"pageId": "104126602495413", "message": "Open late on Fridays"},
        },
    ),
    _endpoint(
        "GET",
        "/api/meta/instagram/media",
        instagram_media,
        "An account's media",
        object_schema({"media": array_of(_MEDIA), "pagination": _PAGINATION}),
        query_params={"accountId": STRING, **_WINDOW_QUERY},
        required_query=("accountId",),
    ),
]
