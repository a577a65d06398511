"""Facebook Login, Pages, Messenger conversations and the Page content/insights endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, cast

from graph_client._core import Fields, Params, _Core, data_list, fields_param, is_success, seg
from graph_client.responses import (
    AccessToken,
    CreatedObject,
    DebugTokenData,
    GraphObject,
    PageAccount,
    SendResult,
)

Platform = Literal["messenger", "instagram"]
Folder = Literal["inbox", "other", "page_done", "spam"]
SenderAction = Literal["mark_seen", "typing_on", "typing_off"]

PAGE_ACCOUNT_FIELDS = ("id", "name", "access_token", "category", "category_list", "tasks")
PAGE_FIELDS = ("id", "name", "category", "link", "username", "fan_count", "followers_count")
MESSAGE_FIELDS = ("id", "message", "from", "to", "created_time", "attachments")
# Meta's detail limit: only the 20 most recent messages of a conversation are readable.
CONVERSATION_FIELDS = (
    "participants",
    "updated_time",
    "unread_count",
    "snippet",
    "messages.limit(20){" + ",".join(MESSAGE_FIELDS) + "}",
)
POST_FIELDS = (
    "id",
    "message",
    "created_time",
    "updated_time",
    "permalink_url",
    "full_picture",
    "is_published",
    "status_type",
)


class FacebookEndpoints(_Core):
    # --- login and tokens -------------------------------------------------------------------

    async def me(self, token: str, fields: Fields = ("id", "name")) -> GraphObject:
        return await self._call("GET", "me", token=token, params={"fields": fields_param(fields)})

    def me_accounts(
        self, token: str, *, fields: Fields = PAGE_ACCOUNT_FIELDS
    ) -> AsyncIterator[PageAccount]:
        """The Pages the user granted. May be empty for business-linked Pages (facts §0.3):
        fall back to ``debug_token(...)["granular_scopes"]`` target ids."""
        items = self._paginate("me/accounts", token=token, params={"fields": fields_param(fields)})
        return cast(AsyncIterator[PageAccount], items)

    async def debug_token(self, input_token: str) -> DebugTokenData:
        """``GET /debug_token`` with the app token. An invalid ``input_token`` is *not* an
        exception: ``is_valid`` is false and ``error`` says why."""
        app_token = f"{self._config.app_id}|{self._config.app_secret}"
        body = await self._call(
            "GET", "debug_token", token=app_token, params={"input_token": input_token}
        )
        return cast(DebugTokenData, body.get("data", {}))

    async def exchange_code(self, code: str, redirect_uri: str) -> AccessToken:
        """OAuth code → user token. Codes are single-use, so an ambiguous failure is not
        retried."""
        params = {
            "client_id": self._config.app_id,
            "client_secret": self._config.app_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        }
        body = await self._call("GET", "oauth/access_token", params=params, idempotent=False)
        return cast(AccessToken, body)

    async def exchange_long_lived(self, short_token: str) -> AccessToken:
        """Short-lived user token → long-lived (~60 days) via ``fb_exchange_token``."""
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": self._config.app_id,
            "client_secret": self._config.app_secret,
            "fb_exchange_token": short_token,
        }
        return cast(AccessToken, await self._call("GET", "oauth/access_token", params=params))

    # --- pages and webhooks subscription ----------------------------------------------------

    async def get_page(self, page_id: str, token: str, fields: Fields = PAGE_FIELDS) -> GraphObject:
        params = {"fields": fields_param(fields)}
        return await self._call("GET", seg(page_id), token=token, params=params, object_id=page_id)

    async def update_page(self, page_id: str, token: str, **fields: Any) -> bool:
        body = await self._call(
            "POST", seg(page_id), token=token, json=fields, object_id=page_id, idempotent=True
        )
        return is_success(body)

    async def subscribed_apps_get(self, page_id: str, token: str) -> list[GraphObject]:
        body = await self._call(
            "GET", f"{seg(page_id)}/subscribed_apps", token=token, object_id=page_id
        )
        return data_list(body)

    async def subscribed_apps_post(self, page_id: str, token: str, fields: Sequence[str]) -> bool:
        body = await self._call(
            "POST",
            f"{seg(page_id)}/subscribed_apps",
            token=token,
            params={"subscribed_fields": ",".join(fields)},
            object_id=page_id,
            idempotent=True,
        )
        return is_success(body)

    async def subscribed_apps_delete(self, page_id: str, token: str) -> bool:
        body = await self._call(
            "DELETE", f"{seg(page_id)}/subscribed_apps", token=token, object_id=page_id
        )
        return is_success(body)

    # --- conversations and messages ---------------------------------------------------------

    def conversations(
        self,
        page_id: str,
        token: str,
        *,
        platform: Platform | None = None,
        folder: Folder | None = None,
        user_id: str | None = None,
        fields: Fields = CONVERSATION_FIELDS,
        limit: int | None = None,
    ) -> AsyncIterator[GraphObject]:
        """Every conversation of the Page, spaced to Meta's 2 calls/s per Page. Embedded
        ``messages`` edges can be continued with :meth:`follow_edge`."""
        params: dict[str, str | int] = {"fields": fields_param(fields)}
        for key, value in (("platform", platform), ("folder", folder), ("user_id", user_id)):
            if value is not None:
                params[key] = value
        if limit is not None:
            params["limit"] = limit
        return self._paginate(
            f"{seg(page_id)}/conversations",
            token=token,
            params=params,
            object_id=page_id,
            spacing=self._conversations_spacing(page_id),
        )

    async def conversation(
        self, conversation_id: str, token: str, fields: Fields, *, page_id: str
    ) -> GraphObject:
        """One conversation (``GET /{conversation-id}``), counted against the Page's 2 calls/s."""
        return await self._call(
            "GET",
            seg(conversation_id),
            token=token,
            params={"fields": fields_param(fields)},
            object_id=page_id,
            spacing=self._conversations_spacing(page_id),
        )

    def conversation_messages(
        self,
        conversation_id: str,
        token: str,
        fields: Fields = MESSAGE_FIELDS,
        *,
        page_id: str | None = None,
    ) -> AsyncIterator[GraphObject]:
        """Messages of one conversation, newest first. Only the 20 most recent have details.
        Pass ``page_id`` to count these calls against the Page's conversations spacing."""
        params: Params = {"fields": fields_param(fields)}
        return self._paginate(
            f"{seg(conversation_id)}/messages",
            token=token,
            params=params,
            object_id=page_id,
            spacing=self._conversations_spacing(page_id) if page_id is not None else None,
        )

    async def message(
        self, message_id: str, token: str, fields: Fields = MESSAGE_FIELDS
    ) -> GraphObject:
        return await self._call(
            "GET", seg(message_id), token=token, params={"fields": fields_param(fields)}
        )

    async def user_profile(
        self, user_id: str, token: str, fields: Fields = ("name", "profile_pic")
    ) -> GraphObject:
        """A PSID's or IGSID's profile (the user must have messaged the Page first).
        PSID: ``first_name,last_name,profile_pic``; IGSID: ``name,username,profile_pic``."""
        return await self._call(
            "GET", seg(user_id), token=token, params={"fields": fields_param(fields)}
        )

    async def send_sender_action(
        self, page_id: str, token: str, recipient_id: str, action: SenderAction
    ) -> SendResult:
        """``mark_seen`` / ``typing_on`` / ``typing_off``. Meta has no mark-read for the Page
        inbox itself: this only shows "Seen" to the user (facts §0.1)."""
        body = await self._call(
            "POST",
            f"{seg(page_id)}/messages",
            token=token,
            json={"recipient": {"id": recipient_id}, "sender_action": action},
            object_id=page_id,
            idempotent=True,
        )
        return cast(SendResult, body)

    # --- posts ------------------------------------------------------------------------------

    async def create_feed_post(
        self,
        page_id: str,
        token: str,
        *,
        message: str | None = None,
        link: str | None = None,
        published: bool = True,
        scheduled_publish_time: int | None = None,
        attached_media: Sequence[str] = (),
    ) -> CreatedObject:
        """``POST /{page-id}/feed``. ``attached_media`` takes ids of unpublished photos
        (:meth:`create_photo` with ``published=False``). A schedule forces ``published=False``
        as Meta requires."""
        payload: dict[str, Any] = {"published": published and scheduled_publish_time is None}
        if message is not None:
            payload["message"] = message
        if link is not None:
            payload["link"] = link
        if scheduled_publish_time is not None:
            payload["scheduled_publish_time"] = scheduled_publish_time
        if attached_media:
            payload["attached_media"] = [{"media_fbid": m} for m in attached_media]
        body = await self._call(
            "POST", f"{seg(page_id)}/feed", token=token, json=payload, object_id=page_id
        )
        return cast(CreatedObject, body)

    async def create_photo(
        self,
        page_id: str,
        token: str,
        *,
        url: str,
        caption: str | None = None,
        published: bool = True,
        scheduled_publish_time: int | None = None,
    ) -> CreatedObject:
        """``POST /{page-id}/photos``; unpublished photos answer only ``{"id"}``."""
        payload: dict[str, Any] = {
            "url": url,
            "published": published and scheduled_publish_time is None,
        }
        if caption is not None:
            payload["caption"] = caption
        if scheduled_publish_time is not None:
            payload["scheduled_publish_time"] = scheduled_publish_time
        body = await self._call(
            "POST", f"{seg(page_id)}/photos", token=token, json=payload, object_id=page_id
        )
        return cast(CreatedObject, body)

    async def create_video(
        self,
        page_id: str,
        token: str,
        *,
        file_url: str,
        description: str | None = None,
        title: str | None = None,
        published: bool = True,
        scheduled_publish_time: int | None = None,
    ) -> CreatedObject:
        """``POST /{page-id}/videos`` from a URL (resumable uploads are not covered)."""
        payload: dict[str, Any] = {
            "file_url": file_url,
            "published": published and scheduled_publish_time is None,
        }
        for key, value in (("description", description), ("title", title)):
            if value is not None:
                payload[key] = value
        if scheduled_publish_time is not None:
            payload["scheduled_publish_time"] = scheduled_publish_time
        body = await self._call(
            "POST", f"{seg(page_id)}/videos", token=token, json=payload, object_id=page_id
        )
        return cast(CreatedObject, body)

    async def get_post(self, post_id: str, token: str, fields: Fields = POST_FIELDS) -> GraphObject:
        return await self._call(
            "GET", seg(post_id), token=token, params={"fields": fields_param(fields)}
        )

    async def page_posts_window(
        self, page_id: str, token: str, fields: Fields, *, limit: int, cursor: dict[str, str]
    ) -> GraphObject:
        """One page of ``/{page-id}/published_posts`` (``cursor``: ``before`` or ``after``),
        with its ``paging`` kept for the caller's own cursors."""
        params: dict[str, str | int] = {"fields": fields_param(fields), "limit": limit, **cursor}
        return await self._call(
            "GET", f"{seg(page_id)}/published_posts", token=token, params=params, object_id=page_id
        )

    async def update_post(self, post_id: str, token: str, **fields: Any) -> bool:
        """``POST /{post-id}``, e.g. ``message=...`` or ``is_published=True`` for a dark post."""
        body = await self._call("POST", seg(post_id), token=token, json=fields, idempotent=True)
        return is_success(body)

    async def delete_post(self, post_id: str, token: str) -> bool:
        return is_success(await self._call("DELETE", seg(post_id), token=token))

    # --- insights ---------------------------------------------------------------------------

    async def page_insights(
        self,
        page_id: str,
        token: str,
        metrics: Sequence[str],
        period: str = "day",
        since: int | str | None = None,
        until: int | str | None = None,
    ) -> list[GraphObject]:
        """One window of Page metrics (insights paging is time-based and endless, so it is
        not followed). Many ``page_impressions*``/``page_fans*`` metrics now fail with #100."""
        params: dict[str, str | int] = {"metric": ",".join(metrics), "period": period}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        body = await self._call(
            "GET", f"{seg(page_id)}/insights", token=token, params=params, object_id=page_id
        )
        return data_list(body)

    async def post_insights(
        self, post_id: str, token: str, metrics: Sequence[str], period: str | None = None
    ) -> list[GraphObject]:
        params: dict[str, str] = {"metric": ",".join(metrics)}
        if period is not None:
            params["period"] = period
        body = await self._call("GET", f"{seg(post_id)}/insights", token=token, params=params)
        return data_list(body)
