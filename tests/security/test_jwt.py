"""Bearer JWTs on /graphql, /api and the WebSocket: anything but a valid, live token is a 401
(issue #9, item 8): alg none, another algorithm, another secret, an expired token, a token
without expiry, and — when JWT_ISSUER / JWT_AUDIENCE are set — another issuer or audience."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from resolvers.auth import JwtCodec
from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import Tenant, live_server, make_settings

VIEWER = {"query": "{ viewer { email } }"}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(tenant: Tenant, **extra: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(tenant.principal.user_id),
        "org": str(tenant.org_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    claims.update(extra)
    return claims


async def _status(client: httpx.AsyncClient, authorization: str | None) -> int:
    """The status /graphql answers; /api must answer the same (each is checked)."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json=VIEWER, headers=headers)
    rest = await client.get("/api/social/accounts", headers=headers)
    assert rest.status_code == response.status_code, (rest.status_code, rest.text)
    return response.status_code


async def test_valid_token_is_accepted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert await _status(client, f"Bearer {tenant.token}") == 200


async def test_missing_or_malformed_header_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=VIEWER)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for header in ("", "Bearer", "Basic dXNlcjpwYXNz", "Token abc", "Bearer not.a.jwt"):
        assert await _status(client, header) == 401, header


async def test_forged_expired_and_unsigned_tokens_are_401(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    secret = runtime.settings.JWT_SECRET
    expired = jwt.encode(
        _claims(tenant, exp=int((datetime.now(UTC) - timedelta(seconds=5)).timestamp())),
        secret,
        algorithm="HS256",
    )
    wrong_secret = jwt.encode(_claims(tenant), "another-secret-of-sufficient-length!", "HS256")
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(tenant))}."
    wrong_alg = jwt.encode(_claims(tenant), secret, algorithm="HS512")
    no_exp = jwt.encode({k: v for k, v in _claims(tenant).items() if k != "exp"}, secret, "HS256")
    for token in (expired, wrong_secret, alg_none, wrong_alg, no_exp):
        assert await _status(client, f"Bearer {token}") == 401


async def test_token_of_a_user_who_left_the_organization_is_401(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    # Signed correctly, but the user is not a member of the claimed organization.
    claims = _claims(tenant, org=str(other_tenant.org_id))
    token = jwt.encode(claims, runtime.settings.JWT_SECRET, algorithm="HS256")
    assert await _status(client, f"Bearer {token}") == 401


@pytest.mark.parametrize(("issuer", "audience"), [("metasync", None), (None, "frontend")])
def test_issuer_and_audience_are_checked_when_configured(
    tenant: Tenant, issuer: str | None, audience: str | None
) -> None:
    secret = "a-test-secret-that-is-long-enough-000"
    strict = JwtCodec(secret=secret, issuer=issuer, audience=audience)
    lax = JwtCodec(secret=secret)
    good = strict.issue(tenant.principal)
    assert strict.decode(good) == (tenant.principal.user_id, tenant.org_id)
    # A token without (or with another) iss/aud is refused.
    from resolvers.auth import AuthenticationError

    with pytest.raises(AuthenticationError):
        strict.decode(lax.issue(tenant.principal))
    other = JwtCodec(
        secret=secret,
        issuer="someone-else" if issuer else None,
        audience="someone-else" if audience else None,
    )
    with pytest.raises(AuthenticationError):
        strict.decode(other.issue(tenant.principal))


async def test_api_routes_require_a_token(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # Unknown paths under an authenticated family: 401 first, 404 once authenticated.
    anonymous = await client.get("/api/social/no-such-thing/123")
    assert anonymous.status_code == 401
    authenticated = await client.get("/api/social/no-such-thing/123", headers=tenant.headers)
    assert authenticated.status_code == 404


async def test_another_issuer_or_audience_is_401_over_http_and_websocket(
    runtime: Runtime, tenant: Tenant
) -> None:
    settings = make_settings(
        runtime.settings.DATABASE_URL, JWT_ISSUER="metasync", JWT_AUDIENCE="frontend"
    )
    strict = build_runtime(settings)
    app = create_app(strict, migrate_on_start=False, run_worker=False, run_scheduler=False)
    secret = settings.JWT_SECRET
    good = strict.services.jwt.issue(tenant.principal)
    tokens = {
        "wrong audience": jwt.encode(_claims(tenant, iss="metasync", aud="other"), secret),
        "wrong issuer": jwt.encode(_claims(tenant, iss="other", aud="frontend"), secret),
        "no audience or issuer": jwt.encode(_claims(tenant), secret),
        "expired": jwt.encode(
            _claims(tenant, iss="metasync", aud="frontend", exp=int(time.time()) - 5), secret
        ),
    }
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
        ) as client:
            assert await _status(client, f"Bearer {good}") == 200
            for name, token in tokens.items():
                assert await _status(client, f"Bearer {token}") == 401, name
        async with live_server(app) as address:
            for name, token in tokens.items():
                async with connect(
                    f"ws://{address}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                ) as ws:
                    init = {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {token}"},
                    }
                    await ws.send(json.dumps(init))
                    with pytest.raises(ConnectionClosed) as closed:
                        await ws.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 4403, name
    finally:
        await close_runtime(strict)
