"""The /api rate limit of spec/social-service-architecture.md: N requests per window per client
(the user of a valid token, else the address), then 429 in the path's family envelope with
Retry-After and X-RateLimit-* headers; Meta's webhooks, health and cron are never throttled.

These tests build apps of their own with a small limit (the suite's app allows far more) and
call from addresses and users of their own, so no other test's requests count here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import ValidationError

from server import Runtime, build_runtime, close_runtime, create_app
from settings import Settings
from tests.conftest import Tenant, create_tenant, make_settings, requires_redis

WINDOW = 7 * 60
LIMIT = 5


def _address() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@asynccontextmanager
async def limited_app(
    runtime: Runtime, limit: str = f"{LIMIT}/7 minutes"
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """A clients factory (by address) for an app limited to ``limit``, on the suite's
    database and Redis."""
    settings = make_settings(runtime.settings.DATABASE_URL, API_RATE_LIMIT=limit)
    rt = build_runtime(settings)
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://metasync.test")

    try:
        yield client
    finally:
        await close_runtime(rt)


async def test_each_user_gets_the_limit_then_429_with_retry_after(runtime: Runtime) -> None:
    alice, bob = await create_tenant(runtime, "rl-a"), await create_tenant(runtime, "rl-b")
    async with limited_app(runtime) as client, client(_address()) as http:
        started = time.time()
        for n in range(LIMIT):
            ok = await http.get("/api/social/accounts", headers=alice.headers)
            assert ok.status_code == 200, ok.text
            assert ok.headers["X-RateLimit-Limit"] == str(LIMIT)
            assert ok.headers["X-RateLimit-Remaining"] == str(LIMIT - 1 - n)
            reset = int(ok.headers["X-RateLimit-Reset"])
            assert started < reset <= started + WINDOW + 2  # whole seconds, rounded up
        refused = await http.get("/api/social/accounts", headers=alice.headers)
        assert refused.status_code == 429
        retry_after = int(refused.headers["Retry-After"])
        assert 0 < retry_after <= WINDOW
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        # The social family's envelope, with the spec's message.
        assert refused.json() == {
            "error": "rate_limit",
            "message": "Too many requests, please try again later",
            "retryAfter": retry_after,
        }
        # Every /api family is limited, each answering in its own envelope.
        sync_family = await http.get(
            "/api/facebook/pages/00000000-0000-4000-8000-000000000000/sync-status",
            headers=alice.headers,
        )
        assert sync_family.status_code == 429
        assert sync_family.json()["success"] is False
        assert sync_family.json()["status"] == 429
        business = await http.get("/api/meta/auth/status", headers=alice.headers)
        assert business.json()["error"]["code"] == "RATE_LIMITED"
        # Another user from the same address has a budget of their own.
        other = await http.get("/api/social/accounts", headers=bob.headers)
        assert other.status_code == 200
        assert other.headers["X-RateLimit-Remaining"] == str(LIMIT - 1)


async def test_anonymous_and_forged_token_callers_are_counted_by_address(
    runtime: Runtime, tenant: Tenant
) -> None:
    address = _address()
    async with limited_app(runtime) as client, client(address) as http:
        forged = {"Authorization": "Bearer not.a.token"}
        for n in range(LIMIT):
            answer = await http.get("/api/social/accounts", headers=forged if n % 2 else {})
            assert answer.status_code == 401
        assert (await http.get("/api/social/accounts")).status_code == 429
        assert (await http.get("/api/social/accounts", headers=forged)).status_code == 429
        # A valid token is its user's budget, not the address's.
        assert (await http.get("/api/social/accounts", headers=tenant.headers)).status_code == 200
        # Another address is not affected.
        async with client(_address()) as elsewhere:
            assert (await elsewhere.get("/api/social/accounts")).status_code == 401


async def test_webhooks_health_cron_and_graphql_are_not_throttled(
    runtime: Runtime, tenant: Tenant
) -> None:
    async with limited_app(runtime, "2/7 minutes") as client, client(_address()) as http:
        for _ in range(4):
            for path in ("/api/health", "/health"):
                assert (await http.get(path)).status_code in (200, 503)
            # Meta's deliveries: refused for their (missing) signature, never for the rate.
            for path in ("/api/webhook", "/api/meta/webhook/events", "/webhooks/meta"):
                answer = await http.post(path, content=b"{}")
                assert answer.status_code == 401
                assert "X-RateLimit-Limit" not in answer.headers
            cron = await http.get("/api/cron/sync-all-pages")
            assert cron.status_code == 401
            graphql = await http.post(
                "/graphql", json={"query": "{ viewer { email } }"}, headers=tenant.headers
            )
            assert graphql.status_code == 200


@requires_redis
async def test_the_count_is_shared_by_every_api_server_through_redis(runtime: Runtime) -> None:
    user = await create_tenant(runtime, "rl-shared")
    address = _address()
    async with (
        limited_app(runtime) as one,
        limited_app(runtime) as two,
        one(address) as first,
        two(address) as second,
    ):
        statuses = []
        for n in range(LIMIT + 2):
            http = first if n % 2 else second
            answer = await http.get("/api/social/accounts", headers=user.headers)
            statuses.append(answer.status_code)
    # Five between the two servers, then both refuse.
    assert statuses == [200] * LIMIT + [429, 429]


def test_an_unreadable_limit_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValidationError, match="API_RATE_LIMIT"):
        Settings(API_RATE_LIMIT="a hundred a day")
    assert Settings().API_RATE_LIMIT == "100/15 minutes"
