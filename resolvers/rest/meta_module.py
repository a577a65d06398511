"""spec/meta-module-api.md family: verify a user token, the Pages every stored login reaches,
mapping a client of the business's own system to a Page, that client's Instagram grid, and an
Instagram post of a mapped account. Errors: ``{"detail": "..."}``.

A "token" of that document is a stored Meta login (a MetaConnection): ``token_id`` is its id.
Tokens themselves are never answered (``page_access_token`` is always null).
"""

from __future__ import annotations

from typing import Any

from domain.errors import NotFoundError
from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid
from domain.services.module_api import (
    LoginUnavailable,
    map_client_page,
    reachable_pages,
    verify_user_token,
)
from domain.services.module_instagram import (
    PageTokenUnavailable,
    client_instagram_grid,
    mapped_instagram_post,
    post_fields,
)
from resolvers.rest.common import (
    BOOLEAN,
    NULLABLE_DATE_TIME,
    NULLABLE_INTEGER,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array_of,
    iso,
    meta_id_value,
    object_schema,
    optional_text_field,
    retry_after_header,
    text_field,
    translating_meta_errors,
    uuid_value,
)
from resolvers.rest.families import META_MODULE, RestError
from resolvers.rest.routing import Endpoint, Handler, RestContext

Json = dict[str, Any]

TOKEN_INVALID = "Token expired or invalid"  # noqa: S105 - a message, not a secret
NO_INSTAGRAM = "No Instagram account linked"
POST_NOT_FOUND = "Post not found or not mapped"


def meta_failure(exc: MetaError) -> RestError:
    """How this family answers when Meta refuses or fails (its error table)."""
    if isinstance(exc, MetaTokenInvalid):
        return RestError(400, TOKEN_INVALID)
    if isinstance(exc, MetaRateLimited):
        return RestError(
            429, "Meta's rate limit was reached; retry later", headers=retry_after_header(exc)
        )
    code = f" (#{exc.meta_code})" if exc.meta_code is not None else ""
    return RestError(502, f"Meta API error{code}: {exc.message}")


async def verify_user(ctx: RestContext) -> Json:
    """Who a token belongs to, for confirmation before it is stored; nothing is saved."""
    body = await ctx.json_body()
    token = text_field(body, "access_token", max_length=4096)
    label = optional_text_field(body, "account_label")
    user = await verify_user_token(ctx.services.meta, token)
    return {
        "user_id": user.meta_user_id,
        "user_name": user.name,
        # MetaGateway.me answers id and name only; no picture until the port offers one.
        "profile_picture": None,
        "account_label": label,
        "token_type": user.token_type,
        "scopes": user.scopes,
        "expires_at": iso(user.expires_at),
    }


async def pages(ctx: RestContext) -> Json:
    services = ctx.services
    found, skipped = await reachable_pages(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        notify=services.notify,
    )
    return {
        "pages": [
            {
                "account_label": r.login.label,
                "token_id": str(r.login.connection_id),
                "fb_page_id": r.page.meta_page_id,
                "fb_page_name": r.page.name,
                "fb_page_picture": r.page.picture_url,
                "page_access_token": None,
                "ig_account_id": r.page.instagram_id,
            }
            for r in found
        ],
        # Additive: the logins left out, and why (a rejected token is now marked inactive).
        "skipped_tokens": [
            {
                "token_id": str(s.login.connection_id),
                "account_label": s.login.label,
                "detail": TOKEN_INVALID
                if isinstance(s.error, MetaTokenInvalid)
                else s.error.message,
            }
            for s in skipped
        ],
    }


async def sync(ctx: RestContext) -> Json:
    body = await ctx.json_body()
    client_id = text_field(body, "client_id")
    fb_page_id = meta_id_value(body.get("fb_page_id"), "fb_page_id")
    raw_ig = body.get("ig_account_id")
    ig_account_id = None if raw_ig in (None, "") else meta_id_value(raw_ig, "ig_account_id")
    token_id = uuid_value(body.get("token_id"), "token_id")
    services = ctx.services
    try:
        result = await map_client_page(
            services.uow(),
            services.meta,
            services.vault,
            organization_id=ctx.viewer.organization_id,
            connection_id=token_id,
            client_id=client_id,
            fb_page_id=fb_page_id,
            ig_account_id=ig_account_id,
            notify=services.notify,
        )
    except LoginUnavailable as exc:
        # The document answers a missing token with 400 (another organization's looks the same).
        raise RestError(400, exc.message, field="token_id") from exc
    return {
        "success": True,
        "created": result.created,
        "ig_account_id": result.mapping.ig_account_id,
    }


async def instagram(ctx: RestContext) -> Json:
    """The mapped client's Instagram profile and newest media (cached 300 s per account)."""
    services = ctx.services
    try:
        grid = await client_instagram_grid(
            services.uow(),
            services.meta,
            services.vault,
            services.cache,
            organization_id=ctx.viewer.organization_id,
            client_id=ctx.request.path_params["client_id"],
        )
    except PageTokenUnavailable as exc:
        raise RestError(400, TOKEN_INVALID) from exc
    # The document answers 200 with only a detail here: a soft failure, the Page still works.
    return {"detail": NO_INSTAGRAM} if grid is None else grid


async def post(ctx: RestContext) -> Json:
    post_id = meta_id_value(ctx.request.path_params["post_id"], "post_id")
    services = ctx.services
    try:
        found = await mapped_instagram_post(
            services.uow(),
            services.meta,
            services.vault,
            services.cache,
            organization_id=ctx.viewer.organization_id,
            post_id=post_id,
        )
    except NotFoundError as exc:
        raise RestError(404, POST_NOT_FOUND) from exc
    except PageTokenUnavailable as exc:
        raise RestError(400, TOKEN_INVALID) from exc
    return post_fields(found)


# --- declarations --------------------------------------------------------------------------------


def _endpoint(
    method: str, path: str, handler: Handler, summary: str, response: Json, request: Json | None
) -> Endpoint:
    return Endpoint(
        META_MODULE,
        method,
        path,
        translating_meta_errors(handler, meta_failure),
        summary,
        request_schema=request,
        response_schema=response,
        # meta_failure's: a token Meta rejects is the document's 400; Meta's limit, failure.
        errors=(400, 429, 502),
    )


MEDIA_FIELDS: Json = {
    "id": STRING,
    "caption": NULLABLE_STRING,
    "media_url": NULLABLE_STRING,
    "media_type": NULLABLE_STRING,
    "thumbnail_url": NULLABLE_STRING,
    # Meta's format, as documented: 2025-12-18T10:30:00+0000
    "timestamp": NULLABLE_STRING,
    "permalink": NULLABLE_STRING,
}
MEDIA_ADDITIVE: Json = {"media_product_type": NULLABLE_STRING}
GRID_SCHEMA: Json = {
    "oneOf": [
        object_schema(
            {
                "profile": object_schema(
                    {
                        "followers_count": NULLABLE_INTEGER,
                        "follows_count": NULLABLE_INTEGER,
                        "media_count": NULLABLE_INTEGER,
                        "username": NULLABLE_STRING,
                        "profile_picture_url": NULLABLE_STRING,
                    }
                ),
                "media": array_of(object_schema(MEDIA_FIELDS, MEDIA_ADDITIVE)),
            }
        ),
        object_schema({"detail": {"const": NO_INSTAGRAM}}),
    ]
}
POST_SCHEMA = object_schema(
    {**MEDIA_FIELDS, "like_count": NULLABLE_INTEGER, "comments_count": NULLABLE_INTEGER},
    MEDIA_ADDITIVE,
)

ENDPOINTS: list[Endpoint] = [
    _endpoint(
        "POST",
        "/api/meta/verify-user/",
        verify_user,
        "Check a Meta user token with Meta and say whose it is (nothing is stored)",
        object_schema(
            {"user_id": STRING, "user_name": NULLABLE_STRING, "profile_picture": NULLABLE_STRING},
            {
                "account_label": NULLABLE_STRING,
                "token_type": NULLABLE_STRING,
                "scopes": STRINGS,
                "expires_at": NULLABLE_DATE_TIME,
            },
        ),
        object_schema({"access_token": STRING}, {"account_label": STRING}),
    ),
    _endpoint(
        "GET",
        "/api/meta/pages/",
        pages,
        "Every Page the organization's active stored Meta logins reach",
        object_schema(
            {
                "pages": array_of(
                    object_schema(
                        {
                            "account_label": STRING,
                            "token_id": STRING,
                            "fb_page_id": STRING,
                            "fb_page_name": STRING,
                            "fb_page_picture": NULLABLE_STRING,
                            "page_access_token": {"type": "null"},
                            "ig_account_id": NULLABLE_STRING,
                        },
                    )
                )
            },
            {
                "skipped_tokens": array_of(
                    object_schema({"token_id": STRING, "account_label": STRING, "detail": STRING})
                )
            },
        ),
        None,
    ),
    _endpoint(
        "POST",
        "/api/meta/sync/",
        sync,
        "Map a client id to a Page: Page token fetched and stored encrypted, Instagram detected",
        object_schema(
            {"success": {"const": True}, "created": BOOLEAN}, {"ig_account_id": NULLABLE_STRING}
        ),
        object_schema(
            {"client_id": STRING, "fb_page_id": STRING, "token_id": STRING},
            {"ig_account_id": NULLABLE_STRING},
        ),
    ),
    _endpoint(
        "GET",
        "/api/meta/instagram/{client_id}/",
        instagram,
        "The mapped client's Instagram profile and newest media (cached 300 s per account); "
        f'200 {{"detail": "{NO_INSTAGRAM}"}} when its Page has none',
        GRID_SCHEMA,
        None,
    ),
    _endpoint(
        "GET",
        "/api/meta/post/{post_id}/",
        post,
        "One Instagram post with its counts, if it belongs to an Instagram account mapped "
        "in the organization",
        POST_SCHEMA,
        None,
    ),
]
