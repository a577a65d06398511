"""Posts, photos, videos and comments on a Page: reading, publishing (now, unpublished or
scheduled), deleting, commenting and hiding, and the ``feed`` webhooks they cause."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from graph_client.sandbox import auth, events
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.core import Core
from graph_client.sandbox.errors import MetaError, invalid_parameter, unsupported_request
from graph_client.sandbox.graph import KINDS, Kind, route
from graph_client.sandbox.models import Comment, Page, Photo, Post, Video
from graph_client.sandbox.render import (
    Edge,
    Field,
    NodeType,
    Params,
    key_field,
    plain,
    register,
    time_field,
)
from graph_client.sandbox.routes.pages import PAGE_NODE, require_page_token
from graph_client.sandbox.timeparse import parse_time


def _number(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:4], "big")


def _edge_path(name: str) -> Any:
    return lambda obj: f"{obj.id}/{name}"


def _published_posts(ctx: Ctx, page: Page, params: Params) -> list[Post]:
    posts = [p for p in page.posts if p.is_published]
    return sorted(posts, key=lambda p: p.created_time, reverse=True)


def _scheduled_posts(ctx: Ctx, page: Page, params: Params) -> list[Post]:
    posts = [p for p in page.posts if not p.is_published and p.scheduled_publish_time]
    return sorted(posts, key=lambda p: p.scheduled_publish_time or 0)


def _photos(ctx: Ctx, page: Page, params: Params) -> list[Photo]:
    return sorted(page.photos, key=lambda p: p.created_time, reverse=True)


def _videos(ctx: Ctx, page: Page, params: Params) -> list[Video]:
    return sorted(page.videos, key=lambda v: v.created_time, reverse=True)


PAGE_NODE.edges.update(
    {
        "feed": Edge(_published_posts, "Post", path=_edge_path("feed")),
        "posts": Edge(_published_posts, "Post", path=_edge_path("posts")),
        "published_posts": Edge(_published_posts, "Post", path=_edge_path("published_posts")),
        "scheduled_posts": Edge(_scheduled_posts, "Post", path=_edge_path("scheduled_posts")),
        "photos": Edge(_photos, "Photo", path=_edge_path("photos")),
        "videos": Edge(_videos, "Video", path=_edge_path("videos")),
    }
)


def _post_page(ctx: Ctx, post: Post) -> Page | None:
    return ctx.store.page(post.page_id)


def _permalink(post: Post) -> str:
    page_id, _, number = post.id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{number}"


def _post_from(ctx: Ctx, post: Post, spec: Any) -> dict[str, str] | None:
    page = _post_page(ctx, post)
    return {"name": page.name, "id": page.id} if page else None


def _attachments(ctx: Ctx, post: Post, spec: Any) -> dict[str, Any] | None:
    if not post.full_picture:
        return None
    media = {"image": {"height": 720, "src": post.full_picture, "width": 720}}
    return {"data": [{"media": media, "type": "photo", "url": _permalink(post)}]}


def _reactors(ctx: Ctx, post: Post, params: Params) -> list[dict[str, str]]:
    people = []
    for reaction, count in sorted(post.reactions.items()):
        for i in range(count):
            number = 10**15 + _number(post.id, reaction, i)
            people.append({"id": str(number), "name": f"Fan {i + 1}", "type": reaction.upper()})
    return people


def _reaction_summary(ctx: Ctx, post: Post, items: Sequence[Any], params: Params) -> dict[str, Any]:
    return {"total_count": len(items), "viewer_reaction": "NONE"}


def _top_comments(ctx: Ctx, post: Post, params: Params) -> list[Comment]:
    if params.get("filter") == "stream":
        flat = []
        for comment in post.comments:
            flat.append(comment)
            flat.extend(comment.replies)
        return flat
    return list(post.comments)


def _comment_summary(ctx: Ctx, obj: Any, items: Sequence[Any], params: Params) -> dict[str, Any]:
    return {"order": "ranked", "total_count": len(items), "can_comment": True}


register(
    NodeType(
        "Post",
        {
            "id": plain("id"),
            "message": plain("message"),
            "created_time": time_field("created_time"),
            "updated_time": Field(lambda c, p, s: c.time(p.updated_time or p.created_time)),
            "permalink_url": Field(lambda c, p, s: _permalink(p)),
            "full_picture": plain("full_picture"),
            "is_published": plain("is_published"),
            "is_hidden": Field(lambda c, p, s: False),
            "status_type": plain("status_type"),
            "scheduled_publish_time": Field(
                lambda c, p, s: int(p.scheduled_publish_time) if p.scheduled_publish_time else None
            ),
            "from": Field(_post_from),
            "shares": Field(lambda c, p, s: {"count": p.shares} if p.shares else None),
            "attachments": Field(_attachments),
            "link": plain("link"),
        },
        edges={
            "reactions": Edge(_reactors, "Reaction", summary=_reaction_summary),
            "likes": Edge(
                lambda c, p, params: [r for r in _reactors(c, p, params) if r["type"] == "LIKE"],
                "Reaction",
                summary=_reaction_summary,
            ),
            "comments": Edge(
                _top_comments, "Comment", summary=_comment_summary, path=_edge_path("comments")
            ),
        },
        default_fields=("created_time", "message", "id"),
    )
)
register(
    NodeType(
        "Reaction",
        {k: key_field(k) for k in ("id", "name", "type")},
        default_fields=("id", "name", "type"),
    )
)


def _post_visible(ctx: Ctx, post: Post) -> bool:
    return ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, post.page_id)


KINDS[Post] = Kind("Post", _post_visible, lambda ctx, post: (post.page_id, "pages"))


def comment_page_id(comment: Comment) -> str:
    return comment.post_id.split("_", 1)[0]


register(
    NodeType(
        "Comment",
        {
            "id": plain("id"),
            "message": plain("message"),
            "from": Field(lambda c, o, s: {"name": o.from_name, "id": o.from_id}),
            "created_time": time_field("created_time"),
            "like_count": plain("like_count"),
            "comment_count": Field(lambda c, o, s: len(o.replies)),
            "can_hide": plain("can_hide"),
            "is_hidden": plain("is_hidden"),
            "can_remove": Field(lambda c, o, s: True),
            "parent": Field(lambda c, o, s: {"id": o.parent_id} if o.parent_id else None),
            "permalink_url": Field(
                lambda c, o, s: f"https://www.facebook.com/{o.post_id}?comment_id={o.id}"
            ),
        },
        edges={
            "comments": Edge(
                lambda c, o, p: list(o.replies),
                "Comment",
                summary=_comment_summary,
                path=_edge_path("comments"),
            )
        },
        default_fields=("created_time", "from", "message", "id"),
    )
)
KINDS[Comment] = Kind(
    "Comment",
    lambda ctx, c: (
        ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, comment_page_id(c))
    ),
    lambda ctx, c: (comment_page_id(c), "pages"),
)

register(
    NodeType(
        "Photo",
        {
            "id": plain("id"),
            "name": plain("caption"),
            "created_time": time_field("created_time"),
            "link": Field(lambda c, o, s: f"https://www.facebook.com/photo.php?fbid={o.id}"),
            "images": Field(lambda c, o, s: [{"height": 720, "source": o.url, "width": 720}]),
            "picture": plain("url"),
            "page_story_id": plain("post_id"),
        },
        default_fields=("created_time", "name", "id"),
    )
)
KINDS[Photo] = Kind(
    "Photo",
    lambda ctx, o: ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, o.page_id),
    lambda ctx, o: (o.page_id, "pages"),
)
register(
    NodeType(
        "Video",
        {
            "id": plain("id"),
            "title": plain("title"),
            "description": plain("description"),
            "created_time": time_field("created_time"),
            "updated_time": time_field("created_time"),
            "source": plain("file_url"),
            "published": plain("published"),
            "permalink_url": Field(lambda c, o, s: f"/{o.page_id}/videos/{o.id}/"),
        },
        default_fields=("description", "updated_time", "id"),
    )
)
KINDS[Video] = Kind(
    "Video",
    lambda ctx, o: ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, o.page_id),
    lambda ctx, o: (o.page_id, "pages"),
)


# --- publishing -------------------------------------------------------------------------------


def _new_post(ctx: Ctx, page: Page, **values: Any) -> Post:
    number = ctx.store.ids.fresh_numeric("post", digits=17)
    post = Post(id=f"{page.id}_{number}", page_id=page.id, created_time=ctx.now, **values)
    page.posts.append(post)
    ctx.store.add(post.id, post)
    return post


def feed_event(core: Core, page: Page, value: dict[str, Any]) -> dict[str, Any]:
    payload = events.feed_change(page.id, core.now(), value)
    subscribed = page.subscribed_apps.get(core.store.app.id)
    return core.deliver(payload, obj="page", field="feed", subscribed=subscribed)


def post_feed_value(page: Page, post: Post, item: str, verb: str = "add") -> dict[str, Any]:
    value: dict[str, Any] = {
        "from": {"id": page.id, "name": page.name},
        "item": item,
        "post_id": post.id,
        "verb": verb,
        "published": 1 if post.is_published else 0,
        "created_time": int(post.created_time),
    }
    if post.message is not None:
        value["message"] = post.message
    if item == "photo" and post.full_picture:
        value["link"] = post.full_picture
    return value


def _schedule(ctx: Ctx) -> float | None:
    raw = ctx.param("scheduled_publish_time")
    if not raw:
        return None
    when = parse_time(raw, "scheduled_publish_time")
    if not 600 <= when - ctx.now <= 30 * 86400:
        raise invalid_parameter("The specified scheduled publish time is invalid.")
    if ctx.bool_param("published", True):
        raise invalid_parameter(
            "Cannot specify a scheduled publish time on a published post; pass published=false"
        )
    return when


@route(Page, "feed", "POST")
def create_post(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    message = ctx.param("message")
    link = ctx.param("link")
    media = ctx.json_param("attached_media")
    media_list = _attached_media(ctx, media)
    if not (message or link or media_list):
        raise invalid_parameter("Missing message or attachment")
    scheduled = _schedule(ctx)
    photos = [ctx.store.get(pid) for pid in media_list]
    for index, photo in enumerate(photos):
        if not isinstance(photo, Photo) or photo.page_id != page.id or photo.post_id:
            raise invalid_parameter(
                f"param attached_media[{index}] must be an unpublished photo of this Page"
            )
    post = _new_post(
        ctx,
        page,
        message=message,
        link=link,
        is_published=ctx.bool_param("published", True) and scheduled is None,
        scheduled_publish_time=scheduled,
        status_type="added_photos" if photos else "mobile_status_update",
        full_picture=photos[0].url if photos else None,
        photo_ids=list(media_list),
        created_by_app=True,
    )
    for photo in photos:
        photo.post_id = post.id
    if scheduled is not None:
        ctx.store.timers[post.id] = scheduled
    if post.is_published:
        feed_event(ctx.core, page, post_feed_value(page, post, "status"))
    return {"id": post.id, "post_supports_client_mutation_id": True}


def _attached_media(ctx: Ctx, media: Any) -> list[str]:
    items: list[Any] = []
    if isinstance(media, list):
        items = media
    elif isinstance(media, dict):
        items = [media]
    indexed = sorted(k for k in ctx.params if k.startswith("attached_media["))
    for key in indexed:
        items.append(ctx.json_param(key))
    ids = []
    for item in items:
        if isinstance(item, dict) and item.get("media_fbid"):
            ids.append(str(item["media_fbid"]))
        else:
            raise invalid_parameter('attached_media items must look like {"media_fbid": "<id>"}')
    return ids


@route(Page, "photos", "POST")
def create_photo(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    url = ctx.param("url")
    if not url:
        raise invalid_parameter("Requires one of the params: url, source (multipart)")
    caption = ctx.param("caption") or ctx.param("message")
    published = ctx.bool_param("published", True)
    photo = Photo(
        id=ctx.store.ids.fresh_numeric("photo", digits=18),
        page_id=page.id,
        url=url,
        created_time=ctx.now,
        caption=caption,
        published=published,
    )
    page.photos.append(photo)
    ctx.store.add(photo.id, photo)
    if not published:
        return {"id": photo.id}
    post = _new_post(
        ctx,
        page,
        message=caption,
        status_type="added_photos",
        full_picture=url,
        photo_ids=[photo.id],
        created_by_app=True,
    )
    photo.post_id = post.id
    feed_event(ctx.core, page, post_feed_value(page, post, "photo"))
    return {"id": photo.id, "post_id": post.id}


@route(Page, "videos", "POST")
def create_video(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    file_url = ctx.param("file_url")
    if not file_url:
        raise invalid_parameter("Requires one of the params: file_url, source, upload_session_id")
    published = ctx.bool_param("published", True)
    video = Video(
        id=ctx.store.ids.fresh_numeric("video", digits=16),
        page_id=page.id,
        file_url=file_url,
        created_time=ctx.now,
        title=ctx.param("title"),
        description=ctx.param("description"),
        published=published,
    )
    page.videos.append(video)
    ctx.store.add(video.id, video)
    if published:
        post = _new_post(
            ctx,
            page,
            message=video.description,
            status_type="added_video",
            created_by_app=True,
        )
        video.post_id = post.id
        # Meta's feed change for a video names the video as well as its post.
        value = {**post_feed_value(page, post, "video"), "video_id": video.id}
        feed_event(ctx.core, page, value)
    return {"id": video.id}


@route(Post, None, "POST")
def update_post(ctx: Ctx, post: Post) -> dict[str, Any]:
    page = _post_page(ctx, post)
    assert page is not None
    require_page_token(ctx, page)
    wanted = "is_published" in ctx.params and ctx.bool_param("is_published", False)
    if wanted and not post.is_published:  # publishing twice is fine (idempotent on Meta)
        publish(ctx.core, page, post)
    if "message" in ctx.params:
        if not post.created_by_app:
            raise MetaError("(#200) This post wasn't created by the application", 200, status=403)
        post.message = ctx.param("message")
        post.updated_time = ctx.now
        feed_event(ctx.core, page, post_feed_value(page, post, "status", "edited"))
    return {"success": True}


@route(Post, None, "DELETE")
def delete_post(ctx: Ctx, post: Post) -> dict[str, Any]:
    page = _post_page(ctx, post)
    assert page is not None
    require_page_token(ctx, page)
    page.posts.remove(post)
    del ctx.store.objects[post.id]
    ctx.store.timers.pop(post.id, None)
    feed_event(ctx.core, page, post_feed_value(page, post, "status", "remove"))
    return {"success": True}


@route(Photo, None, "DELETE")
def delete_photo(ctx: Ctx, photo: Photo) -> dict[str, Any]:
    page = ctx.store.page(photo.page_id)
    assert page is not None
    require_page_token(ctx, page)
    # A photo that is part of a post cannot be deleted on its own (facts §5).
    if photo.post_id and photo.post_id in ctx.store.objects:
        raise unsupported_request("DELETE", photo.id)
    page.photos.remove(photo)
    del ctx.store.objects[photo.id]
    return {"success": True}


@route(Video, None, "DELETE")
def delete_video(ctx: Ctx, video: Video) -> dict[str, Any]:
    """Deleting a Page video removes the post it made as well."""
    page = ctx.store.page(video.page_id)
    assert page is not None
    require_page_token(ctx, page)
    post = ctx.store.get(video.post_id) if video.post_id else None
    if isinstance(post, Post):
        delete_post(ctx, post)
    page.videos.remove(video)
    del ctx.store.objects[video.id]
    return {"success": True}


# --- comments -----------------------------------------------------------------------------------


def add_comment(
    core: Core, post: Post, message: str, from_id: str, from_name: str, parent: Comment | None
) -> Comment:
    """A comment on ``post`` (a reply when ``parent`` is given) by the Page or a visitor."""
    number = core.store.ids.fresh_numeric("comment", digits=16)
    post_number = post.id.split("_", 1)[1]
    comment = Comment(
        id=f"{post_number}_{number}",
        post_id=post.id,
        message=message,
        from_id=from_id,
        from_name=from_name,
        created_time=core.now(),
        parent_id=parent.id if parent else None,
        can_hide=from_id != post.page_id,
    )
    (parent.replies if parent else post.comments).append(comment)
    core.store.add(comment.id, comment)
    return comment


@route(Post, "comments", "POST")
def comment_on_post(ctx: Ctx, post: Post) -> dict[str, Any]:
    page = _post_page(ctx, post)
    assert page is not None
    require_page_token(ctx, page)
    comment = add_comment(ctx.core, post, ctx.require("message"), page.id, page.name, None)
    return {"id": comment.id}


@route(Comment, "comments", "POST")
def reply_to_comment(ctx: Ctx, parent: Comment) -> dict[str, Any]:
    post = ctx.store.get(parent.post_id)
    page = ctx.store.page(comment_page_id(parent))
    assert isinstance(post, Post)
    assert page is not None
    require_page_token(ctx, page)
    comment = add_comment(ctx.core, post, ctx.require("message"), page.id, page.name, parent)
    return {"id": comment.id}


@route(Comment, None, "POST")
def update_comment(ctx: Ctx, comment: Comment) -> dict[str, Any]:
    page = ctx.store.page(comment_page_id(comment))
    assert page is not None
    require_page_token(ctx, page)
    if "is_hidden" in ctx.params:
        if not comment.can_hide:
            # The Page's own comments cannot be hidden [REAL probe].
            raise MetaError("(#200) Can not hide or unhide this comment", 200, status=403)
        comment.is_hidden = ctx.bool_param("is_hidden", False)
    if "message" in ctx.params:
        if comment.from_id != page.id:
            raise MetaError("(#200) Permissions error", 200, status=403)
        comment.message = ctx.require("message")
    return {"success": True}


@route(Comment, None, "DELETE")
def delete_comment(ctx: Ctx, comment: Comment) -> dict[str, Any]:
    page = ctx.store.page(comment_page_id(comment))
    post = ctx.store.get(comment.post_id)
    assert page is not None
    assert isinstance(post, Post)
    require_page_token(ctx, page)
    siblings = post.comments
    if comment.parent_id:
        parent = ctx.store.get(comment.parent_id)
        siblings = parent.replies if isinstance(parent, Comment) else []
    if comment in siblings:
        siblings.remove(comment)
    ctx.store.objects.pop(comment.id, None)
    return {"success": True}


# --- scheduled posts ----------------------------------------------------------------------------


def publish(core: Core, page: Page, post: Post) -> None:
    """Publish a scheduled or unpublished post now (and tell the feed subscribers)."""
    core.store.timers.pop(post.id, None)
    post.is_published = True
    post.created_time = core.now()
    post.scheduled_publish_time = None
    feed_event(core, page, post_feed_value(page, post, "status"))


def on_timer(core: Core, obj: Any) -> None:
    """A scheduled post's time has come."""
    if isinstance(obj, Post) and not obj.is_published:
        page = core.store.page(obj.page_id)
        if page is not None:
            publish(core, page, obj)
