"""spec/meta-business-api.md family: auth (connect, status, refresh-token), Facebook Pages and
Instagram accounts.

Success is ``{"success": true, "data": {...}}`` with the documented fields (plus additive
ones); errors use the family envelope ``{"success": false, "error": {code, message, details}}``.
"""

from __future__ import annotations

from typing import Any

from domain.meta import MetaError, MetaPermissionDenied, MetaRateLimited, MetaTokenInvalid
from domain.models import ConnectionStatus, InstagramAccount, Page
from domain.services.connections import connect_page, connect_with_code
from domain.services.module_api import (
    connect_instagram,
    connection_overview,
    find_instagram_account,
    stored_instagram_accounts,
    stored_pages,
)
from domain.services.token_health import refresh_connection
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
    meta_id_value,
    object_schema,
    retry_after_header,
    text_field,
    translating_meta_errors,
    uuid_value,
)
from resolvers.rest.families import META_BUSINESS, RestError
from resolvers.rest.routing import Endpoint, Handler, RestContext

Json = dict[str, Any]

# Meta's answers to a bad authorization code (code 100): which request field was wrong.
_CODE_SUBCODES = {36006: "code", 36007: "code", 36008: "redirectUri", 36009: "code"}
# A connection in these states has no token Meta accepts: only a new login helps.
_DEAD = {
    ConnectionStatus.EXPIRED.value,
    ConnectionStatus.INVALID.value,
    ConnectionStatus.DISCONNECTED.value,
}


def meta_failure(exc: MetaError) -> RestError:
    """How this family answers when Meta refuses or fails, with Meta's code in ``details``."""
    details = meta_details(exc)
    if isinstance(exc, MetaTokenInvalid):
        return RestError(
            401,
            f"Meta rejected the token ({exc.message}); connect the account again",
            code="TOKEN_EXPIRED",
            details={**details, "reauthorizationRequired": True},
        )
    if isinstance(exc, MetaRateLimited):
        return RestError(
            429,
            "Meta's rate limit was reached; retry later",
            details={**details, "retryAfterSeconds": exc.retry_after},
            headers=retry_after_header(exc),
        )
    if isinstance(exc, MetaPermissionDenied):
        return RestError(
            403, f"Meta refused: {exc.message}", code="META_PERMISSION_DENIED", details=details
        )
    return RestError(502, f"Meta API error: {exc.message}", code="META_API_ERROR", details=details)


def _ok(data: Json) -> Json:
    return {"success": True, "data": data}


# --- auth --------------------------------------------------------------------------------------


async def auth_connect(ctx: RestContext) -> Json:
    body = await ctx.json_body()
    code = text_field(body, "code", max_length=4096)
    redirect_uri = text_field(body, "redirectUri", max_length=2000)
    viewer, services = ctx.viewer, ctx.services
    try:
        report = await connect_with_code(
            services.uow(),
            services.meta,
            services.vault,
            organization_id=viewer.organization_id,
            user_id=viewer.user_id,
            code=code,
            redirect_uri=redirect_uri,
            now=services.clock.now(),
        )
    except MetaError as exc:
        field = _CODE_SUBCODES.get(exc.meta_subcode or 0) if exc.meta_code == 100 else None
        if field is None:
            raise
        raise RestError(
            400,
            f"Meta did not accept the authorization code: {exc.message}",
            field=field,
            code="INVALID_CODE",
            details=meta_details(exc),
        ) from exc
    conn = report.connection
    return _ok(
        {
            "accountId": str(conn.id),
            "status": "connected",
            "permissions": list(conn.scopes),
            "expiresAt": iso(conn.expires_at),
            "platforms": {
                "whatsapp": bool(report.whatsapp_accounts),
                "facebook": bool(report.pages),
                "instagram": bool(report.instagram_accounts),
            },
            "warnings": report.warnings,
        }
    )


async def auth_status(ctx: RestContext) -> Json:
    overview = await connection_overview(ctx.services.uow(), ctx.viewer.organization_id)
    conn = overview.primary
    connected = conn is not None and conn.status == ConnectionStatus.ACTIVE.value
    return _ok(
        {
            "connected": connected,
            "accountId": str(conn.id) if conn else None,
            "expiresAt": iso(conn.expires_at) if conn else None,
            "permissions": list(conn.scopes) if conn else [],
            "platforms": {
                "whatsapp": overview.whatsapp,
                "facebook": overview.facebook,
                "instagram": overview.instagram,
            },
            "status": conn.status if conn else "not_connected",
            "reauthorizationRequired": conn is not None and not connected,
            "dataAccessExpiresAt": iso(conn.data_access_expires_at) if conn else None,
            "lastCheckedAt": iso(conn.last_checked_at) if conn else None,
        }
    )


async def auth_refresh_token(ctx: RestContext) -> Json:
    """Meta cannot extend a long-lived user token (facts §4): this re-checks it with Meta and
    answers the real expiry, and whether a person must log in again."""
    body = await ctx.json_body()
    account_id = uuid_value(body.get("accountId"), "accountId")
    services = ctx.services
    now = services.clock.now()
    conn, result = await refresh_connection(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        connection_id=account_id,
        now=now,
        notify=services.notify,
    )
    if result.status in _DEAD:
        raise RestError(
            401,
            "Meta no longer accepts this account's token; connect the account again",
            code="TOKEN_EXPIRED",
            details={
                "accountId": str(conn.id),
                "status": result.status,
                "reason": result.reason,
                "reauthorizationRequired": True,
            },
        )
    return _ok(
        {
            "expiresAt": iso(conn.expires_at),
            "status": result.status,
            "reauthorizationRequired": result.status != ConnectionStatus.ACTIVE.value,
            "extended": False,
            "reason": result.reason,
            "checkedAt": iso(now),
        }
    )


# --- Facebook Pages and Instagram accounts -----------------------------------------------------


def _page_data(page: Page) -> Json:
    return {
        "id": str(page.id),
        "pageId": page.meta_page_id,
        "name": page.name,
        "category": page.category,
        "pictureUrl": page.picture_url,
        "status": page.status,
        "createdAt": iso(page.created_at),
        "webhookSubscribed": page.webhook_subscribed,
        "lastSyncedAt": iso(page.last_synced_at),
    }


def _instagram_data(account: InstagramAccount) -> Json:
    return {
        "id": str(account.id),
        "igAccountId": account.meta_ig_id,
        "username": account.username,
        "profilePicture": account.profile_picture_url,
        "status": account.status,
        "createdAt": iso(account.created_at),
        "name": account.name,
        "followersCount": account.followers_count,
    }


async def facebook_pages(ctx: RestContext) -> Json:
    pages = await stored_pages(ctx.services.uow(), ctx.viewer.organization_id)
    return _ok({"pages": [_page_data(p) for p in pages]})


async def facebook_page_connect(ctx: RestContext) -> Json:
    meta_page_id = meta_id_value(ctx.request.path_params["pageId"], "pageId")
    services = ctx.services
    page = await connect_page(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        meta_page_id=meta_page_id,
    )
    return _ok(
        {
            "id": str(page.id),
            "pageId": page.meta_page_id,
            "status": "connected",
            "webhookSubscribed": page.webhook_subscribed,
        }
    )


async def instagram_accounts(ctx: RestContext) -> Json:
    accounts = await stored_instagram_accounts(ctx.services.uow(), ctx.viewer.organization_id)
    return _ok({"accounts": [_instagram_data(a) for a in accounts]})


async def instagram_account_connect(ctx: RestContext) -> Json:
    """``accountId`` is the stored account's id or, for one not stored yet, its Instagram id;
    the account is reached (and its webhooks subscribed) through its Page."""
    raw = ctx.request.path_params["accountId"]
    services, org_id = ctx.services, ctx.viewer.organization_id
    if "-" in raw:  # a row id (UUIDs have hyphens, Meta ids are digits)
        stored = await find_instagram_account(services.uow(), org_id, uuid_value(raw, "accountId"))
        meta_ig_id = stored.meta_ig_id
    else:
        meta_ig_id = meta_id_value(raw, "accountId")
    account, page = await connect_instagram(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=org_id,
        meta_ig_id=meta_ig_id,
        notify=services.notify,
    )
    return _ok(
        {
            "id": str(account.id),
            "igAccountId": account.meta_ig_id,
            "status": "connected",
            "username": account.username,
            "pageId": page.meta_page_id,
        }
    )


# --- declarations --------------------------------------------------------------------------------

_PLATFORMS = object_schema({"whatsapp": BOOLEAN, "facebook": BOOLEAN, "instagram": BOOLEAN})


def success_schema(data: Json) -> Json:
    """The family's success body: ``{"success": true, "data": ...}``."""
    return object_schema({"success": {"const": True}, "data": data})


_PAGE = object_schema(
    {
        "id": STRING,
        "pageId": STRING,
        "name": STRING,
        "category": NULLABLE_STRING,
        "pictureUrl": NULLABLE_STRING,
        "status": STRING,
        "createdAt": DATE_TIME,
    },
    {"webhookSubscribed": BOOLEAN, "lastSyncedAt": NULLABLE_DATE_TIME},
)
_INSTAGRAM = object_schema(
    {
        "id": STRING,
        "igAccountId": STRING,
        "username": NULLABLE_STRING,
        "profilePicture": NULLABLE_STRING,
        "status": STRING,
        "createdAt": DATE_TIME,
    },
    {"name": NULLABLE_STRING, "followersCount": {"type": ["integer", "null"]}},
)


def business_endpoint(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    data: Json,
    request: Json | None = None,
    query: dict[str, Json] | None = None,
    errors: tuple[int, ...] = (),
    required_query: tuple[str, ...] = (),
) -> Endpoint:
    """An endpoint of this family: Meta's failures answered by ``meta_failure``."""
    return Endpoint(
        META_BUSINESS,
        method,
        path,
        translating_meta_errors(handler, meta_failure),
        summary,
        request_schema=request,
        response_schema=success_schema(data),
        query_params=query or {},
        errors=errors,
        required_query=required_query,
    )


# What meta_failure answers besides the 401 every authenticated endpoint documents.
META_ERRORS = (403, 429, 502)


ENDPOINTS: list[Endpoint] = [
    business_endpoint(
        "POST",
        "/api/meta/auth/connect",
        auth_connect,
        "Connect a Meta account with an authorization code from Meta's dialog",
        object_schema(
            {"accountId": STRING, "status": {"const": "connected"}, "permissions": STRINGS},
            {"expiresAt": NULLABLE_DATE_TIME, "platforms": _PLATFORMS, "warnings": STRINGS},
        ),
        request=object_schema({"code": STRING, "redirectUri": STRING}),
        errors=META_ERRORS,
    ),
    business_endpoint(
        "GET",
        "/api/meta/auth/status",
        auth_status,
        "The organization's Meta connection: expiry, permissions, connected platforms",
        object_schema(
            {
                "connected": BOOLEAN,
                "accountId": NULLABLE_STRING,
                "expiresAt": NULLABLE_DATE_TIME,
                "permissions": STRINGS,
                "platforms": _PLATFORMS,
            },
            {
                "status": STRING,
                "reauthorizationRequired": BOOLEAN,
                "dataAccessExpiresAt": NULLABLE_DATE_TIME,
                "lastCheckedAt": NULLABLE_DATE_TIME,
            },
        ),
    ),
    business_endpoint(
        "POST",
        "/api/meta/auth/refresh-token",
        auth_refresh_token,
        "Re-check a connection's token with Meta (Meta cannot extend it): the real expiry",
        object_schema(
            {"expiresAt": NULLABLE_DATE_TIME},
            {
                "status": STRING,
                "reauthorizationRequired": BOOLEAN,
                "extended": {"const": False},
                "reason": NULLABLE_STRING,
                "checkedAt": DATE_TIME,
            },
        ),
        request=object_schema({"accountId": STRING}),
        errors=META_ERRORS,
    ),
    business_endpoint(
        "GET",
        "/api/meta/facebook/pages",
        facebook_pages,
        "The organization's connected Facebook Pages",
        object_schema({"pages": array_of(_PAGE)}),
    ),
    business_endpoint(
        "POST",
        "/api/meta/facebook/pages/{pageId}/connect",
        facebook_page_connect,
        "(Re)connect a Page a stored Meta login reaches: fresh Page token, webhooks subscribed",
        object_schema(
            {"id": STRING, "pageId": STRING, "status": {"const": "connected"}},
            {"webhookSubscribed": BOOLEAN},
        ),
        errors=META_ERRORS,
    ),
    business_endpoint(
        "GET",
        "/api/meta/instagram/accounts",
        instagram_accounts,
        "The organization's connected Instagram accounts",
        object_schema({"accounts": array_of(_INSTAGRAM)}),
    ),
    business_endpoint(
        "POST",
        "/api/meta/instagram/accounts/{accountId}/connect",
        instagram_account_connect,
        "(Re)connect an Instagram account (row id or Instagram id) through its Page",
        object_schema(
            {"id": STRING, "igAccountId": STRING, "status": {"const": "connected"}},
            {"username": NULLABLE_STRING, "pageId": STRING},
        ),
        errors=META_ERRORS,
    ),
]
