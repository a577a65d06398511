"""Instagram Graph API (with Facebook Login): account, media, content publishing, insights."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from graph_client._core import Fields, _Core, data_list, fields_param, seg
from graph_client.responses import ContainerStatus, CreatedObject, GraphObject, PublishingLimit

IG_USER_FIELDS = (
    "id",
    "username",
    "name",
    "biography",
    "website",
    "profile_picture_url",
    "followers_count",
    "follows_count",
    "media_count",
)
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


class InstagramEndpoints(_Core):
    async def ig_user(self, ig_id: str, token: str, fields: Fields = IG_USER_FIELDS) -> GraphObject:
        return await self._call(
            "GET", seg(ig_id), token=token, params={"fields": fields_param(fields)}, object_id=ig_id
        )

    def ig_media(
        self, ig_id: str, token: str, fields: Fields = IG_MEDIA_FIELDS, *, limit: int | None = None
    ) -> AsyncIterator[GraphObject]:
        params: dict[str, str | int] = {"fields": fields_param(fields)}
        if limit is not None:
            params["limit"] = limit
        return self._paginate(f"{seg(ig_id)}/media", token=token, params=params, object_id=ig_id)

    async def ig_media_window(
        self, ig_id: str, token: str, fields: Fields, *, limit: int, cursor: dict[str, str]
    ) -> GraphObject:
        """One page of ``/{ig-user-id}/media`` with its ``paging``."""
        params: dict[str, str | int] = {"fields": fields_param(fields), "limit": limit, **cursor}
        return await self._call(
            "GET", f"{seg(ig_id)}/media", token=token, params=params, object_id=ig_id
        )

    async def ig_create_container(self, ig_id: str, token: str, **params: Any) -> CreatedObject:
        """``POST /{ig-user-id}/media``: ``image_url``/``video_url``, ``caption``,
        ``media_type`` (REELS | STORIES | CAROUSEL), ``children``, ``is_carousel_item``...
        Not repeated after an ambiguous failure (each container counts against 400/24 h)."""
        body = await self._call(
            "POST", f"{seg(ig_id)}/media", token=token, json=params, object_id=ig_id
        )
        return cast(CreatedObject, body)

    async def ig_container_status(self, container_id: str, token: str) -> ContainerStatus:
        body = await self._call(
            "GET", seg(container_id), token=token, params={"fields": "status_code,status"}
        )
        return cast(ContainerStatus, body)

    async def ig_media_publish(self, ig_id: str, token: str, creation_id: str) -> CreatedObject:
        """Publish a FINISHED container. 9007/2207027 (:class:`MediaNotReadyError`) is retried
        with backoff, since it happens even right after FINISHED."""
        body = await self._call(
            "POST",
            f"{seg(ig_id)}/media_publish",
            token=token,
            json={"creation_id": creation_id},
            object_id=ig_id,
        )
        return cast(CreatedObject, body)

    async def ig_content_publishing_limit(
        self, ig_id: str, token: str, since: int | None = None
    ) -> PublishingLimit:
        """The runtime truth about the publishing quota (docs disagree: 25/50/100 per 24 h)."""
        params: dict[str, str | int] = {"fields": "quota_usage,config"}
        if since is not None:
            params["since"] = since
        body = await self._call(
            "GET",
            f"{seg(ig_id)}/content_publishing_limit",
            token=token,
            params=params,
            object_id=ig_id,
        )
        data = data_list(body)
        return cast(PublishingLimit, data[0] if data else {})

    async def ig_media_insights(
        self, media_id: str, token: str, metrics: Sequence[str]
    ) -> list[GraphObject]:
        """e.g. ``views,reach,saved,shares,total_interactions`` (``impressions``, ``plays``
        and ``video_views`` are gone since v22)."""
        body = await self._call(
            "GET", f"{seg(media_id)}/insights", token=token, params={"metric": ",".join(metrics)}
        )
        return data_list(body)
