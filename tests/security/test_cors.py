"""CORS only for CORS_ORIGINS (issue #9, item 10): preflights and simple requests from a listed
origin get the headers, on REST and GraphQL; from any other origin they get none. (The
WebSocket's Origin check: tests/security/test_websocket.py.)"""

from __future__ import annotations

import httpx
import pytest

from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import Tenant, make_settings

ALLOWED = "http://frontend.test"  # the suite's CORS_ORIGINS
FOREIGN = "http://evil.example"
PATHS = ("/api/social/accounts", "/graphql")


async def _simple(
    client: httpx.AsyncClient, path: str, origin: str, tenant: Tenant
) -> httpx.Response:
    headers = {"Origin": origin, **tenant.headers}
    if path == "/graphql":
        return await client.post(path, json={"query": "{ viewer { email } }"}, headers=headers)
    return await client.get(path, headers=headers)


async def _preflight(client: httpx.AsyncClient, path: str, origin: str) -> httpx.Response:
    return await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST" if path == "/graphql" else "GET",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


@pytest.mark.parametrize("path", PATHS)
async def test_listed_origin_gets_the_headers(
    client: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    preflight = await _preflight(client, path, ALLOWED)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    simple = await _simple(client, path, ALLOWED, tenant)
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == ALLOWED
    # The page may read the rate-limit state and the request id.
    exposed = simple.headers["access-control-expose-headers"].lower()
    assert "x-ratelimit-remaining" in exposed
    assert "retry-after" in exposed


@pytest.mark.parametrize("path", PATHS)
async def test_foreign_origin_gets_none(
    client: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    preflight = await _preflight(client, path, FOREIGN)
    assert preflight.status_code == 400
    simple = await _simple(client, path, FOREIGN, tenant)
    for response in (preflight, simple):
        assert not [h for h in response.headers if h.startswith("access-control-")]


async def test_no_cors_origins_means_no_cross_origin_access(
    runtime: Runtime, tenant: Tenant
) -> None:
    rt = build_runtime(make_settings(runtime.settings.DATABASE_URL, CORS_ORIGINS=[]))
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
        ) as client:
            for path in PATHS:
                for origin in (ALLOWED, FOREIGN):
                    for response in (
                        await _preflight(client, path, origin),
                        await _simple(client, path, origin, tenant),
                    ):
                        assert not [h for h in response.headers if h.startswith("access-control-")]
    finally:
        await close_runtime(rt)
