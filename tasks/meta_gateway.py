"""The domain's MetaGateway on the Graph client: Graph shapes in, domain values out, and
Graph errors translated into the domain's MetaError family."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from domain.meta import (
    CONVERSATION_STATUS_FIELDS,
    CallCounter,
    ConversationRead,
    InstagramInfo,
    MessageDataPoint,
    MetaConversation,
    MetaMessage,
    MetaPageInfo,
    MetaParticipant,
    MetaProfile,
    MetaTemplate,
    TemplateSubmitted,
    TokenInfo,
    WhatsAppInfo,
)
from graph_client import (
    GraphClient,
    counting_calls,
)
from tasks.meta_errors import translated
from tasks.meta_gateway_posts import PublishingGateway

PAGE_FIELDS = (
    "id",
    "name",
    "category",
    "access_token",
    "picture{url}",
    "instagram_business_account",
    "fan_count",
    "followers_count",
    "about",
    "phone",
    "website",
)
IG_FIELDS = (
    "id",
    "username",
    "name",
    "profile_picture_url",
    "biography",
    "website",
    "followers_count",
    "follows_count",
    "media_count",
)
# rejected_reason too, so a sync shows why Meta refused a template it missed the webhook of.
TEMPLATE_FIELDS = (
    "id",
    "name",
    "status",
    "category",
    "language",
    "components",
    "quality_score",
    "rejected_reason",
)
MESSAGE_FIELDS = "id,message,from,to,created_time,attachments,reply_to"
# MetaPageInfo attributes -> the Graph fields that carry them.
PAGE_DETAIL_FIELDS = {
    "name": "name",
    "category": "category",
    "picture_url": "picture{url}",
    "fan_count": "fan_count",
    "followers_count": "followers_count",
    "about": "about",
    "phone": "phone",
    "website": "website",
}
# Participants with their names (IG: username), or only their ids when names are not wanted.
PARTICIPANTS = "participants"
PARTICIPANT_IDS = "participants{id}"
# Meta lists one folder per call (inbox by default); a whole inbox is all four.
Folder = Literal["inbox", "other", "page_done", "spam"]
FOLDERS: tuple[Folder, ...] = ("inbox", "other", "page_done", "spam")
# Details exist only for a conversation's 20 most recent messages (facts §6).
DETAILED_MESSAGES = 20
NESTED_MESSAGES = f"messages.limit({DETAILED_MESSAGES}){{{MESSAGE_FIELDS}}}"
WEBHOOK_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "message_echoes",
    "message_reactions",
    "feed",
)


def _ts(value: Any) -> datetime | None:
    """Meta's Unix seconds; 0 (or absent) means never."""
    if not value:
        return None
    return datetime.fromtimestamp(int(value), UTC)


class GraphMetaGateway(PublishingGateway):
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph
        # Page id -> the Instagram account id linked to it (learned from Meta, cached).
        self._own_ids: dict[str, set[str]] = {}

    async def exchange_code(self, code: str, redirect_uri: str) -> str:
        async with translated():
            grant = await self.graph.exchange_code(code, redirect_uri)
        return grant["access_token"]

    async def long_lived(self, token: str) -> tuple[str, datetime | None]:
        async with translated():
            grant = await self.graph.exchange_long_lived(token)
        expires_in = grant.get("expires_in")
        expires = datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None
        return grant["access_token"], expires

    async def inspect(self, token: str) -> TokenInfo:
        async with translated():
            data = await self.graph.debug_token(token)
        granular: dict[str, list[str] | None] = {}
        for entry in data.get("granular_scopes", []):
            targets = entry.get("target_ids")
            granular[entry["scope"]] = [str(t) for t in targets] if targets is not None else None
        error = data.get("error")
        return TokenInfo(
            is_valid=bool(data.get("is_valid")),
            meta_user_id=str(data["user_id"]) if data.get("user_id") else None,
            token_type=data.get("type"),
            scopes=list(data.get("scopes", [])),
            granular_scopes=granular,
            expires_at=_ts(data.get("expires_at")),
            data_access_expires_at=_ts(data.get("data_access_expires_at")),
            error=error.get("message") if error else None,
        )

    async def me(self, token: str) -> tuple[str, str | None]:
        async with translated():
            me = await self.graph.me(token, ("id", "name"))
        return str(me["id"]), me.get("name")

    async def pages(self, user_token: str, extra_page_ids: set[str]) -> list[MetaPageInfo]:
        async with translated():
            listed = [
                _page(p) async for p in self.graph.me_accounts(user_token, fields=PAGE_FIELDS)
            ]
            # Business-owned Pages are missing from /me/accounts (facts §0.3); the token's
            # granular scopes name them, and they can be read by id.
            missing = sorted(extra_page_ids - {p.meta_page_id for p in listed})
            fetched = await asyncio.gather(
                *(self.graph.get_page(pid, user_token, PAGE_FIELDS) for pid in missing)
            )
        return listed + [_page(p) for p in fetched]

    async def instagram_account(self, ig_id: str, page_token: str) -> InstagramInfo:
        async with translated():
            data = await self.graph.ig_user(ig_id, page_token, IG_FIELDS)
        return InstagramInfo(
            meta_ig_id=str(data["id"]),
            username=data.get("username"),
            name=data.get("name"),
            profile_picture_url=data.get("profile_picture_url"),
            biography=data.get("biography"),
            website=data.get("website"),
            followers_count=data.get("followers_count"),
            follows_count=data.get("follows_count"),
            media_count=data.get("media_count"),
        )

    async def whatsapp_account(self, waba_id: str, token: str) -> WhatsAppInfo:
        async with translated():
            numbers = await self.graph.wa_phone_numbers(waba_id, token)
            profile: dict[str, Any] = {}
            if numbers:
                profile = await self.graph.wa_business_profile(str(numbers[0]["id"]), token)
        return WhatsAppInfo(waba_id=waba_id, phone_numbers=numbers, business_profile=profile)

    async def whatsapp_templates(self, waba_id: str, token: str) -> list[MetaTemplate]:
        async with translated():
            return [
                _template(raw)
                async for raw in self.graph.wa_templates(waba_id, token, TEMPLATE_FIELDS)
            ]

    async def create_whatsapp_template(
        self,
        waba_id: str,
        token: str,
        *,
        name: str,
        language: str,
        category: str,
        components: Sequence[dict[str, Any]],
        parameter_format: str | None = None,
    ) -> TemplateSubmitted:
        fmt: Literal["named", "positional"] | None = (
            "named" if parameter_format == "named" else "positional" if parameter_format else None
        )
        async with translated():
            created = await self.graph.wa_create_template(
                waba_id,
                token,
                name=name,
                language=language,
                category=category,
                components=components,
                parameter_format=fmt,
            )
        return TemplateSubmitted(
            meta_template_id=str(created["id"]),
            status=str(created.get("status") or "PENDING").upper(),
            category=str(created.get("category") or category).upper(),
        )

    async def edit_whatsapp_template(
        self,
        template_id: str,
        token: str,
        *,
        components: Sequence[dict[str, Any]] | None = None,
        category: str | None = None,
    ) -> None:
        async with translated():
            await self.graph.wa_edit_template(
                template_id, token, components=components, category=category
            )

    async def delete_whatsapp_template(
        self, waba_id: str, token: str, name: str, hsm_id: str | None = None
    ) -> None:
        async with translated():
            await self.graph.wa_delete_template(waba_id, token, name, hsm_id)

    async def whatsapp_message_analytics(
        self, waba_id: str, token: str, start: int, end: int, granularity: str
    ) -> list[MessageDataPoint]:
        level: Literal["HALF_HOUR", "DAY", "MONTH"] = (
            "HALF_HOUR"
            if granularity == "HALF_HOUR"
            else "MONTH"
            if granularity == "MONTH"
            else "DAY"
        )
        async with translated():
            analytics = await self.graph.wa_analytics(waba_id, token, start, end, level)
        return [
            MessageDataPoint(
                start=int(point["start"]),
                end=int(point["end"]),
                sent=int(point.get("sent") or 0),
                delivered=int(point.get("delivered") or 0),
            )
            for point in analytics.get("data_points") or []
            if isinstance(point, dict)
        ]

    async def subscribe_page(
        self, page_id: str, page_token: str, fields: Sequence[str] | None = None
    ) -> None:
        async with translated():
            await self.graph.subscribed_apps_post(page_id, page_token, fields or WEBHOOK_FIELDS)

    async def subscribe_whatsapp(self, waba_id: str, token: str) -> None:
        async with translated():
            await self.graph.wa_subscribe_app(waba_id, token)

    async def page_subscribed_fields(self, page_id: str, page_token: str) -> list[str] | None:
        async with translated():
            apps = await self.graph.subscribed_apps_get(page_id, page_token)
        app_id = self.graph.config.app_id
        for app in apps:
            if str(app.get("id")) == app_id:
                return [str(f) for f in app.get("subscribed_fields") or []]
        return None

    async def unsubscribe_page(self, page_id: str, page_token: str) -> None:
        async with translated():
            await self.graph.subscribed_apps_delete(page_id, page_token)

    async def page(
        self, page_id: str, page_token: str, fields: Collection[str] | None = None
    ) -> MetaPageInfo:
        if fields is None:
            fields = tuple(f for f in PAGE_FIELDS if f != "access_token")
        else:
            unknown = set(fields) - set(PAGE_DETAIL_FIELDS)
            if unknown:
                raise ValueError(f"not Page details: {sorted(unknown)}")
            fields = ("id", *(g for a, g in PAGE_DETAIL_FIELDS.items() if a in fields))
        async with translated():
            return _page(await self.graph.get_page(page_id, page_token, fields))

    async def update_page(self, page_id: str, page_token: str, fields: dict[str, str]) -> None:
        async with translated():
            await self.graph.update_page(page_id, page_token, **fields)

    async def conversations(
        self,
        page_id: str,
        page_token: str,
        *,
        platform: str,
        updated_since: datetime | None = None,
        read: ConversationRead = ConversationRead(),
        limit: int | None = None,
    ) -> AsyncIterator[MetaConversation]:
        # Where to stop is known from updated_time, so an incremental listing always reads it.
        fields = _conversation_fields(read, always=("updated_time",) if updated_since else ())
        if platform == "instagram":
            await self._learn_instagram_id(page_id, page_token)
        seen = 0
        for folder in FOLDERS:
            async with translated():
                listing = self.graph.conversations(
                    page_id,
                    page_token,
                    platform="instagram" if platform == "instagram" else "messenger",
                    folder=folder,
                    fields=fields,
                    limit=25,
                )
                async for raw in listing:
                    updated = _when(raw.get("updated_time"))
                    # Newest first: the first one not updated since the watermark ends the
                    # folder (no time-based paging exists to ask for it directly).
                    if updated_since is not None and updated <= updated_since:
                        break
                    yield await self._conversation(raw, page_id, page_token, platform, folder)
                    seen += 1
                    if limit is not None and seen >= limit:
                        return

    async def _learn_instagram_id(self, page_id: str, page_token: str) -> None:
        if page_id in self._own_ids:
            return
        async with translated():
            data = await self.graph.get_page(page_id, page_token, ("instagram_business_account",))
        linked = (data.get("instagram_business_account") or {}).get("id")
        self._own_ids[page_id] = {str(linked)} if linked else set()

    async def conversation(
        self,
        conversation_id: str,
        page_id: str,
        page_token: str,
        *,
        platform: str,
        read: ConversationRead = ConversationRead(),
    ) -> MetaConversation:
        fields = _conversation_fields(read)
        async with translated():
            raw = await self.graph.conversation(
                conversation_id, page_token, fields, page_id=page_id
            )
            return await self._conversation(raw, page_id, page_token, platform, None)

    async def _conversation(
        self, raw: dict[str, Any], page_id: str, page_token: str, platform: str, folder: str | None
    ) -> MetaConversation:
        # The business's own side of the thread: the Page, or on Instagram its account.
        own_ids = {page_id, *self._own_ids.get(page_id, ())}
        messages: list[MetaMessage] = []
        complete = True
        edge = raw.get("messages")
        if isinstance(edge, dict):
            async for item in self.graph.follow_edge(edge, page_token, page_id=page_id):
                messages.append(_message(item, detailed=len(messages) < DETAILED_MESSAGES))
        else:
            complete = False
        participants = [
            MetaParticipant(user_id=str(p["id"]), name=p.get("name"), username=p.get("username"))
            for p in (raw.get("participants") or {}).get("data", [])
            if p.get("id") and str(p["id"]) not in own_ids
        ]
        return MetaConversation(
            meta_conversation_id=str(raw["id"]),
            platform=platform,
            updated_time=_when(raw.get("updated_time")),
            unread_count=int(raw.get("unread_count") or 0),
            message_count=raw.get("message_count"),
            snippet=raw.get("snippet"),
            folder=raw.get("folder") or folder,
            participants=participants,
            messages=messages,
            messages_complete=complete,
        )

    async def user_profile(
        self,
        user_id: str,
        page_token: str,
        *,
        platform: str,
        fields: Collection[str] = ("name", "picture_url"),
    ) -> MetaProfile:
        wanted: list[str] = []
        if "name" in fields:
            wanted += ["name"] if platform == "instagram" else ["first_name", "last_name", "name"]
        if "picture_url" in fields:
            wanted.append("profile_pic")
        if not wanted:
            raise ValueError("a profile read needs name or picture_url")
        async with translated():
            data = await self.graph.user_profile(user_id, page_token, tuple(wanted))
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        return MetaProfile(name=name or None, picture_url=data.get("profile_pic"))

    async def mark_seen(self, page_id: str, page_token: str, recipient_id: str) -> None:
        async with translated():
            await self.graph.send_sender_action(page_id, page_token, recipient_id, "mark_seen")

    def count_calls(self) -> AbstractContextManager[CallCounter]:
        return counting_calls()


def _conversation_fields(read: ConversationRead, always: Sequence[str] = ()) -> list[str]:
    """The ``fields=`` of a conversation read: only what ``read`` asks for (selective sync
    saves payload this way), in a stable order."""
    status = [f for f in CONVERSATION_STATUS_FIELDS if f in read.fields or f in always]
    fields = ["id", *status, PARTICIPANTS if read.participant_names else PARTICIPANT_IDS]
    if read.messages:
        fields.append(NESTED_MESSAGES)
    return fields


def _template(raw: dict[str, Any]) -> MetaTemplate:
    quality = raw.get("quality_score")
    reason = raw.get("rejected_reason")
    return MetaTemplate(
        meta_template_id=str(raw["id"]),
        name=str(raw.get("name")),
        language=str(raw.get("language")),
        category=str(raw.get("category") or "").upper(),
        status=str(raw.get("status") or "").upper(),
        components=list(raw.get("components") or []),
        # Meta says "NONE" when nothing was rejected.
        rejected_reason=str(reason) if reason and reason != "NONE" else None,
        quality_score=quality.get("score") if isinstance(quality, dict) else None,
    )


def _when(value: Any) -> datetime:
    """Meta's ``2026-09-05T10:00:00+0000`` (or Unix seconds) as an aware datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not value:
        return datetime.fromtimestamp(0, UTC)
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


def _message(raw: dict[str, Any], *, detailed: bool) -> MetaMessage:
    sender = raw.get("from") or {}
    recipients = (raw.get("to") or {}).get("data") or []
    attachments = (raw.get("attachments") or {}).get("data") or []
    reply_to = raw.get("reply_to") or {}
    has_details = detailed and any(k in raw for k in ("message", "from", "attachments"))
    return MetaMessage(
        meta_message_id=str(raw["id"]),
        created_time=_when(raw.get("created_time")),
        detailed=has_details,
        text=raw.get("message") or None,
        sender_id=str(sender["id"]) if sender.get("id") else None,
        recipient_id=str(recipients[0]["id"]) if recipients and recipients[0].get("id") else None,
        attachments=[a for a in attachments if isinstance(a, dict)],
        reply_to=reply_to.get("mid"),
    )


def _page(data: Any) -> MetaPageInfo:
    picture = data.get("picture") or {}
    instagram = data.get("instagram_business_account") or {}
    return MetaPageInfo(
        meta_page_id=str(data["id"]),
        name=data.get("name") or "",
        access_token=data.get("access_token"),
        category=data.get("category"),
        picture_url=(picture.get("data") or {}).get("url"),
        instagram_id=str(instagram["id"]) if instagram.get("id") else None,
        fan_count=data.get("fan_count"),
        followers_count=data.get("followers_count"),
        about=data.get("about"),
        phone=data.get("phone"),
        website=data.get("website"),
    )
