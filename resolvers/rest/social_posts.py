"""spec/social-service-architecture.md family: social posts (created, listed, deleted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from domain.errors import InvalidInputError
from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid
from domain.models import InstagramAccount, Page, Post, PostStatus
from domain.services.publishing import MediaItem, PostRequest, create_post, delete_post, get_post
from resolvers.rest.common import iso, meta_details, translating_meta_errors, uuid_value
from resolvers.rest.families import SOCIAL, RestError
from resolvers.rest.routing import Endpoint, Handler, RestContext

Json = dict[str, Any]
_PLATFORMS = ("instagram", "facebook")
_LISTED_STATUSES = [s.value for s in PostStatus]


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
    urls = ([url] if url else []) + list(extra)
    return [MediaItem(u, kind, thumb if kind == "video" else None) for u in urls]


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
    offset = _int(query.get("offset"), "offset", 0, 0, None)
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
    return {"posts": [_listed(p, page, ig) for p, page, ig in rows], "total": total}


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


def _common(post: Post) -> Json:
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
        # Counts come from insights snapshots; none taken yet is unknown, not zero.
        "likes_count": None,
        "comments_count": None,
        "shares_count": None,
        "reach": None,
        "engagement_rate": None,
    }


def _listed(post: Post, page: Page | None, ig: InstagramAccount | None) -> Json:
    account: Json
    if ig is not None:
        account = {"id": str(ig.id), "platform": "instagram", "username": ig.username}
    else:
        account = {"id": str(page.id) if page else None, "platform": "facebook"}
        account["username"] = page.name if page else None
    return {**_common(post), "social_account": account}


async def get_one(ctx: RestContext) -> Json:
    post_id = uuid_value(ctx.request.path_params["postId"], "postId")
    async with ctx.services.uow() as uow:
        post = await get_post(uow, ctx.viewer.organization_id, post_id)
    return {
        **_common(post),
        "created_at": iso(post.created_at),
        "platform_post_id": post.meta_post_id,
        "impressions": None,  # Meta no longer serves impressions (facts §0.2)
        "last_analytics_sync": None,
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
        await uow.commit()
    return {"success": True, "deleted_on_meta": on_meta}


def _endpoint(method: str, path: str, handler: Handler, summary: str) -> Endpoint:
    return Endpoint(SOCIAL, method, path, _translated(handler), summary)


def _translated(handler: Handler) -> Handler:
    return translating_meta_errors(handler, social_meta_failure)


ENDPOINTS: list[Endpoint] = [
    _endpoint("POST", "/api/social/posts", create, "Create a post: published through the queue"),
    _endpoint("GET", "/api/social/posts", list_posts, "The organization's posts, newest first"),
    _endpoint("GET", "/api/social/posts/{postId}", get_one, "One post with its status"),
    _endpoint(
        "DELETE", "/api/social/posts/{postId}", delete, "Delete a post (on Meta too if published)"
    ),
]
