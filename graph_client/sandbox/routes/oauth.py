"""Login: the OAuth dialog, code and token exchange, ``debug_token``, ``/me`` and the app node.

The dialog approves at once as the demo user (``sandbox_user=<id>`` picks another seeded user).
``deny=1`` makes it redirect the way Meta does when the user cancels, and
``decline=scope_a,scope_b`` grants everything but those scopes.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from graph_client.sandbox import auth
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.errors import MetaError, invalid_parameter, missing_parameter
from graph_client.sandbox.fields import parse_list
from graph_client.sandbox.graph import KINDS, Kind, authenticate, route, special
from graph_client.sandbox.models import App, AppSubscription, OAuthCode, Page, Token, User
from graph_client.sandbox.render import Edge, Field, NodeType, key_field, plain, register

# --- the dialog ---------------------------------------------------------------------------------


@special("dialog", "oauth")
def dialog(ctx: Ctx, request: Request) -> Response:
    config = ctx.core.config
    params = {k: str(v) for k, v in ctx.params.items()}
    if params.get("client_id") != config.app_id:
        return HTMLResponse(_page("Invalid App ID: the client_id does not match the app."), 400)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        return HTMLResponse(_page("URL Blocked: redirect_uri is required."), 400)
    state = params.get("state")
    separator = "&" if "?" in redirect_uri else "?"
    if params.get("deny") in {"1", "true"}:
        query = {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
        if state is not None:
            query["state"] = state
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}#_=_", 302)
    store = ctx.store
    user_id = params.get("sandbox_user") or store.demo_user_id
    if user_id is None or user_id not in store.users:
        return HTMLResponse(_page("No sandbox user: seed the sandbox first."), 400)
    declined = set(parse_list(params.get("decline", "")))
    scopes = [s for s in parse_list(params.get("scope", "").replace(" ", ",")) if s not in declined]
    if "public_profile" not in scopes:
        scopes.append("public_profile")
    response_type = params.get("response_type", "code")
    now = ctx.now
    if "token" in response_type.split() and "code" not in response_type.split():
        token = auth.issue_user_token(store, user_id, scopes, now, long_lived=False)
        fragment = {
            "access_token": token.value,
            "data_access_expiration_time": str(int(token.data_access_expires_at)),
            "expires_in": str(int(token.expires_at - now)),
        }
        if state is not None:
            fragment["state"] = state
        return RedirectResponse(f"{redirect_uri}#{urlencode(fragment)}", 302)
    code = "AQ" + secrets.token_urlsafe(180)
    store.codes[code] = OAuthCode(code, user_id, redirect_uri, scopes, now)
    query = {"code": code}
    if "granted_scopes" in response_type:
        query["granted_scopes"] = ",".join(scopes)
    if state is not None:
        query["state"] = state
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}#_=_", 302)


def _page(message: str) -> str:
    return f"<!DOCTYPE html><html><head><title>Error</title></head><body>{message}</body></html>"


# --- /oauth/access_token ------------------------------------------------------------------------


@special("oauth", "access_token")
def access_token(ctx: Ctx, request: Request) -> dict[str, Any]:
    config = ctx.core.config
    store = ctx.store
    now = ctx.now
    if ctx.param("client_id") != config.app_id:
        raise MetaError("Error validating application. Invalid application ID.", 101)
    grant_type = ctx.param("grant_type")
    if ctx.param("client_secret") != config.app_secret:
        raise MetaError("Error validating client secret.", 1)
    if grant_type == "client_credentials":
        return {"access_token": f"{config.app_id}|{config.app_secret}", "token_type": "bearer"}
    if grant_type == "fb_exchange_token":
        raw = ctx.require("fb_exchange_token")
        old = store.tokens.get(raw)
        if old is None:
            raise auth.invalid_token_error()
        auth.check_token(store, old, now)
        if old.kind != "USER" or old.user_id is None:
            raise invalid_parameter("fb_exchange_token must be a user access token")
        # A long-lived token cannot be extended by exchanging it again (facts §4).
        expires_at = old.expires_at if old.long_lived else None
        token = auth.issue_user_token(
            store, old.user_id, old.scopes, now, long_lived=True, expires_at=expires_at
        )
        return _token_response(token, now)
    code_value = ctx.param("code")
    if not code_value:
        raise missing_parameter("code")
    redirect_uri = ctx.param("redirect_uri")
    if redirect_uri is None:
        raise missing_parameter("redirect_uri")
    code = store.codes.get(code_value)
    if code is None:
        raise MetaError("Invalid verification code format.", 100, subcode=36006)
    if code.used:
        raise MetaError("This authorization code has been used.", 100, subcode=36009)
    if now - code.created_at > config.oauth_code_ttl_seconds:
        raise MetaError("This authorization code has expired.", 100, subcode=36007)
    if redirect_uri != code.redirect_uri:
        raise MetaError(
            "Error validating verification code. Please make sure your redirect_uri is identical "
            "to the one you used in the OAuth dialog request",
            100,
            subcode=36008,
        )
    code.used = True
    token = auth.issue_user_token(store, code.user_id, code.scopes, now, long_lived=False)
    return _token_response(token, now)


def _token_response(token: Token, now: float) -> dict[str, Any]:
    return {
        "access_token": token.value,
        "token_type": "bearer",
        "expires_in": max(0, int(token.expires_at - now)),
    }


# --- /debug_token -------------------------------------------------------------------------------


@special("debug_token")
def debug_token(ctx: Ctx, request: Request) -> dict[str, Any]:
    authenticate(ctx, request)  # an app token, or any valid token of this app
    raw = ctx.require("input_token")
    return {"data": describe_token(ctx, raw)}


def describe_token(ctx: Ctx, raw: str) -> dict[str, Any]:
    config = ctx.core.config
    store = ctx.store
    if raw == f"{config.app_id}|{config.app_secret}":
        return {
            "app_id": config.app_id,
            "type": "APP",
            "application": config.app_name,
            "is_valid": True,
            "scopes": [],
        }
    token = store.tokens.get(raw)
    if token is None:
        return {
            "error": {"code": 190, "message": "Invalid OAuth access token."},
            "is_valid": False,
            "scopes": [],
        }
    data: dict[str, Any] = {
        "app_id": config.app_id,
        "type": token.kind,
        "application": config.app_name,
        "data_access_expires_at": int(token.data_access_expires_at),
        "expires_at": int(token.expires_at),
    }
    problem = auth.token_problem(store, token, ctx.now)
    data["is_valid"] = problem is None
    if problem is not None:
        subcode, message = problem
        error: dict[str, Any] = {
            "code": 190,
            "message": f"Error validating access token: {message}",
        }
        if subcode is not None:
            error["subcode"] = subcode
        data["error"] = error
    data["issued_at"] = int(token.issued_at)
    if token.page_id is not None:
        data["profile_id"] = token.page_id
    data["scopes"] = list(token.scopes)
    granular = []
    for scope in token.scopes:
        if scope not in token.granular:
            continue
        targets = token.granular[scope]
        entry: dict[str, Any] = {"scope": scope}
        if targets is not None:
            entry["target_ids"] = list(targets)
        granular.append(entry)
    data["granular_scopes"] = granular
    data["user_id"] = token.user_id
    return data


# --- /me (the user) -----------------------------------------------------------------------------


def _accounts(ctx: Ctx, user: User, params: Any) -> list[Page]:
    token = ctx.token
    if token is None or token.kind != "USER":
        return []
    store = ctx.store
    business_ok = set(token.granular.get("business_management") or [])
    pages = []
    for page_id in auth.user_pages(store, token):
        page = store.page(page_id)
        if page is None:
            continue
        # Business-owned Pages only appear with business_management on that business (§0.3).
        if page.business_id is not None and page.business_id not in business_ok:
            continue
        pages.append(page)
    return pages


def _permissions(ctx: Ctx, user: User, params: Any) -> list[dict[str, str]]:
    token = ctx.token
    return [{"permission": s, "status": "granted"} for s in (token.scopes if token else [])]


def _picture(ctx: Ctx, obj: Any, spec: Any) -> dict[str, Any]:
    url = f"https://platform-lookaside.fbsbx.com/platform/profilepic/?asid={obj.id}&height=50"
    return {"data": {"height": 50, "is_silhouette": False, "url": url, "width": 50}}


register(
    NodeType(
        "User",
        {
            "id": plain("id"),
            "name": plain("name"),
            "first_name": plain("first_name"),
            "last_name": plain("last_name"),
            "email": plain("email"),
            "picture": Field(_picture),
        },
        edges={
            "accounts": Edge(
                _accounts,
                "Page",
                path=lambda user: f"{user.id}/accounts",
                fields=("access_token", "category", "category_list", "name", "id", "tasks"),
            ),
            "permissions": Edge(_permissions, "Permission", path=lambda u: f"{u.id}/permissions"),
        },
        default_fields=("name", "id"),
    )
)
register(
    NodeType(
        "Permission",
        {"permission": key_field("permission"), "status": key_field("status")},
        default_fields=("permission", "status"),
    )
)


def _user_visible(ctx: Ctx, user: User) -> bool:
    return ctx.token is not None and ctx.token.user_id == user.id


KINDS[User] = Kind("User", _user_visible)


# --- the app node: /{app-id}/subscriptions ------------------------------------------------------


def _subscriptions(ctx: Ctx, app: App, params: Any) -> list[AppSubscription]:
    return list(app.subscriptions.values())


register(
    NodeType(
        "Application",
        {
            "id": plain("id"),
            "name": plain("name"),
            "link": Field(lambda c, o, s: f"https://www.facebook.com/games/?app_id={o.id}"),
            "category": Field(lambda c, o, s: "Business"),
        },
        edges={"subscriptions": Edge(_subscriptions, "AppSubscription")},
        default_fields=("link", "name", "id"),
    )
)
register(
    NodeType(
        "AppSubscription",
        {
            "object": plain("object"),
            "callback_url": plain("callback_url"),
            "active": Field(lambda c, o, s: True),
            "fields": Field(lambda c, o, s: [{"name": f, "version": "v25.0"} for f in o.fields]),
        },
        default_fields=("object", "callback_url", "active", "fields"),
    )
)


def _app_visible(ctx: Ctx, app: App) -> bool:
    return ctx.token is not None and ctx.token.kind in {"APP", "USER"}


KINDS[App] = Kind("Application", _app_visible)


def _require_app_token(ctx: Ctx) -> None:
    if ctx.token is None or ctx.token.kind != "APP":
        raise MetaError("(#15) This method must be called with an app access_token.", 15)


@route(App, "subscriptions", "POST")
async def subscribe_app(ctx: Ctx, app: App) -> dict[str, Any]:
    _require_app_token(ctx)
    obj = ctx.require("object")
    if obj not in {"page", "instagram", "whatsapp_business_account", "user", "permissions"}:
        raise invalid_parameter(f'param object must be a valid object type - got "{obj}"')
    callback_url = ctx.require("callback_url")
    verify_token = ctx.param("verify_token") or ""
    result = await ctx.core.emitter.verify(callback_url, verify_token)
    if not result["ok"]:
        received = result.get("body", "")
        raise MetaError(
            "(#2200) callback verification failed: The URL couldn't be validated. Response does "
            f'not match challenge, expected value="{result["challenge"]}", received="{received}"',
            2200,
        )
    fields = parse_list(ctx.param("fields") or "")
    app.subscriptions[obj] = AppSubscription(obj, callback_url, verify_token, fields)
    return {"success": True}


@route(App, "subscriptions", "DELETE")
def unsubscribe_app(ctx: Ctx, app: App) -> dict[str, Any]:
    _require_app_token(ctx)
    obj = ctx.param("object")
    if obj:
        app.subscriptions.pop(obj, None)
    else:
        app.subscriptions.clear()
    return {"success": True}


def page_access_token(ctx: Ctx, page: Page) -> str | None:
    """``access_token`` on a Page: the Page token for a user with a role on it."""
    token = ctx.token
    if token is None:
        return None
    if token.kind == "PAGE":
        return token.value if token.page_id == page.id else None
    if token.kind == "USER" and page.id in auth.user_pages(ctx.store, token):
        return auth.page_token_for(ctx.store, token, page.id).value
    return None


def page_tasks(ctx: Ctx, page: Page) -> list[str] | None:
    token = ctx.token
    if token is None or token.user_id is None or token.kind != "USER":
        return None
    user = ctx.store.users.get(token.user_id)
    if user is None:
        return None
    return list(user.page_tasks.get(page.id, [])) or None
