"""The /api rate limit of spec/social-service-architecture.md ("API Rate Limiting": 100
requests per 15-minute window per client, then 429), as ASGI middleware.

A client is the authenticated user when the request carries a valid bearer token (so people
behind one office NAT do not share a budget), else the connecting address. Counting uses
fixed windows, like the spec's express-rate-limit, in Redis when REDIS_URL is set (every API
server shares the count) or in process memory otherwise. Every counted response carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix seconds),
as express-rate-limit sends them; a refused one also ``Retry-After``, in the envelope of the
REST family that owns the path.
"""

from __future__ import annotations

import math
import time
from typing import Any

import redis.asyncio as aioredis
import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.auth import AuthenticationError, JwtCodec, bearer_token
from resolvers.rest.families import SOCIAL, RestError, family_for_path
from resolvers.rest.routing import error_response

log = structlog.get_logger(__name__)

PREFIX = "/api"
MESSAGE = "Too many requests, please try again later"
# Not the callers the limit is for: Meta's webhook deliveries (throttling them would make Meta
# retry, then disable the subscription; they are authenticated by signature and answered
# after one insert), health probes (a load balancer polls them), and the cron endpoint (one
# scheduler, authenticated by CRON_SECRET).
EXEMPT_PATHS = frozenset({"/api/webhook", "/api/meta/webhook/events", "/api/health"})
EXEMPT_PREFIXES = ("/api/cron/",)
RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
)


def parse_limit(text: str) -> RateLimitItem:
    """``100/15 minutes`` (the limits library's notation); ValueError if unreadable."""
    return parse(text)


class RateLimitStore:
    """Where the counts live: Redis (shared by every API server) or this process's memory.
    Owns its Redis connections, so the runtime can close them."""

    def __init__(self, redis_url: str | None) -> None:
        self._pool: aioredis.ConnectionPool | None = None
        if redis_url is None:
            self.storage: Storage = MemoryStorage()
            return
        self._pool = aioredis.ConnectionPool.from_url(redis_url)
        # limits types its options as scalars, but hands them to redis.asyncio.Redis.
        options: dict[str, Any] = {"connection_pool": self._pool}
        self.storage = RedisStorage(
            "async+" + redis_url,  # the connections come from the pool; this picks the driver
            implementation="redispy",
            key_prefix="metasync:api-limit",
            **options,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class ApiRateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: str, jwt: JwtCodec, store: RateLimitStore) -> None:
        self.app = app
        self.item = parse_limit(limit)
        self.jwt = jwt
        self.limiter = FixedWindowRateLimiter(store.storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._counted(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = self._client(scope)
        try:
            allowed = await self.limiter.hit(self.item, client)
            stats = await self.limiter.get_window_stats(self.item, client)
        except Exception:
            # The limit protects the API; an unreachable Redis must not take the API down.
            log.warning("api_rate_limit_unavailable", exc_info=True)
            await self.app(scope, receive, send)
            return
        reset = math.ceil(stats.reset_time)
        headers = {
            "X-RateLimit-Limit": str(self.item.amount),
            "X-RateLimit-Remaining": str(stats.remaining),
            "X-RateLimit-Reset": str(reset),
        }
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            family = family_for_path(scope["path"]) or SOCIAL
            err = RestError(
                429,
                MESSAGE,
                details={"retryAfter": retry_after},
                headers={**headers, "Retry-After": str(retry_after)},
            )
            await error_response(family, err)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _counted(path: str) -> bool:
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return False
        return path not in EXEMPT_PATHS and not path.startswith(EXEMPT_PREFIXES)

    def _client(self, scope: Scope) -> str:
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization")
        if header is not None:
            try:
                # Signature and expiry only (no database): a forged token counts as its address.
                user_id, _ = self.jwt.decode(bearer_token(header.decode("latin-1")))
                return f"user:{user_id}"
            except AuthenticationError:
                pass
        # The connecting address; behind a proxy, run uvicorn with --proxy-headers and
        # --forwarded-allow-ips so this is the client's, never a header anyone can set.
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"
