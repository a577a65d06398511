"""Query limits, and what production turns off."""

from __future__ import annotations

import httpx

from domain.vault import generate_key
from server import Runtime, build_runtime, create_app
from tests.conftest import Tenant, gql, make_settings
from tests.test_settings import PRODUCTION_SECRETS


async def test_depth_limit(client: httpx.AsyncClient, tenant: Tenant) -> None:
    deepest_real = (
        "{ pages { edges { node { conversations { edges { node {"
        " messages { edges { node { id } } } } } } } } } }"
    )
    assert "errors" not in await gql(client, deepest_real, tenant)
    # The schema has no cycles yet, so a deeper query also names fields that do not exist;
    # the depth rule must still refuse it (it protects against future cycles).
    inner = "id"
    for _ in range(14):
        inner = f"organization {{ {inner} }}"
    body = await gql(client, f"{{ viewer {{ {inner} }} }}", tenant)
    messages = [e["message"] for e in body["errors"]]
    assert any("exceeds maximum operation depth" in m for m in messages), messages


async def test_alias_limit_counts_fragments(client: httpx.AsyncClient, tenant: Tenant) -> None:
    aliases = " ".join(f"a{i}: viewer {{ email }}" for i in range(20))
    ok = await gql(client, f"{{ {aliases} }}", tenant)
    assert "errors" not in ok
    fragment = " ".join(f"f{i}: email" for i in range(20))
    query = f"fragment F on Viewer {{ {fragment} }} {{ {aliases} viewer {{ ...F }} }}"
    body = await gql(client, query, tenant)
    assert body["errors"]
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_token_limit(client: httpx.AsyncClient, tenant: Tenant) -> None:
    huge = "{ " + " ".join("viewer { email }" for _ in range(1500)) + " }"
    body = await gql(client, huge, tenant)
    assert body["errors"]
    assert "token" in body["errors"][0]["message"].lower()


async def test_production_turns_off_introspection_and_graphiql(
    runtime: Runtime, tenant: Tenant
) -> None:
    settings = make_settings(
        runtime.settings.DATABASE_URL,
        ENVIRONMENT="production",
        TOKEN_ENCRYPTION_KEYS=generate_key(),
        **PRODUCTION_SECRETS,
    )
    prod = build_runtime(settings)
    app = create_app(prod, migrate_on_start=False, run_worker=False, run_scheduler=False)
    token = prod.services.jwt.issue(tenant.principal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
    ) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 401  # no IDE page to serve without a token
        body = (
            await client.post(
                "/graphql",
                json={"query": "{ __schema { types { name } } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
        assert body["errors"]
        assert "introspection" in body["errors"][0]["message"].lower()
        normal = (
            await client.post(
                "/graphql",
                json={"query": "{ viewer { email } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
        assert normal["data"]["viewer"]["email"] == tenant.principal.email
    await prod.services.engine.dispose()


async def test_graphiql_is_served_in_development(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
