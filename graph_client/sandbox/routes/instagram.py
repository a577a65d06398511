"""Instagram Graph API (Facebook Login): accounts, media, and content publishing.

Containers are ``IN_PROGRESS`` for ``container_ready_seconds``, then ``FINISHED``; publishing
earlier fails with 9007/2207027 as on Meta, and an unpublished container expires after 24 h.
Sandbox rules for failure paths: an ``image_url`` containing ``too_large`` is refused with
36000/2207004, and a media URL containing ``processing_error`` makes the container end in
``ERROR``.
"""

from __future__ import annotations

from typing import Any

from graph_client.sandbox import auth
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.core import Core
from graph_client.sandbox.errors import MetaError, invalid_parameter, missing_parameter
from graph_client.sandbox.fields import parse_list
from graph_client.sandbox.graph import KINDS, Kind, route, selection
from graph_client.sandbox.models import IGContainer, IGMedia, IGUser
from graph_client.sandbox.render import Edge, Field, NodeType, Params, plain, register, time_field

CONTAINER_TTL = 24 * 3600
QUOTA_DURATION = 86400
_STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: Media was not published within 24 hours.",
    "ERROR": "Error: Media upload has failed with error code 2207026",
}
_MEDIA_TYPES = {"IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"}


def status_code(core: Core, container: IGContainer) -> str:
    if container.published_media_id:
        return "PUBLISHED"
    if container.error_status:
        return "ERROR"
    now = core.now()
    if now - container.created_at >= CONTAINER_TTL:
        return "EXPIRED"
    ready_at = container.created_at + core.config.container_ready_seconds
    if now < ready_at:
        return "IN_PROGRESS"
    for child_id in container.children:
        child = core.store.get(child_id)
        if isinstance(child, IGContainer) and status_code(core, child) != "FINISHED":
            return "IN_PROGRESS"
    return "FINISHED"


def _ig_page_visible(ctx: Ctx, page_id: str) -> bool:
    return ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, page_id)


def _media_sorted(ctx: Ctx, ig: IGUser, params: Params) -> list[IGMedia]:
    return sorted(ig.media, key=lambda m: m.timestamp, reverse=True)


register(
    NodeType(
        "IGUser",
        {
            "id": plain("id"),
            "ig_id": plain("ig_id"),
            "username": plain("username"),
            "name": plain("name"),
            "biography": plain("biography"),
            "website": plain("website"),
            "followers_count": plain("followers_count"),
            "follows_count": plain("follows_count"),
            "media_count": Field(lambda c, o, s: len(o.media)),
            "profile_picture_url": plain("profile_picture_url"),
            "has_profile_pic": Field(lambda c, o, s: o.profile_picture_url is not None),
        },
        edges={"media": Edge(_media_sorted, "IGMedia", path=lambda ig: f"{ig.id}/media")},
        default_fields=("id",),
    )
)
KINDS[IGUser] = Kind(
    "IGUser",
    lambda ctx, ig: _ig_page_visible(ctx, ig.page_id),
    lambda ctx, ig: (ig.id, "instagram"),
)


def _media_owner(ctx: Ctx, media: IGMedia) -> IGUser:
    owner = ctx.store.get(media.ig_user_id)
    assert isinstance(owner, IGUser)
    return owner


register(
    NodeType(
        "IGMedia",
        {
            "id": plain("id"),
            "caption": plain("caption"),
            "media_type": plain("media_type"),
            "media_product_type": plain("media_product_type"),
            "media_url": plain("media_url"),
            "thumbnail_url": plain("thumbnail_url"),
            "permalink": plain("permalink"),
            "shortcode": plain("shortcode"),
            "timestamp": time_field("timestamp"),
            "username": Field(lambda c, m, s: _media_owner(c, m).username),
            "owner": Field(lambda c, m, s: {"id": m.ig_user_id}),
            "like_count": plain("like_count"),
            "comments_count": plain("comments_count"),
            "is_comment_enabled": plain("is_comment_enabled"),
            "alt_text": plain("alt_text"),
            "view_count": Field(lambda c, m, s: None),
        },
        edges={
            "children": Edge(
                lambda c, m, p: [c.store.get(i) for i in m.children if c.store.get(i)], "IGMedia"
            )
        },
        default_fields=("id",),
    )
)
KINDS[IGMedia] = Kind(
    "IGMedia",
    lambda ctx, m: _ig_page_visible(ctx, _media_owner(ctx, m).page_id),
    lambda ctx, m: (m.ig_user_id, "instagram"),
)


def _container_owner(ctx: Ctx, container: IGContainer) -> IGUser:
    owner = ctx.store.get(container.ig_user_id)
    assert isinstance(owner, IGUser)
    return owner


register(
    NodeType(
        "IGContainer",
        {
            "id": plain("id"),
            "status_code": Field(lambda c, o, s: status_code(c.core, o)),
            "status": Field(lambda c, o, s: o.error_status or _STATUS_TEXT[status_code(c.core, o)]),
            "copyright_check_status": Field(
                lambda c, o, s: (
                    {"status": "completed", "matches_found": False} if o.video_url else None
                )
            ),
        },
        default_fields=("id",),
        label="ShadowIGMediaBuilder",
    )
)
KINDS[IGContainer] = Kind(
    "IGContainer",
    lambda ctx, c: _ig_page_visible(ctx, _container_owner(ctx, c).page_id),
    lambda ctx, c: (c.ig_user_id, "instagram"),
)


@route(IGUser, "media", "POST")
def create_container(ctx: Ctx, ig: IGUser) -> dict[str, Any]:
    media_type = (ctx.param("media_type") or "IMAGE").upper()
    if media_type not in _MEDIA_TYPES:
        allowed = ", ".join(sorted(_MEDIA_TYPES))
        raise invalid_parameter(
            f'param media_type must be one of {{{allowed}}} - got "{media_type}"'
        )
    image_url, video_url = ctx.param("image_url"), ctx.param("video_url")
    children: list[str] = []
    if media_type == "IMAGE" and not image_url:
        raise missing_parameter("image_url")
    if media_type in {"VIDEO", "REELS"} and not video_url:
        raise missing_parameter("video_url")
    if media_type == "STORIES" and not (image_url or video_url):
        raise missing_parameter("image_url")
    if media_type == "CAROUSEL":
        raw = ctx.json_param("children")
        children = [str(c) for c in raw] if isinstance(raw, list) else parse_list(str(raw or ""))
        if not 2 <= len(children) <= 10:
            raise MetaError(
                "The carousel size is invalid", 100, subcode=2207028, is_transient=False
            )
        for child_id in children:
            child = ctx.store.get(child_id)
            if not isinstance(child, IGContainer) or child.ig_user_id != ig.id:
                raise invalid_parameter(f"The carousel item {child_id} does not exist")
    if image_url and "too_large" in image_url:
        raise MetaError(
            "The image size is too large.",
            36000,
            subcode=2207004,
            is_transient=False,
            user_title="Image size too large",
            user_msg="The image is too large to download. It should be less than 8 MiB.",
        )
    container = IGContainer(
        id=ctx.store.ids.fresh_numeric("container", digits=17),
        ig_user_id=ig.id,
        media_type=media_type,
        created_at=ctx.now,
        image_url=image_url,
        video_url=video_url,
        cover_url=ctx.param("cover_url"),
        caption=ctx.param("caption"),
        children=children,
        is_carousel_item=ctx.bool_param("is_carousel_item", False),
    )
    if "processing_error" in (image_url or video_url or ""):
        container.error_status = _STATUS_TEXT["ERROR"]
    ctx.store.add(container.id, container)
    return {"id": container.id}


def _published_in_window(ctx: Ctx, ig: IGUser, since: float | None = None) -> int:
    start = max(ctx.now - QUOTA_DURATION, since or 0)
    return sum(1 for t in ig.publish_times if t > start)


@route(IGUser, "media_publish", "POST")
def publish_container(ctx: Ctx, ig: IGUser) -> dict[str, Any]:
    creation_id = ctx.require("creation_id")
    container = ctx.store.get(creation_id)
    if not isinstance(container, IGContainer) or container.ig_user_id != ig.id:
        raise MetaError("The media builder does not exist or has expired", 24, subcode=2207008)
    state = status_code(ctx.core, container)
    if state == "EXPIRED":
        raise MetaError("The media builder does not exist or has expired", 24, subcode=2207008)
    if state != "FINISHED":
        raise MetaError(
            "Media ID is not available", 9007, subcode=2207027, user_title="Cannot Publish"
        )
    if _published_in_window(ctx, ig) >= ctx.core.config.ig_publishing_quota:
        raise MetaError(
            "The maximum number of posts that can be published within 24 hours was reached.",
            9,
            subcode=2207042,
            user_title="Content publishing limit reached",
        )
    media = _media_from(ctx, ig, container)
    container.published_media_id = media.id
    ig.media.append(media)
    ig.publish_times.append(ctx.now)
    ctx.store.add(media.id, media)
    return {"id": media.id}


def _media_from(ctx: Ctx, ig: IGUser, container: IGContainer) -> IGMedia:
    media_id = ctx.store.ids.fresh_numeric("igmedia", digits=17)
    shortcode = "C" + ctx.store.ids.hex_id("shortcode", media_id)[:10]
    kind = container.media_type
    media_type = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO", "VIDEO": "VIDEO"}.get(kind, "")
    if kind == "STORIES":
        media_type = "VIDEO" if container.video_url else "IMAGE"
    media_type = media_type or "IMAGE"
    product = {"REELS": "REELS", "VIDEO": "REELS", "STORIES": "STORY"}.get(kind, "FEED")
    children_media = []
    for child_id in container.children:
        child = ctx.store.get(child_id)
        if isinstance(child, IGContainer):
            child_media = _media_from(ctx, ig, child)
            child.published_media_id = child_media.id
            ctx.store.add(child_media.id, child_media)
            children_media.append(child_media.id)
    path = "reel" if product == "REELS" else "p"
    return IGMedia(
        id=media_id,
        ig_user_id=ig.id,
        media_type=media_type,
        media_product_type=product,
        timestamp=ctx.now,
        caption=container.caption,
        media_url=container.image_url or container.video_url,
        # A video's thumbnail is its cover when one was given (a reel's cover_url).
        thumbnail_url=(container.cover_url or container.image_url) if container.video_url else None,
        permalink=f"https://www.instagram.com/{path}/{shortcode}/",
        shortcode=shortcode,
        children=children_media,
    )


@route(IGUser, "content_publishing_limit", "GET")
def publishing_limit(ctx: Ctx, ig: IGUser) -> dict[str, Any]:
    specs = selection(ctx)
    names = [s.name for s in specs] if specs else ["quota_usage"]
    since_raw = ctx.param("since")
    since = float(since_raw) if since_raw and since_raw.isdigit() else None
    item: dict[str, Any] = {}
    for name in names:
        if name == "quota_usage":
            item["quota_usage"] = _published_in_window(ctx, ig, since)
        elif name == "config":
            item["config"] = {
                "quota_total": ctx.core.config.ig_publishing_quota,
                "quota_duration": QUOTA_DURATION,
            }
        else:
            raise MetaError(
                f"(#100) Tried accessing nonexisting field ({name}) on node type "
                "(ContentPublishingLimitResponse)",
                100,
            )
    return {"data": [item]}
