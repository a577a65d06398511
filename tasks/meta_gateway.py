"""The domain's MetaGateway on the Graph client: Graph shapes in, domain values out, and
Graph errors translated into the domain's MetaError family."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.meta import (
    InstagramInfo,
    MetaError,
    MetaPageInfo,
    MetaPermissionDenied,
    MetaRateLimited,
    MetaTokenInvalid,
    TokenInfo,
    WhatsAppInfo,
)
from graph_client import (
    GraphClient,
    GraphError,
    PermissionDeniedError,
    RateLimitedError,
    ThrottledError,
    TokenInvalidError,
)

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


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    try:
        yield
    except GraphError as exc:
        kwargs: dict[str, Any] = {
            "meta_code": exc.code,
            "meta_subcode": exc.subcode,
            "fbtrace_id": exc.fbtrace_id,
            "transient": exc.is_transient,
            "retry_after": exc.retry_after,
        }
        if isinstance(exc, TokenInvalidError):
            raise MetaTokenInvalid(exc.message, **kwargs) from exc
        if isinstance(exc, RateLimitedError | ThrottledError):
            raise MetaRateLimited(exc.message, **kwargs) from exc
        if isinstance(exc, PermissionDeniedError):
            raise MetaPermissionDenied(exc.message, **kwargs) from exc
        raise MetaError(exc.message, **kwargs) from exc


class GraphMetaGateway:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

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

    async def subscribe_page(self, page_id: str, page_token: str) -> None:
        async with translated():
            await self.graph.subscribed_apps_post(page_id, page_token, WEBHOOK_FIELDS)

    async def unsubscribe_page(self, page_id: str, page_token: str) -> None:
        async with translated():
            await self.graph.subscribed_apps_delete(page_id, page_token)


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
