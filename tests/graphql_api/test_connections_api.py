"""The connections part of the GraphQL API: Meta logins, Instagram and WhatsApp accounts,
connection health, and the mutations that connect, check and disconnect them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from domain.errors import RateLimitedError
from domain.meta import MetaRateLimited
from domain.models import MetaConnection, Page
from resolvers.graphql.errors import error_result
from schema import errors as schema_errors
from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import StatementCounter, Tenant, create_tenant, gql
from tests.connections.conftest import SandboxServer
from tests.factories import connect_meta, seed_instagram_accounts

ERRORS = """
... on Error { __typename message code }
... on ValidationError { fields { field message } }
... on MetaApiError { metaCode }
"""
LISTS = """
{
  metaConnections {
    totalCount
    edges { node {
      id label metaUserId metaUserName status statusReason scopes expiresAt
      dataAccessExpiresAt lastCheckedAt
    } }
  }
  instagramAccounts {
    totalCount
    edges { node {
      id metaIgId username name profilePictureUrl followersCount mediaCount status
      page { metaPageId instagramAccount { username } }
    } }
  }
  whatsappAccounts {
    totalCount
    edges { node {
      wabaId name qualityRating messagingLimitTier businessProfile status
      phoneNumbers { id displayPhoneNumber verifiedName qualityRating messagingLimitTier status }
    } }
  }
}
"""


async def _gql(
    server: SandboxServer, tenant: Tenant, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with server.client() as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=server.headers(tenant),
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _connected(server: SandboxServer, label: str) -> Tenant:
    tenant = await create_tenant(server.runtime, label)
    token = server.sandbox.info()["demo_user"]["access_token"]
    await connect_meta(server.runtime, tenant.org_id, tenant.principal.user_id, token)
    return tenant


def _secrets(server: SandboxServer) -> list[str]:
    info = server.sandbox.info()
    return [info["demo_user"]["access_token"], *(p["access_token"] for p in info["pages"])]


async def test_lists_show_what_the_login_reaches_and_never_a_token(
    sandbox_server: SandboxServer, client: httpx.AsyncClient
) -> None:
    tenant = await _connected(sandbox_server, "gql-lists")
    info = sandbox_server.sandbox.info()
    response = await client.post("/graphql", json={"query": LISTS}, headers=tenant.headers)
    assert not any(secret in response.text for secret in _secrets(sandbox_server))
    data = response.json()["data"]

    connections = data["metaConnections"]
    assert connections["totalCount"] == 1
    conn = connections["edges"][0]["node"]
    assert conn["metaUserId"] == info["demo_user"]["id"]
    assert conn["status"] == "ACTIVE"
    assert "pages_manage_posts" in conn["scopes"]
    assert conn["expiresAt"] is not None
    assert conn["lastCheckedAt"] is not None

    instagram = data["instagramAccounts"]
    assert instagram["totalCount"] == 1
    ig = instagram["edges"][0]["node"]
    [ig_info] = info["instagram_accounts"]
    assert ig["metaIgId"] == ig_info["id"]
    assert ig["username"] == "luckyshrub"
    assert ig["status"] == "ACTIVE"
    assert ig["page"] == {
        "metaPageId": ig_info["page_id"],
        "instagramAccount": {"username": ig["username"]},
    }

    whatsapp = data["whatsappAccounts"]
    assert whatsapp["totalCount"] == 1
    wa = whatsapp["edges"][0]["node"]
    [waba] = info["whatsapp_business_accounts"]
    assert wa["wabaId"] == waba["id"]
    assert [p["id"] for p in wa["phoneNumbers"]] == [p["id"] for p in waba["phone_numbers"]]
    assert [p["displayPhoneNumber"] for p in wa["phoneNumbers"]] == [
        p["display_phone_number"] for p in waba["phone_numbers"]
    ]
    assert isinstance(wa["businessProfile"], dict)

    # The new types are nodes like the others.
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { __typename ... on MetaConnection { label } } }",
        tenant,
        {"id": conn["id"]},
    )
    assert node["data"]["node"] == {"__typename": "MetaConnection", "label": "t"}


async def test_lists_paginate_and_hide_other_organizations(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await seed_instagram_accounts(runtime, tenant.org_id, 3)
    theirs = await seed_instagram_accounts(runtime, other_tenant.org_id, 2)
    query = """
    query($after: String) {
      instagramAccounts(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { username } }
      }
      metaConnections { totalCount }
      whatsappAccounts { totalCount }
    }
    """
    first = (await gql(client, query, tenant))["data"]
    assert first["instagramAccounts"]["totalCount"] == 3
    assert first["metaConnections"]["totalCount"] == 1
    assert first["whatsappAccounts"]["totalCount"] == 0
    names = [e["node"]["username"] for e in first["instagramAccounts"]["edges"]]
    assert first["instagramAccounts"]["pageInfo"]["hasNextPage"] is True
    after = first["instagramAccounts"]["pageInfo"]["endCursor"]
    rest = (await gql(client, query, tenant, {"after": after}))["data"]["instagramAccounts"]
    names += [e["node"]["username"] for e in rest["edges"]]
    assert names == [a.username for a in mine.instagram]
    assert rest["pageInfo"]["hasNextPage"] is False

    for type_name, row_id in (
        ("InstagramAccount", theirs.instagram[0].id),
        ("MetaConnection", theirs.connection.id),
    ):
        gid = encode_global_id(type_name, row_id)
        body = await gql(client, "query($id: ID!) { node(id: $id) { id } }", tenant, {"id": gid})
        assert body == {"data": {"node": None}}


async def _count_statements(
    client: httpx.AsyncClient, runtime: Runtime, statements: StatementCounter, n: int
) -> int:
    tenant = await create_tenant(runtime, f"ig{n}")
    await seed_instagram_accounts(runtime, tenant.org_id, n)
    query = """
    query($n: Int) { instagramAccounts(first: $n) { edges { node {
      username page { name instagramAccount { username } }
    } } } }
    """
    with statements.counting() as counter:
        body = await gql(client, query, tenant, {"n": n})
    edges = body["data"]["instagramAccounts"]["edges"]
    assert len(edges) == n
    for edge in edges:
        node = edge["node"]
        assert node["page"]["instagramAccount"]["username"] == node["username"]
    return counter.count


async def test_statement_count_is_the_same_for_5_and_50_instagram_accounts(
    client: httpx.AsyncClient, runtime: Runtime, statements: StatementCounter
) -> None:
    small = await _count_statements(client, runtime, statements, 5)
    large = await _count_statements(client, runtime, statements, 50)
    assert small == large
    # auth + accounts + their pages + the pages' Instagram accounts
    assert small <= 5, statements.statements


HEALTH = """
{ connectionHealth {
  status accountsNeedingAttention
  connections { health status statusReason expiresAt expiringSoon connection { label } }
} }
"""


async def test_connection_health_is_scoped_to_the_viewer(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    empty = (await gql(client, HEALTH, tenant))["data"]["connectionHealth"]
    # Nothing connected: nothing can sync.
    assert empty == {"status": "UNHEALTHY", "accountsNeedingAttention": 0, "connections": []}

    now = runtime.services.clock.now()
    healthy = await seed_instagram_accounts(
        runtime, tenant.org_id, 1, expires_at=now + timedelta(days=50)
    )
    await seed_instagram_accounts(
        runtime, other_tenant.org_id, 1, expires_at=now - timedelta(days=1)
    )
    report = (await gql(client, HEALTH, tenant))["data"]["connectionHealth"]
    assert report["status"] == "HEALTHY"
    [entry] = report["connections"]
    assert entry["connection"]["label"] == healthy.connection.label
    assert (entry["health"], entry["status"], entry["expiringSoon"]) == ("OK", "ACTIVE", False)

    soon = await seed_instagram_accounts(
        runtime, tenant.org_id, 1, expires_at=now + timedelta(days=2)
    )
    report = (await gql(client, HEALTH, tenant))["data"]["connectionHealth"]
    assert report["status"] == "DEGRADED"
    by_label = {c["connection"]["label"]: c for c in report["connections"]}
    assert by_label[soon.connection.label]["health"] == "WARNING"
    assert by_label[soon.connection.label]["expiringSoon"] is True

    async with runtime.services.uow() as uow:
        for seeded in (healthy, soon):
            row = await uow.session.get(MetaConnection, seeded.connection.id)
            assert row is not None
            row.status, row.status_reason = "invalid", "token revoked"
        await uow.commit()
    report = (await gql(client, HEALTH, tenant))["data"]["connectionHealth"]
    assert report["status"] == "UNHEALTHY"
    assert {c["health"] for c in report["connections"]} == {"ERROR"}
    assert {c["statusReason"] for c in report["connections"]} == {"token revoked"}
    # Both logins' Pages and Instagram accounts need someone to log in again.
    assert report["accountsNeedingAttention"] == 4


CONNECT = f"""
mutation($label: String!, $token: String!) {{
  addMetaToken(label: $label, token: $token) {{
    __typename
    ... on MetaConnectSuccess {{
      created warnings
      connection {{ id label status metaUserId }}
      pages {{ metaPageId }}
      instagramAccounts {{ username }}
      whatsappAccounts {{ wabaId }}
    }}
    {ERRORS}
  }}
}}
"""


async def test_add_meta_token_connects_everything_and_returns_no_token(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "gql-add")
    info = sandbox_server.sandbox.info()
    token = info["demo_user"]["access_token"]
    async with sandbox_server.client() as client:
        response = await client.post(
            "/graphql",
            json={"query": CONNECT, "variables": {"label": "ops", "token": token}},
            headers=sandbox_server.headers(tenant),
        )
    assert not any(secret in response.text for secret in _secrets(sandbox_server))
    result = response.json()["data"]["addMetaToken"]
    assert result["__typename"] == "MetaConnectSuccess"
    assert result["created"] is True
    assert result["connection"]["label"] == "ops"
    assert result["connection"]["status"] == "ACTIVE"
    assert {p["metaPageId"] for p in result["pages"]} == {p["id"] for p in info["pages"]}
    assert [a["username"] for a in result["instagramAccounts"]] == ["luckyshrub"]
    assert len(result["whatsappAccounts"]) == 1

    again = await _gql(sandbox_server, tenant, CONNECT, {"label": "ops", "token": token})
    assert again["addMetaToken"]["created"] is False


async def test_add_meta_token_bad_input_is_a_validation_error(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "gql-bad")
    token = sandbox_server.sandbox.info()["demo_user"]["access_token"]
    for label, value, field in (("", token, "label"), ("ops", "EAAnot-a-real-token", "token")):
        data = await _gql(sandbox_server, tenant, CONNECT, {"label": label, "token": value})
        result = data["addMetaToken"]
        assert result["__typename"] == "ValidationError"
        assert result["code"] == "VALIDATION"
        assert [f["field"] for f in result["fields"]] == [field]
    async with runtime.services.session_factory() as session:
        stored = await session.execute(
            select(MetaConnection).where(MetaConnection.organization_id == tenant.org_id)
        )
        assert stored.first() is None


async def test_start_oauth_and_a_bad_code(sandbox_server: SandboxServer, runtime: Runtime) -> None:
    tenant = await create_tenant(runtime, "gql-oauth")
    started = await _gql(
        sandbox_server,
        tenant,
        "mutation { startMetaOAuth(platform: INSTAGRAM) {"
        " ... on StartMetaOAuthSuccess { authUrl } } }",
    )
    url = started["startMetaOAuth"]["authUrl"]
    assert url.startswith(f"{sandbox_server.base}/sandbox/v25.0/dialog/oauth?")
    assert "instagram_content_publish" in url

    query = f"""
    mutation($code: String!, $uri: String!) {{
      connectMetaWithCode(code: $code, redirectUri: $uri) {{ __typename {ERRORS} }}
    }}
    """
    missing = await _gql(sandbox_server, tenant, query, {"code": " ", "uri": "https://x.test/cb"})
    assert missing["connectMetaWithCode"]["fields"] == [{"field": "code", "message": "is required"}]
    refused = await _gql(
        sandbox_server, tenant, query, {"code": "never-issued", "uri": "https://x.test/cb"}
    )
    result = refused["connectMetaWithCode"]
    assert result["__typename"] == "MetaApiError"
    assert result["code"] == "META_API"
    assert result["metaCode"] is not None


async def test_connect_page_reconnects_one_page_a_login_reaches(
    sandbox_server: SandboxServer,
) -> None:
    tenant = await _connected(sandbox_server, "gql-page")
    page_id = sandbox_server.sandbox.info()["pages"][0]["id"]
    query = f"""
    mutation($id: String!) {{
      connectPage(metaPageId: $id) {{
        __typename ... on ConnectPageSuccess {{ page {{ metaPageId status }} }} {ERRORS}
      }}
    }}
    """
    done = await _gql(sandbox_server, tenant, query, {"id": page_id})
    assert done["connectPage"]["page"] == {"metaPageId": page_id, "status": "ACTIVE"}
    unknown = await _gql(sandbox_server, tenant, query, {"id": "999999999999"})
    assert unknown["connectPage"]["__typename"] == "NotFoundError"
    # Another organization has no login that reaches it.
    stranger = await create_tenant(sandbox_server.runtime, "gql-page-other")
    theirs = await _gql(sandbox_server, stranger, query, {"id": page_id})
    assert theirs["connectPage"]["__typename"] == "NotFoundError"


REFRESH = f"""
mutation($id: ID!) {{
  refreshMetaConnection(id: $id) {{
    __typename
    ... on RefreshMetaConnectionSuccess {{
      statusChanged connection {{ status statusReason expiresAt lastCheckedAt }}
    }}
    {ERRORS}
  }}
}}
"""


async def test_refresh_reports_what_meta_says_now(sandbox_server: SandboxServer) -> None:
    tenant = await _connected(sandbox_server, "gql-refresh")
    runtime = sandbox_server.runtime
    async with runtime.services.session_factory() as session:
        conn = (
            await session.execute(
                select(MetaConnection).where(MetaConnection.organization_id == tenant.org_id)
            )
        ).scalar_one()
    gid = encode_global_id("MetaConnection", conn.id)
    fresh = (await _gql(sandbox_server, tenant, REFRESH, {"id": gid}))["refreshMetaConnection"]
    assert fresh["__typename"] == "RefreshMetaConnectionSuccess"
    assert fresh["statusChanged"] is False
    assert fresh["connection"]["status"] == "ACTIVE"
    assert fresh["connection"]["expiresAt"] is not None

    sandbox_server.sandbox.revoke_token(sandbox_server.sandbox.info()["demo_user"]["access_token"])
    revoked = (await _gql(sandbox_server, tenant, REFRESH, {"id": gid}))["refreshMetaConnection"]
    # Not silently "refreshed": the login is dead and says so.
    assert revoked["statusChanged"] is True
    assert revoked["connection"]["status"] in ("INVALID", "EXPIRED")
    assert revoked["connection"]["statusReason"]


async def test_refresh_ids_must_be_the_viewers_meta_connections(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "gql-refresh-ids")
    theirs = await seed_instagram_accounts(runtime, (await create_tenant(runtime)).org_id, 1)
    other = encode_global_id("MetaConnection", theirs.connection.id)
    missing = encode_global_id("MetaConnection", uuid.uuid4())
    for gid in (other, missing):
        result = (await _gql(sandbox_server, tenant, REFRESH, {"id": gid}))["refreshMetaConnection"]
        assert result["__typename"] == "NotFoundError"
    for gid in (encode_global_id("Page", theirs.pages[0].id), "garbage"):
        result = (await _gql(sandbox_server, tenant, REFRESH, {"id": gid}))["refreshMetaConnection"]
        assert result["__typename"] == "ValidationError"
        assert result["fields"][0]["field"] == "id"


DISCONNECT = f"""
mutation($id: ID!) {{
  disconnectAccount(id: $id) {{
    __typename
    ... on DisconnectAccountSuccess {{
      metaEffect
      account {{
        __typename databaseId
        ... on Page {{ status }}
        ... on InstagramAccount {{ status }}
      }}
    }}
    {ERRORS}
  }}
}}
"""


async def test_disconnect_account_says_what_reached_meta(sandbox_server: SandboxServer) -> None:
    tenant = await _connected(sandbox_server, "gql-disconnect")
    runtime = sandbox_server.runtime
    async with runtime.services.session_factory() as session:
        page = (
            (await session.execute(select(Page).where(Page.organization_id == tenant.org_id)))
            .scalars()
            .first()
        )
    assert page is not None
    result = (
        await _gql(sandbox_server, tenant, DISCONNECT, {"id": encode_global_id("Page", page.id)})
    )["disconnectAccount"]
    assert result["metaEffect"] == "APPLIED"
    assert result["account"] == {
        "__typename": "Page",
        "databaseId": str(page.id),
        "status": "DISCONNECTED",
    }
    on_meta = {p["id"]: p for p in sandbox_server.sandbox.info()["pages"]}
    assert not on_meta[page.meta_page_id]["subscribed_fields"]

    listed = await _gql(sandbox_server, tenant, "{ instagramAccounts { edges { node { id } } } }")
    ig_id = listed["instagramAccounts"]["edges"][0]["node"]["id"]
    ig = (await _gql(sandbox_server, tenant, DISCONNECT, {"id": ig_id}))["disconnectAccount"]
    assert ig["metaEffect"] == "LOCAL_ONLY"
    assert ig["account"]["status"] == "DISCONNECTED"


async def test_disconnect_account_ids(sandbox_server: SandboxServer, runtime: Runtime) -> None:
    tenant = await create_tenant(runtime, "gql-disconnect-ids")
    owner = await create_tenant(runtime, "gql-disconnect-owner")
    theirs = await seed_instagram_accounts(runtime, owner.org_id, 1)
    for gid in (
        encode_global_id("Page", theirs.pages[0].id),
        encode_global_id("InstagramAccount", theirs.instagram[0].id),
        encode_global_id("WhatsAppAccount", uuid.uuid4()),
    ):
        result = (await _gql(sandbox_server, tenant, DISCONNECT, {"id": gid}))["disconnectAccount"]
        assert result["__typename"] == "NotFoundError", gid
    wrong_type = encode_global_id("MetaConnection", theirs.connection.id)
    result = (await _gql(sandbox_server, tenant, DISCONNECT, {"id": wrong_type}))[
        "disconnectAccount"
    ]
    assert result["__typename"] == "ValidationError"
    async with runtime.services.session_factory() as session:
        page = await session.get(Page, theirs.pages[0].id)
    assert page is not None
    assert page.status == "active"


async def test_a_login_revoked_on_meta_asks_for_reauthorization(
    sandbox_server: SandboxServer,
) -> None:
    sandbox = sandbox_server.sandbox
    tenant = await _connected(sandbox_server, "gql-revoked")
    page_id = sandbox.info()["pages"][0]["id"]
    sandbox.revoke_token(sandbox.info()["demo_user"]["access_token"])
    query = f"""
    mutation($id: String!) {{ connectPage(metaPageId: $id) {{ __typename {ERRORS} }} }}
    """
    result = (await _gql(sandbox_server, tenant, query, {"id": page_id}))["connectPage"]
    assert result["__typename"] == "ReauthorizationRequiredError"
    assert result["code"] == "REAUTHORIZATION_REQUIRED"


def test_rate_limits_carry_whole_seconds_to_wait() -> None:
    # Rate-limit faults are not injected end to end: the shared limiter would then hold the
    # sandbox app's calls for other tests on the same Redis.
    from_meta = error_result(MetaRateLimited("(#4) Request limit reached", retry_after=2.2))
    ours = error_result(RateLimitedError("one full sync per 5 minutes", retry_after_seconds=299.5))
    assert isinstance(from_meta, schema_errors.RateLimitedError)
    assert isinstance(ours, schema_errors.RateLimitedError)
    assert (from_meta.retry_after_seconds, ours.retry_after_seconds) == (3, 300)
    assert from_meta.code.value == ours.code.value == "RATE_LIMITED"
