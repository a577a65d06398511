"""The five REST families, each answering errors in its own documented envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.errors import InvalidInputError, NotFoundError
from resolvers.rest.families import (
    AUTO_CONNECT,
    FACEBOOK_SYNC,
    META_BUSINESS,
    META_MODULE,
    SOCIAL,
    Family,
)
from resolvers.rest.routing import Endpoint, RestContext
from server import Runtime, create_app
from tests.conftest import Tenant

# A path under each family, as its document lays them out.
FAMILY_PATHS = {
    FACEBOOK_SYNC: "/api/facebook/pages/{x}/probe",
    META_BUSINESS: "/api/meta/whatsapp/probe/{x}",
    SOCIAL: "/api/social/probe/{x}",
    META_MODULE: "/api/meta/probe/{x}/",
    AUTO_CONNECT: "/api/cron/probe/{x}",
}


def _probe_endpoints() -> list[Endpoint]:
    """Endpoints that fail on demand, declared through the same frame real ones use."""

    async def probe(ctx: RestContext) -> dict[str, Any]:
        what = ctx.request.path_params["x"]
        if what == "bad":
            raise InvalidInputError("limit", "must be between 1 and 100")
        if what == "missing":
            raise NotFoundError("Page")
        if what == "boom":
            raise RuntimeError("secret internal detail EAAB1234567890abcdefghijkl")
        body = await ctx.json_body()
        return {"ok": True, "viewer": ctx.viewer.email, "body": body}

    return [
        Endpoint(family, method, path, probe, f"probe {family.name}")
        for family, path in FAMILY_PATHS.items()
        for method in ("GET", "POST")
    ]


@pytest.fixture
async def probe_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        runtime,
        migrate_on_start=False,
        run_worker=False,
        run_scheduler=False,
        extra_endpoints=_probe_endpoints(),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://metasync.test",
    ) as client:
        yield client


def _assert_envelope(family: Family, body: dict[str, Any], status: int, text: str) -> None:
    if family in (FACEBOOK_SYNC, AUTO_CONNECT):
        assert body["success"] is False
        assert body["status"] == status
        assert text in body["message"]
    elif family is META_BUSINESS:
        assert body["success"] is False
        assert set(body["error"]) >= {"code", "message", "details"}
        assert text in body["error"]["message"]
    elif family is SOCIAL:
        assert isinstance(body["error"], str)
        assert text in body["message"]
    else:
        assert text in body["detail"]


@pytest.mark.parametrize("family", list(FAMILY_PATHS), ids=lambda f: f.name)
async def test_family_envelopes_for_400_401_404_500(
    probe_client: httpx.AsyncClient, tenant: Tenant, family: Family
) -> None:
    path = FAMILY_PATHS[family]
    ok = await probe_client.post(path.format(x="fine"), json={"a": 1}, headers=tenant.headers)
    assert ok.status_code == 200
    assert ok.json() == {"ok": True, "viewer": tenant.principal.email, "body": {"a": 1}}

    unauthorized = await probe_client.get(path.format(x="fine"))
    assert unauthorized.status_code == 401
    _assert_envelope(family, unauthorized.json(), 401, "Authorization")

    bad = await probe_client.get(path.format(x="bad"), headers=tenant.headers)
    assert bad.status_code == 400
    _assert_envelope(family, bad.json(), 400, "limit")
    assert "limit" in bad.text  # the field is named

    not_json = await probe_client.post(
        path.format(x="fine"), content=b"{not json", headers=tenant.headers
    )
    assert not_json.status_code == 400
    _assert_envelope(family, not_json.json(), 400, "JSON")

    missing = await probe_client.get(path.format(x="missing"), headers=tenant.headers)
    assert missing.status_code == 404
    _assert_envelope(family, missing.json(), 404, "not found")

    boom = await probe_client.get(path.format(x="boom"), headers=tenant.headers)
    assert boom.status_code == 500
    _assert_envelope(family, boom.json(), 500, "unexpected")
    assert "EAAB" not in boom.text
    assert "internal detail" not in boom.text


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/api/facebook/nowhere", FACEBOOK_SYNC),
        ("/api/meta/auth/nowhere", META_BUSINESS),
        ("/api/social/nowhere", SOCIAL),
        ("/api/meta/nowhere/", META_MODULE),
        ("/api/cron/nowhere", AUTO_CONNECT),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_unknown_paths_404_in_the_family_envelope(
    client: httpx.AsyncClient, tenant: Tenant, path: str, family: Family
) -> None:
    response = await client.get(path, headers=tenant.headers)
    assert response.status_code == 404
    _assert_envelope(family, response.json(), 404, "ot found")


async def test_openapi_and_docs_describe_what_is_mounted(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert "get" in spec["paths"]["/api/health"]
    schemas = spec["components"]["schemas"]
    assert {"Error_facebook_sync", "Error_meta_business", "Error_social"} <= set(schemas)
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "/api/health" in docs.text


async def test_metrics_and_request_ids(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "trace-me-42"})
    assert response.headers["x-request-id"] == "trace-me-42"
    generated = await client.get("/api/health")
    assert len(generated.headers["x-request-id"]) == 32
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert 'metasync_http_requests_total{method="GET",route="/api/health"' in metrics.text
