"""spec/social-service-architecture.md family: social posts (created, listed, deleted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from domain.errors import InvalidInputError
from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid
from domain.models import InstagramAccount, Page, Post, PostStatus
from domain.services.post_analytics import PostMetrics, post_metrics
from domain.services.publishing import (
    INSTAGRAM_KEEPS_MEDIA,
    MediaItem,
    PostRequest,
    create_post,
    delete_post,
    get_post,
)
from resolvers.rest.common import (
    BOOLEAN,
    DATE_TIME,
    NULLABLE_DATE_TIME,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array_of,
    iso,
    meta_details,
    object_schema,
    translating_meta_errors,
    uuid_value,
)
from resolvers.rest.families import SOCIAL, RestError
from resolvers.rest.routing import Endpoint, Handler, RestContext

Json = dict[str, Any]
_PLATFORMS = ("instagram", "facebook")
_LISTED_STATUSES = [s.value for s in PostStatus]
MAX_OFFSET = 1_000_000


def social_meta_failure(exc: MetaError) -> RestError:
    """The spec's API-level error table, with Meta's code beside it."""
    details = meta_details(exc)
    if isinstance(exc, MetaTokenInvalid):
        message = "Your social media account needs to be reconnected"
        return RestError(
            401, message, code="token_expired", details={**details, "action": "reconnect"}
        )
    if isinstance(exc, MetaRateLimited):
        wait = f"{int(exc.retry_after)}s" if exc.retry_after else "1h"
        message = "Too many posts. Please try again later."
        return RestError(429, message, code="rate_limit", details={**details, "retryAfter": wait})
    return RestError(502, f"Meta API error: {exc.message}", details=details)


def _choice(body: Json, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise InvalidInputError(name, f"must be one of {' | '.join(allowed)}")
    return str(value)


def _text(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInputError(name, "must be a string")
    return value.strip() or None if value else None


def _instant(body: Json, name: str) -> datetime | None:
    raw = _text(body, name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(name, "must be an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise InvalidInputError(name, "must include a time zone (e.g. Z)")
    return value


def _media(body: Json) -> list[MediaItem]:
    url = _text(body, "contentUrl")
    extra = body.get("mediaUrls") or []  # additive: several images (a carousel)
    if not isinstance(extra, list) or not all(isinstance(u, str) for u in extra):
        raise InvalidInputError("mediaUrls", "must be a list of URLs")
    if url is None and not extra:
        return []
    kind = _choice(body, "contentType", ("image", "video"))
    thumb = _text(body, "thumbnailUrl")
    named = ([(url, "contentUrl")] if url else []) + [
        (u, f"mediaUrls[{i}]") for i, u in enumerate(extra)
    ]
    return [MediaItem(u, kind, thumb if kind == "video" else None, name) for u, name in named]


async def create(ctx: RestContext) -> Json:
    body = await ctx.json_body()
    req = PostRequest(
        account_id=uuid_value(body.get("socialAccountId"), "socialAccountId"),
        platform=_choice(body, "platform", _PLATFORMS),
        kind=_choice(body, "postType", ("feed", "reel", "story"), "feed"),
        message=_text(body, "caption"),
        link=_text(body, "link"),
        media=_media(body),
        scheduled_at=_instant(body, "scheduledFor"),
        idempotency_key=ctx.request.headers.get("idempotency-key") or _text(body, "idempotencyKey"),
    )
    services = ctx.services
    async with services.uow() as uow:
        post, _ = await create_post(uow, ctx.viewer.organization_id, req, services.clock.now())
        await uow.commit()
    messages = {
        PostStatus.SCHEDULED.value: "Post is scheduled",
        PostStatus.QUEUED.value: "Post is queued for publishing",
    }
    # The spec answers "processing" or "queued"; a scheduled post waits in the queue.
    status = PostStatus.QUEUED.value if post.status == "scheduled" else post.status
    return {
        "postId": str(post.id),
        "status": status,
        "message": messages.get(post.status, f"Post is {post.status}"),
        "scheduledFor": iso(post.scheduled_at),
        "postStatus": post.status,
    }


async def list_posts(ctx: RestContext) -> Json:
    query = ctx.request.query_params
    where = [Post.organization_id == ctx.viewer.organization_id, Post.deleted_at.is_(None)]
    if status := query.get("status"):
        where.append(Post.status == _choice({"status": status}, "status", tuple(_LISTED_STATUSES)))
    if platform := query.get("platform"):
        where.append(Post.platform == _choice({"platform": platform}, "platform", _PLATFORMS))
    limit = _int(query.get("limit"), "limit", 50, 1, 100)
    # Bounded: a database's OFFSET is a 64-bit integer, and no list is this long.
    offset = _int(query.get("offset"), "offset", 0, 0, MAX_OFFSET)
    async with ctx.services.session_factory() as session:
        total = (await session.execute(select(func.count()).where(*where))).scalar_one()
        rows = (
            await session.execute(
                select(Post, Page, InstagramAccount)
                .outerjoin(Page, Page.id == Post.page_id)
                .outerjoin(InstagramAccount, InstagramAccount.id == Post.instagram_account_id)
                .where(*where)
                .order_by(Post.created_at.desc(), Post.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        metrics = await post_metrics(
            session, ctx.viewer.organization_id, [post for post, _, _ in rows]
        )
    listed = [_listed(p, page, ig, metrics.get(p.id)) for p, page, ig in rows]
    return {"posts": listed, "total": total}


def _int(raw: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInputError(name, "must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInputError(name, f"must be {bound}")
    return value


def _post_type(post: Post) -> str:
    return {"reel": "reel", "story": "story"}.get(post.type, "feed")


def _common(post: Post, metrics: PostMetrics | None) -> Json:
    first = post.media[0] if post.media else {}
    return {
        "id": str(post.id),
        "platform": post.platform,
        "post_type": _post_type(post),
        "caption": post.message,
        "content_url": first.get("url"),
        "thumbnail_url": first.get("thumbnail_url"),
        "status": post.status,
        "published_at": iso(post.published_at),
        "platform_url": post.permalink,
        # From the latest insights snapshot; never read yet is unknown (null), not zero.
        "likes_count": metrics.likes if metrics else None,
        "comments_count": metrics.comments if metrics else None,
        "shares_count": metrics.shares if metrics else None,
        "reach": metrics.reach if metrics else None,
        "engagement_rate": metrics.engagement_rate if metrics else None,
    }


def _listed(
    post: Post, page: Page | None, ig: InstagramAccount | None, metrics: PostMetrics | None
) -> Json:
    account: Json
    if ig is not None:
        account = {"id": str(ig.id), "platform": "instagram", "username": ig.username}
    else:
        account = {"id": str(page.id) if page else None, "platform": "facebook"}
        account["username"] = page.name if page else None
    return {**_common(post, metrics), "social_account": account}


async def get_one(ctx: RestContext) -> Json:
    post_id = uuid_value(ctx.request.path_params["postId"], "postId")
    org_id = ctx.viewer.organization_id
    async with ctx.services.uow() as uow:
        post = await get_post(uow, org_id, post_id)
        metrics = (await post_metrics(uow.session, org_id, [post])).get(post.id)
    return {
        **_common(post, metrics),
        "created_at": iso(post.created_at),
        "platform_post_id": post.meta_post_id,
        "impressions": None,  # Meta no longer serves impressions (facts §0.2)
        "last_analytics_sync": iso(metrics.captured_at) if metrics else None,
        "views": metrics.views if metrics else None,
        "saved": metrics.saved if metrics else None,
        "clicks": metrics.clicks if metrics else None,
        "error_message": post.last_error,
        "scheduled_for": iso(post.scheduled_at),
        "attempts": post.attempts,
    }


async def delete(ctx: RestContext) -> Json:
    post_id = uuid_value(ctx.request.path_params["postId"], "postId")
    services = ctx.services
    async with services.uow() as uow:
        post = await get_post(uow, ctx.viewer.organization_id, post_id)
        on_meta = await delete_post(uow, services.meta, services.vault, post, services.clock.now())
        kept_on_instagram = post.platform == "instagram" and post.status == "published"
        await uow.commit()
    answer: Json = {"success": True, "deleted_on_meta": on_meta}
    if kept_on_instagram:
        answer["meta_note"] = INSTAGRAM_KEEPS_MEDIA
    return answer


def _endpoint(
    method: str, path: str, handler: Handler, summary: str, response: Json, **extra: Any
) -> Endpoint:
    return Endpoint(
        SOCIAL,
        method,
        path,
        translating_meta_errors(handler, social_meta_failure),
        summary,
        response_schema=response,
        **extra,
    )


_INT: Json = {"type": "integer"}
_NULLABLE_INT: Json = {"type": ["integer", "null"]}
_NULLABLE_NUMBER: Json = {"type": ["number", "null"]}
_COMMON: Json = {
    "id": STRING,
    "platform": {"enum": list(_PLATFORMS)},
    "post_type": {"enum": ["feed", "reel", "story"]},
    "caption": NULLABLE_STRING,
    "content_url": NULLABLE_STRING,
    "thumbnail_url": NULLABLE_STRING,
    "status": {"enum": _LISTED_STATUSES},
    "published_at": NULLABLE_DATE_TIME,
    "platform_url": NULLABLE_STRING,
    "likes_count": _NULLABLE_INT,
    "comments_count": _NULLABLE_INT,
    "shares_count": _NULLABLE_INT,
    "reach": _NULLABLE_INT,
    "engagement_rate": _NULLABLE_NUMBER,
}
_LISTED = object_schema(
    {
        **_COMMON,
        "social_account": object_schema(
            {"id": NULLABLE_STRING, "platform": {"enum": list(_PLATFORMS)}},
            {"username": NULLABLE_STRING},
        ),
    }
)
_DETAILS = object_schema(
    {
        **_COMMON,
        "created_at": DATE_TIME,
        "platform_post_id": NULLABLE_STRING,
        "impressions": {"type": "null"},
        "last_analytics_sync": NULLABLE_DATE_TIME,
        "error_message": NULLABLE_STRING,
    },
    {
        "scheduled_for": NULLABLE_DATE_TIME,
        "attempts": _INT,
        "views": _NULLABLE_INT,
        "saved": _NULLABLE_INT,
        "clicks": _NULLABLE_INT,
    },
)
_CREATE_REQUEST: Json = object_schema(
    {"socialAccountId": STRING, "platform": {"enum": list(_PLATFORMS)}},
    {
        "contentType": {"enum": ["image", "video"]},
        "contentUrl": STRING,
        "thumbnailUrl": STRING,
        "mediaUrls": STRINGS,
        "caption": STRING,
        "link": STRING,
        "postType": {"enum": ["feed", "reel", "story"]},
        "scheduledFor": DATE_TIME,
        "idempotencyKey": STRING,
    },
)
_CREATE_REQUEST["example"] = {
    "socialAccountId": "6f1c2a9e-4b7d-4c1e-9a55-2f0e8d3b7c41",
    "platform": "facebook",
    "postType": "feed",
    "caption": "New arrivals this week #plants",
}

_STRING: dict[str, Any] = {"type": "string"}
_INTEGER: dict[str, Any] = {"type": "integer"}
# Declared so /openapi.json shows it and the security suite finds the id it names.
CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["socialAccountId", "platform"],
    "properties": {
        "socialAccountId": {"type": "string", "format": "uuid"},
        "platform": {"type": "string", "enum": list(_PLATFORMS)},
        "contentType": {"type": "string", "enum": ["text", "image", "video"]},
        "contentUrl": _STRING,
        "mediaUrls": {"type": "array", "items": _STRING},
        "thumbnailUrl": _STRING,
        "caption": _STRING,
        "link": _STRING,
        "postType": {"type": "string", "enum": ["feed", "reel", "story"]},
        "scheduledFor": {"type": "string", "format": "date-time"},
        "idempotencyKey": _STRING,
    },
}

ENDPOINTS: list[Endpoint] = [
    _endpoint(
        "POST",
        "/api/social/posts",
        create,
        "Create a post: published through the queue",
        object_schema(
            {"postId": STRING, "status": {"enum": ["processing", "queued"]}, "message": STRING},
            {"scheduledFor": NULLABLE_DATE_TIME, "postStatus": {"enum": _LISTED_STATUSES}},
        ),
        request_schema=_CREATE_REQUEST,
    ),
    _endpoint(
        "GET",
        "/api/social/posts",
        list_posts,
        "The organization's posts, newest first",
        object_schema({"posts": array_of(_LISTED), "total": _INT}),
        query_params={
            "status": {"enum": _LISTED_STATUSES},
            "platform": {"enum": list(_PLATFORMS)},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        },
    ),
    _endpoint("GET", "/api/social/posts/{postId}", get_one, "One post with its status", _DETAILS),
    _endpoint(
        "DELETE",
        "/api/social/posts/{postId}",
        delete,
        "Delete a post (on Meta too if published on Facebook)",
        object_schema(
            {"success": {"const": True}, "deleted_on_meta": BOOLEAN}, {"meta_note": STRING}
        ),
        errors=(429, 502),  # Meta's, when the post is deleted there too
    ),
]
