"""The Graph API dispatcher: ``/{version}/{id}[/{edge}]`` by object kind, edge and method.

Handlers are registered per (kind, edge, method) by the ``routes`` modules. Without a handler a
GET renders the node or edge generically; anything else is answered with Meta's errors for
unsupported operations and unknown path components (there is no archive/mute/mark-read edge on
a conversation, so those calls fail exactly like any unknown edge).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import Response

from graph_client.sandbox import auth
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.core import Core
from graph_client.sandbox.encoding import dumps
from graph_client.sandbox.errors import (
    MetaError,
    invalid_parameter,
    new_trace_id,
    unknown_path,
    unsupported_request,
)
from graph_client.sandbox.faults import FaultRule
from graph_client.sandbox.fields import FieldSpec, parse_fields
from graph_client.sandbox.models import Token
from graph_client.sandbox.render import NODES, render, render_connection, validate
from graph_client.sandbox.usage import BUC_ERRORS, buc_header, rate_limit_error, usage_value

VERSION_RE = re.compile(r"^v\d+\.\d+$")
Handler = Callable[[Ctx, Any], Any]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Kind:
    node: str
    visible: Callable[[Ctx, Any], bool]
    # (business object id, BUC type) the call is billed to, for usage headers.
    target: Callable[[Ctx, Any], tuple[str, str] | None] = lambda ctx, obj: None


KINDS: dict[type, Kind] = {}
ROUTES: dict[tuple[type, str | None, str], Handler] = {}
# Paths that need no object lookup: ("oauth", "access_token"), ("debug_token",)...
SPECIAL: dict[tuple[str, ...], Handler] = {}


def route(cls: type, edge: str | None, method: str) -> Callable[[H], H]:
    def decorator(fn: H) -> H:
        ROUTES[(cls, edge, method)] = fn
        return fn

    return decorator


def special(*path: str) -> Callable[[H], H]:
    def decorator(fn: H) -> H:
        SPECIAL[path] = fn
        return fn

    return decorator


def selection(ctx: Ctx) -> tuple[FieldSpec, ...] | None:
    raw = ctx.param("fields")
    return parse_fields(raw) if raw else None


def render_object(ctx: Ctx, obj: Any) -> dict[str, Any]:
    kind = KINDS[type(obj)]
    specs = selection(ctx)
    if specs is not None:
        validate(NODES[kind.node], specs)
    return render(ctx, kind.node, obj, specs)


def render_edge(ctx: Ctx, obj: Any, edge_name: str) -> dict[str, Any]:
    edge = NODES[KINDS[type(obj)].node].edges[edge_name]
    specs = selection(ctx)
    if specs is not None:
        validate(NODES[edge.node], specs)
    params = {k: ctx.param(k) or "" for k in ctx.params}
    return render_connection(ctx, edge, obj, params, specs)


# --- the ASGI side ------------------------------------------------------------------------------


async def handle(core: Core, request: Request, path: str) -> Response:
    segments = [segment for segment in path.split("/") if segment]
    version = "v25.0"
    if segments and VERSION_RE.match(segments[0]):
        version = segments.pop(0)
    headers = {
        "facebook-api-version": version,
        "x-fb-trace-id": new_trace_id()[:11],
        "x-fb-rev": "1026474843",
        "x-fb-debug": new_trace_id() + new_trace_id(),
        "access-control-allow-origin": "*",
        "cache-control": "private, no-cache, no-store, must-revalidate",
        "pragma": "no-cache",
        "expires": "Sat, 01 Jan 2000 00:00:00 GMT",
        **core.config.extra_headers,
    }
    ctx = Ctx(core=core, method=request.method, version=version, params={})
    status = 200
    try:
        ctx.params = await _params(request)
        path = "/" + "/".join(segments)
        core.log_call(request.method, path, ctx.params)
        token = bearer(request, ctx.params)
        rule = await _pick_fault(core, request.method, path)
        if rule is not None and not rule.applied:
            fault = await _fault_response(core, rule, request.method, path, token)
            if fault is not None:
                return fault
        core.tick()
        payload = await dispatch(ctx, segments, request)
        if rule is not None and rule.applied:
            # The call took effect; only its answer is lost on the way back.
            fault = await _fault_response(core, rule, request.method, path, token)
            if fault is not None:
                return fault
        if isinstance(payload, Response):
            return payload
    except MetaError as error:
        payload, status = error.body(), error.status
        headers.update(error.headers)
        if error.code == 190:
            headers["www-authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'
            )
    if not any(key.startswith("x-") and key.endswith("-usage") for key in headers):
        kind = ctx.token.kind if ctx.token else None
        headers.update(core.usage.headers(core.now(), ctx.usage_target, kind))
    headers.update(ctx.extra_headers)
    if status != 200 and ctx.param("suppress_http_code") == "1":
        status = 200  # Meta's escape hatch for clients that cannot read error bodies
    return Response(dumps(payload), status, headers, media_type="application/json; charset=UTF-8")


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method in {"POST", "DELETE"}:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if body and "json" in content_type:
            try:
                data = json.loads(body)
            except ValueError:
                raise invalid_parameter("The request body is not valid JSON") from None
            if not isinstance(data, dict):
                raise invalid_parameter("The request body must be a JSON object")
            params.update(data)
        elif body and "multipart" in content_type:
            raise invalid_parameter(
                "The sandbox does not accept multipart uploads; pass a url parameter instead"
            )
        elif body:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


async def _pick_fault(core: Core, method: str, path: str) -> FaultRule | None:
    """The injected latency, then the fault rule this call draws (if any)."""
    faults = core.faults
    delay = faults.delay_seconds()
    if delay:
        await asyncio.sleep(delay)
    return faults.pick(method, path)


async def _fault_response(
    core: Core, rule: FaultRule, method: str, path: str, token: str | None
) -> Response | None:
    """What the caller sees instead of the answer; None: answer normally (after a sleep)."""
    if rule.kind == "timeout":
        if rule.mode == "raise":
            raise httpx.ReadTimeout("sandbox: simulated timeout")
        await asyncio.sleep(rule.sleep_seconds)
        return None
    if rule.kind == "rate_limit":
        return _rate_limited(core, rule.code, rule.estimated_minutes, path)
    if rule.kind == "meta_error":
        message = rule.message or f"(#{rule.code}) Injected error"
        error = MetaError(message, rule.code, subcode=rule.subcode, status=rule.status)
        return Response(dumps(error.body()), rule.status, media_type="application/json")
    if rule.body == "html":
        html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
        return Response(html, rule.status, media_type="text/html")
    if rule.body == "empty":
        return Response(b"", rule.status)
    if rule.body == "echo":
        # An error quoting the request's token back (as Meta's input-echoing messages and some
        # proxies do): what metasync must never pass on to its callers or its logs.
        echoed = MetaError(
            f"Malformed access token {token} (access_token={token}) for {method} {path}",
            100,
            status=rule.status,
        )
        return Response(dumps(echoed.body()), rule.status, media_type="application/json")
    if rule.code == 1:
        error = MetaError("An unknown error occurred", 1, subcode=99, status=rule.status)
    else:
        error = MetaError(
            "An unexpected error has occurred. Please retry your request later.",
            rule.code,
            is_transient=True,
            status=rule.status,
        )
    return Response(dumps(error.body()), rule.status, media_type="application/json")


def _rate_limited(core: Core, code: int, minutes: int, path: str) -> Response:
    """A rate-limit error with usage headers at 100%, billed to the path's first object."""
    full = usage_value(100)
    headers = {"x-app-usage": dumps(full).decode()}
    if code == 32:
        headers["x-page-usage"] = dumps(full).decode()
    elif code >= 80000 or code == 613:
        first = path.strip("/").split("/")[0]
        owner = core.config.app_id if first in {"", "me"} else first
        buc_type = next((t for t, (c, _) in BUC_ERRORS.items() if c == code), "pages")
        headers["x-business-use-case-usage"] = buc_header(owner, buc_type, 100, minutes)
    error = rate_limit_error(code)
    return Response(dumps(error.body()), error.status, headers, media_type="application/json")


async def dispatch(ctx: Ctx, segments: list[str], request: Request) -> Any:
    method = ctx.method
    handler = SPECIAL.get(tuple(segments))
    if handler is not None:
        return await _call(handler, ctx, request)
    if not segments:
        raise unknown_path("/")
    authenticate(ctx, request)
    token = ctx.token
    assert token is not None
    first = segments[0]
    obj = _me(ctx, token) if first == "me" else ctx.store.get(first)
    kind = KINDS.get(type(obj)) if obj is not None else None
    if kind is None or not kind.visible(ctx, obj):
        raise unsupported_request(method, first)
    ctx.usage_target = kind.target(ctx, obj)
    ctx.core.usage.check(ctx.now, ctx.usage_target, token.kind)
    ctx.core.usage.record(ctx.now, ctx.usage_target)
    if len(segments) > 2:
        raise unknown_path("/" + "/".join(segments[2:]))
    edge = segments[1] if len(segments) == 2 else None
    handler = ROUTES.get((type(obj), edge, method))
    if handler is not None:
        return await _call(handler, ctx, obj)
    node = NODES[kind.node]
    if edge is None:
        if method == "GET":
            return render_object(ctx, obj)
        raise unsupported_request(method, first)
    if edge in node.edges:
        if method == "GET":
            return render_edge(ctx, obj, edge)
        raise unsupported_request(method, first)
    raise unknown_path("/" + edge)


async def _call(handler: Handler, ctx: Ctx, arg: Any) -> Any:
    result = handler(ctx, arg)
    if inspect.isawaitable(result):
        result = await result
    return result


def _me(ctx: Ctx, token: Token) -> Any:
    if token.kind == "PAGE" and token.page_id:
        return ctx.store.page(token.page_id)
    if token.kind == "USER" and token.user_id:
        return ctx.store.users.get(token.user_id)
    if token.kind == "APP":
        return ctx.store.app
    return None


def bearer(request: Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    value = params.get("access_token")
    return str(value) if value else None


def authenticate(ctx: Ctx, request: Request) -> Token:
    """The call's token, after Meta's checks (presence, validity, appsecret_proof)."""
    raw = bearer(request, ctx.params)
    if not raw:
        raise MetaError("An access token is required to request this resource.", 104)
    core = ctx.core
    config = core.config
    now = ctx.now
    ctx.raw_token = raw
    if raw == f"{config.app_id}|{config.app_secret}":
        ctx.token = Token(value=raw, kind="APP", issued_at=0, expires_at=0)
        return ctx.token
    token = ctx.store.tokens.get(raw)
    if token is None:
        raise auth.invalid_token_error()
    auth.check_token(ctx.store, token, now)
    auth.check_proof(
        raw,
        config.app_secret,
        ctx.param("appsecret_proof"),
        ctx.param("appsecret_time"),
        required=config.require_appsecret_proof,
        now=now,
    )
    ctx.token = token
    return token
