"""spec/social-service-architecture.md family: OAuth connect and social accounts."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from domain.capabilities import publish_capabilities
from domain.errors import InvalidInputError, NotFoundError
from domain.repositories.accounts import (
    AccountStatus,
    SocialAccount,
    SocialAccountRepository,
    SocialPlatform,
)
from domain.services.connections import disconnect_account
from domain.services.oauth import PLATFORM_SCOPES, start_oauth
from resolvers.rest.families import SOCIAL
from resolvers.rest.routing import Endpoint, RestContext

E = TypeVar("E", bound=enum.StrEnum)


async def connect(ctx: RestContext) -> dict[str, Any]:
    platform = ctx.request.path_params["platform"]
    services = ctx.services
    url = await start_oauth(
        services.state_store, services.oauth, platform=platform, principal=ctx.viewer
    )
    return {"authUrl": url}


async def list_accounts(ctx: RestContext) -> dict[str, Any]:
    query = ctx.request.query_params
    platform = _choice(SocialPlatform, "platform", query.get("platform"))
    status = _choice(AccountStatus, "status", query.get("status"))
    services = ctx.services
    async with services.session_factory() as session:
        repo = SocialAccountRepository(session, ctx.viewer.organization_id)
        accounts = await repo.list(now=services.clock.now(), platform=platform, status=status)
    return {"accounts": [_summary(a) for a in accounts]}


async def get_account(ctx: RestContext) -> dict[str, Any]:
    account_id = _account_id(ctx)
    services = ctx.services
    async with services.session_factory() as session:
        repo = SocialAccountRepository(session, ctx.viewer.organization_id)
        account = await repo.get(account_id, now=services.clock.now())
    if account is None:
        raise NotFoundError("Account")
    conn = account.connection
    return {
        **_summary(account),
        "last_synced_at": _iso(account.row.last_synced_at),
        "last_token_refresh": _iso(conn.last_refreshed_at if conn else None),
        # The login's expiry: a Page token made from a long-lived login does not expire
        # itself, but it is that login a person renews to keep the account working.
        "token_expires_at": _iso(conn.expires_at if conn else None),
        "data_access_expires_at": _iso(conn.data_access_expires_at if conn else None),
    }


async def delete_account(ctx: RestContext) -> dict[str, Any]:
    account_id = _account_id(ctx)
    services = ctx.services
    async with services.uow() as uow:
        _, applied_on_meta = await disconnect_account(
            uow, services.meta, services.vault, ctx.viewer.organization_id, account_id
        )
        await uow.commit()
    # Additive (DESIGN.md §8): whether Meta confirmed the webhook unsubscription; the
    # tokens are dropped and the history kept either way.
    return {"success": True, "applied_on_meta": applied_on_meta}


def _summary(account: SocialAccount) -> dict[str, Any]:
    row = account.row
    rights = publish_capabilities(account)
    return {
        "id": str(row.id),
        "platform": account.platform.value,
        "username": account.handle,
        "profile_picture_url": account.picture_url,
        "status": account.status.value,
        "connected_at": _iso(row.created_at),
        "can_publish_feed": rights.feed,
        "can_publish_stories": rights.stories,
        "can_publish_reels": rights.reels,
        "name": row.name,
        "meta_id": account.meta_id,
    }


def _choice(kind: type[E], field: str, value: str | None) -> E | None:
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = " | ".join(member.value for member in kind)
        raise InvalidInputError(field, f"must be one of {allowed}") from None


def _account_id(ctx: RestContext) -> uuid.UUID:
    try:
        return uuid.UUID(ctx.request.path_params["accountId"])
    except ValueError:
        raise InvalidInputError("accountId", "is not a valid account id") from None


def _iso(value: datetime | None) -> str | None:
    # The spec writes UTC instants with a trailing Z.
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_TIMESTAMP: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "platform",
        "username",
        "profile_picture_url",
        "status",
        "connected_at",
        "can_publish_feed",
        "can_publish_stories",
        "can_publish_reels",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "platform": {"enum": [p.value for p in SocialPlatform]},
        "username": {"type": ["string", "null"]},
        "profile_picture_url": {"type": ["string", "null"]},
        "status": {"enum": [s.value for s in AccountStatus]},
        "connected_at": {"type": "string", "format": "date-time"},
        "can_publish_feed": {"type": "boolean"},
        "can_publish_stories": {"type": "boolean"},
        "can_publish_reels": {"type": "boolean"},
        "name": {"type": ["string", "null"]},
        "meta_id": {"type": "string"},
    },
}
ACCOUNT_DETAILS_SCHEMA: dict[str, Any] = {
    **ACCOUNT_SCHEMA,
    "required": [
        *ACCOUNT_SCHEMA["required"],
        "last_synced_at",
        "last_token_refresh",
        "token_expires_at",
    ],
    "properties": {
        **ACCOUNT_SCHEMA["properties"],
        "last_synced_at": _TIMESTAMP,
        "last_token_refresh": _TIMESTAMP,
        "token_expires_at": _TIMESTAMP,
        "data_access_expires_at": _TIMESTAMP,
    },
}

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        SOCIAL,
        "GET",
        "/api/auth/social/connect/{platform}",
        connect,
        f"Start connecting a Meta account ({' | '.join(PLATFORM_SCOPES)}): the dialog URL",
        response_schema={
            "type": "object",
            "required": ["authUrl"],
            "properties": {"authUrl": {"type": "string", "format": "uri"}},
        },
    ),
    Endpoint(
        SOCIAL,
        "GET",
        "/api/social/accounts",
        list_accounts,
        "The organization's connected Pages, Instagram and WhatsApp accounts",
        query_params={
            "platform": {"enum": [p.value for p in SocialPlatform]},
            "status": {"enum": [s.value for s in AccountStatus]},
        },
        response_schema={
            "type": "object",
            "required": ["accounts"],
            "properties": {"accounts": {"type": "array", "items": ACCOUNT_SCHEMA}},
        },
    ),
    Endpoint(
        SOCIAL,
        "GET",
        "/api/social/accounts/{accountId}",
        get_account,
        "One account with its sync and token dates",
        response_schema=ACCOUNT_DETAILS_SCHEMA,
    ),
    Endpoint(
        SOCIAL,
        "DELETE",
        "/api/social/accounts/{accountId}",
        delete_account,
        "Disconnect an account: webhooks unsubscribed, tokens dropped, history kept",
        response_schema={
            "type": "object",
            "required": ["success", "applied_on_meta"],
            "properties": {
                "success": {"const": True},
                "applied_on_meta": {
                    "type": "boolean",
                    "description": "Whether Meta confirmed the webhook unsubscription",
                },
            },
        },
    ),
]
