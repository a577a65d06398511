"""ASGI middleware: request ids and structured access logs, Prometheus metrics, CORS."""

from __future__ import annotations

import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("metasync_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("metasync_http_request_seconds", "HTTP request latency", ["method", "route"])

log = structlog.get_logger("metasync.http")


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # The route template, never the raw path: raw paths would explode label cardinality.
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``, echoed back), binds it to all log lines
    of the request, logs one access line, and records metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status_holder = {"status": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if scope["type"] == "http":
                elapsed = time.perf_counter() - start
                route = _route_label(scope)
                method = scope.get("method", "")
                REQUESTS.labels(method, route, str(status_holder["status"])).inc()
                LATENCY.labels(method, route).observe(elapsed)
                log.info(
                    "http_request",
                    method=method,
                    path=scope.get("path"),
                    status=status_holder["status"],
                    duration_ms=round(elapsed * 1000, 2),
                )


class OriginCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a request from an origin not in CORS_ORIGINS gets no CORS
    header at all (Starlette still lists the allowed methods and headers to a preflight, and
    the exposed headers to a simple request): another site learns nothing about the API's
    cross-origin surface."""

    async def simple_response(
        self, scope: Scope, receive: Receive, send: Send, request_headers: Headers
    ) -> None:
        origin = request_headers.get("origin")
        if origin is not None and not self.is_allowed_origin(origin=origin):
            await self.app(scope, receive, send)
            return
        await super().simple_response(scope, receive, send, request_headers)

    def preflight_response(self, request_headers: Headers) -> Response:
        if not self.is_allowed_origin(origin=request_headers["origin"]):
            return PlainTextResponse("Disallowed CORS origin", status_code=400)
        return super().preflight_response(request_headers)
