"""The publishing half of the MetaGateway: Page posts, Instagram containers and media.

Creating calls are never repeated by the Graph client once they may have reached Meta; such
an outcome surfaces as ``MetaOutcomeUnknown`` so the caller reconciles by reading Meta."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.meta import (
    ContainerState,
    InsightsOf,
    MetaPost,
    MetaPostWindow,
    PublishingQuota,
)
from graph_client import GraphClient
from tasks.meta_errors import translated

FB_POST_FIELDS = (
    "id",
    "message",
    "created_time",
    "permalink_url",
    "full_picture",
    "status_type",
    "reactions.summary(true).limit(0)",
    "comments.summary(true).limit(0)",
    "shares",
)
FB_VIDEO_FIELDS = ("id", "description", "created_time", "permalink_url")
# Meta answers a video's permalink_url as a path on facebook.com ("/{page}/videos/{id}/").
FACEBOOK_WEB = "https://www.facebook.com"
IG_MEDIA_FIELDS = (
    "id",
    "caption",
    "media_type",
    "media_product_type",
    "media_url",
    "thumbnail_url",
    "permalink",
    "timestamp",
    "like_count",
    "comments_count",
)
# One item is also asked for its owner, so a caller can check whose media an id names.
IG_MEDIA_ITEM_FIELDS = (*IG_MEDIA_FIELDS, "owner")


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")


def _summary_count(raw: dict[str, Any], edge: str) -> int | None:
    total = ((raw.get(edge) or {}).get("summary") or {}).get("total_count")
    return int(total) if total is not None else None


def fb_post(raw: dict[str, Any]) -> MetaPost:
    return MetaPost(
        meta_id=str(raw["id"]),
        message=raw.get("message"),
        created_time=_when(raw.get("created_time")),
        type=raw.get("status_type"),
        permalink=raw.get("permalink_url"),
        media_url=raw.get("full_picture"),
        likes=_summary_count(raw, "reactions"),
        comments=_summary_count(raw, "comments"),
        # Meta omits ``shares`` when there are none.
        shares=int((raw.get("shares") or {}).get("count") or 0),
    )


def ig_media(raw: dict[str, Any]) -> MetaPost:
    return MetaPost(
        meta_id=str(raw["id"]),
        message=raw.get("caption"),
        created_time=_when(raw.get("timestamp")),
        type=raw.get("media_type"),
        product_type=raw.get("media_product_type"),
        permalink=raw.get("permalink"),
        media_url=raw.get("media_url"),
        thumbnail_url=raw.get("thumbnail_url"),
        likes=raw.get("like_count"),
        comments=raw.get("comments_count"),
        owner_id=_owner_id(raw.get("owner")),
    )


def _owner_id(owner: Any) -> str | None:
    """Meta answers ``owner`` as ``{"id": "1784..."}``."""
    if isinstance(owner, dict) and owner.get("id"):
        return str(owner["id"])
    return None


def _cursor(before: str | None, after: str | None) -> dict[str, str]:
    if before:
        return {"before": before}
    return {"after": after} if after else {}


def _window(body: dict[str, Any], items: list[MetaPost]) -> MetaPostWindow:
    paging = body.get("paging") or {}
    cursors = paging.get("cursors") or {}
    # Without ``next``/``previous`` there is nothing further that way, whatever the cursors.
    return MetaPostWindow(
        items=items,
        before=cursors.get("before") if paging.get("previous") else None,
        after=cursors.get("after") if paging.get("next") else None,
    )


class PublishingGateway:
    graph: GraphClient

    async def create_feed_post(
        self,
        page_id: str,
        page_token: str,
        *,
        message: str | None = None,
        link: str | None = None,
        attached_photo_ids: Sequence[str] = (),
        published: bool = True,
        scheduled_at: datetime | None = None,
    ) -> str:
        async with translated():
            body = await self.graph.create_feed_post(
                page_id,
                page_token,
                message=message,
                link=link,
                attached_media=attached_photo_ids,
                published=published,
                scheduled_publish_time=int(scheduled_at.timestamp()) if scheduled_at else None,
            )
        return str(body["id"])

    async def create_photo(
        self, page_id: str, page_token: str, *, url: str, caption: str | None, published: bool
    ) -> tuple[str, str | None]:
        async with translated():
            body = await self.graph.create_photo(
                page_id, page_token, url=url, caption=caption, published=published
            )
        post_id = body.get("post_id")
        return str(body["id"]), str(post_id) if post_id else None

    async def create_video(
        self, page_id: str, page_token: str, *, url: str, description: str | None
    ) -> str:
        async with translated():
            body = await self.graph.create_video(
                page_id, page_token, file_url=url, description=description
            )
        return str(body["id"])

    async def page_posts(
        self,
        page_id: str,
        page_token: str,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
    ) -> MetaPostWindow:
        async with translated():
            body = await self.graph.page_posts_window(
                page_id, page_token, FB_POST_FIELDS, limit=limit, cursor=_cursor(before, after)
            )
        return _window(body, [fb_post(raw) for raw in body.get("data") or []])

    async def page_post(self, post_id: str, page_token: str) -> MetaPost:
        async with translated():
            return fb_post(await self.graph.get_post(post_id, page_token, FB_POST_FIELDS))

    async def page_video(self, video_id: str, page_token: str) -> MetaPost:
        async with translated():
            raw = await self.graph.get_post(video_id, page_token, FB_VIDEO_FIELDS)
        permalink = raw.get("permalink_url")
        if permalink and str(permalink).startswith("/"):
            permalink = FACEBOOK_WEB + str(permalink)
        return MetaPost(
            meta_id=str(raw["id"]),
            message=raw.get("description"),
            created_time=_when(raw.get("created_time")),
            type="added_video",
            permalink=permalink,
        )

    async def delete_object(self, object_id: str, page_token: str) -> None:
        async with translated():
            await self.graph.delete_post(object_id, page_token)

    async def ig_create_container(self, ig_id: str, page_token: str, **params: Any) -> str:
        async with translated():
            body = await self.graph.ig_create_container(ig_id, page_token, **params)
        return str(body["id"])

    async def ig_container_state(self, container_id: str, page_token: str) -> ContainerState:
        async with translated():
            body = await self.graph.ig_container_status(container_id, page_token)
        return ContainerState(body.get("status_code") or "IN_PROGRESS", body.get("status"))

    async def ig_publish(self, ig_id: str, page_token: str, container_id: str) -> str:
        async with translated():
            body = await self.graph.ig_media_publish(ig_id, page_token, container_id)
        return str(body["id"])

    async def ig_quota(self, ig_id: str, page_token: str) -> PublishingQuota:
        async with translated():
            body = await self.graph.ig_content_publishing_limit(ig_id, page_token)
        total = (body.get("config") or {}).get("quota_total")
        return PublishingQuota(usage=int(body.get("quota_usage") or 0), total=total)

    async def ig_media(
        self,
        ig_id: str,
        page_token: str,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
    ) -> MetaPostWindow:
        async with translated():
            body = await self.graph.ig_media_window(
                ig_id, page_token, IG_MEDIA_FIELDS, limit=limit, cursor=_cursor(before, after)
            )
        return _window(body, [ig_media(raw) for raw in body.get("data") or []])

    async def ig_media_item(self, media_id: str, page_token: str) -> MetaPost:
        async with translated():
            body = await self.graph.get_post(media_id, page_token, IG_MEDIA_ITEM_FIELDS)
        return ig_media(body)

    async def insights(
        self,
        kind: InsightsOf,
        object_id: str,
        page_token: str,
        metrics: Sequence[str],
        *,
        period: str | None = None,
    ) -> dict[str, Any]:
        async with translated():
            if kind == "page":
                entries = await self.graph.page_insights(
                    object_id, page_token, metrics, period=period or "day"
                )
            elif kind == "post":
                entries = await self.graph.post_insights(object_id, page_token, metrics, period)
            else:
                entries = await self.graph.ig_media_insights(object_id, page_token, metrics)
        return latest_values(entries)


def latest_values(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """metric name -> its newest value (Meta lists a daily metric's days oldest first)."""
    found: dict[str, Any] = {}
    for entry in entries:
        values = entry.get("values") or []
        if entry.get("name") and values:
            found[str(entry["name"])] = values[-1].get("value")
    return found
