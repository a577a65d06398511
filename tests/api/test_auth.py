"""Bearer JWTs on /graphql and /api: anything but a valid, live token is a 401."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from resolvers.auth import JwtCodec
from server import Runtime
from tests.conftest import Tenant

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
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json=VIEWER, headers=headers)
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
