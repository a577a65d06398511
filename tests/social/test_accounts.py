"""spec/social-service-architecture.md "Social Accounts Endpoints", as a legacy client calls
them: list, details, disconnect."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from domain.models import InstagramAccount, Page, WhatsAppAccount
from server import Runtime
from tests.conftest import Tenant, create_tenant
from tests.connections.conftest import SandboxServer
from tests.factories import connect_meta, seed_instagram_accounts

SUMMARY_KEYS = {
    "id",
    "platform",
    "username",
    "profile_picture_url",
    "status",
    "connected_at",
    "can_publish_feed",
    "can_publish_stories",
    "can_publish_reels",
}
DETAIL_KEYS = SUMMARY_KEYS | {"last_synced_at", "last_token_refresh", "token_expires_at"}


async def _connected(server: SandboxServer, label: str, token: str | None = None) -> Tenant:
    tenant = await create_tenant(server.runtime, label)
    demo = server.sandbox.info()["demo_user"]
    await connect_meta(
        server.runtime, tenant.org_id, tenant.principal.user_id, token or demo["access_token"]
    )
    return tenant


async def _accounts(server: SandboxServer, tenant: Tenant, **params: str) -> list[Any]:
    async with server.client() as client:
        response = await client.get(
            "/api/social/accounts", params=params, headers=server.headers(tenant)
        )
    assert response.status_code == 200, response.text
    accounts: list[Any] = response.json()["accounts"]
    return accounts


def _secrets(server: SandboxServer) -> list[str]:
    info = server.sandbox.info()
    return [info["demo_user"]["access_token"], *(p["access_token"] for p in info["pages"])]


async def test_list_has_the_documented_shape_for_every_platform(
    sandbox_server: SandboxServer,
) -> None:
    tenant = await _connected(sandbox_server, "social-list")
    info = sandbox_server.sandbox.info()
    async with sandbox_server.client() as client:
        response = await client.get("/api/social/accounts", headers=sandbox_server.headers(tenant))
    assert response.status_code == 200
    accounts = response.json()["accounts"]
    assert all(set(a) >= SUMMARY_KEYS for a in accounts)
    by_platform: dict[str, list[Any]] = {}
    for account in accounts:
        by_platform.setdefault(account["platform"], []).append(account)
    assert {a["meta_id"] for a in by_platform["facebook"]} == {p["id"] for p in info["pages"]}
    [ig] = by_platform["instagram"]
    [wa] = by_platform["whatsapp"]
    assert ig["username"] == "luckyshrub"
    assert wa["meta_id"] == info["whatsapp_business_accounts"][0]["id"]
    assert {a["status"] for a in accounts} == {"active"}
    assert all(a["connected_at"].endswith("Z") for a in accounts)
    uuid.UUID(ig["id"])
    # The demo login granted pages_manage_posts and instagram_content_publish.
    assert all(
        (a["can_publish_feed"], a["can_publish_stories"], a["can_publish_reels"])
        == (True, False, False)
        for a in by_platform["facebook"]
    )
    assert (ig["can_publish_feed"], ig["can_publish_stories"], ig["can_publish_reels"]) == (
        True,
        True,
        True,
    )
    assert (wa["can_publish_feed"], wa["can_publish_stories"], wa["can_publish_reels"]) == (
        False,
        False,
        False,
    )
    assert not any(secret in response.text for secret in _secrets(sandbox_server))


async def test_publishing_rights_follow_the_scopes_the_login_granted(
    sandbox_server: SandboxServer,
) -> None:
    sandbox = sandbox_server.sandbox
    scopes = [
        s
        for s in sandbox.info()["demo_user"]["scopes"]
        if s not in ("pages_manage_posts", "instagram_content_publish")
    ]
    tenant = await _connected(
        sandbox_server, "social-scopes", sandbox.issue_user_token(scopes=scopes)
    )
    accounts = await _accounts(sandbox_server, tenant)
    assert {a["platform"] for a in accounts} == {"facebook", "instagram", "whatsapp"}
    for account in accounts:
        assert not account["can_publish_feed"], account
        assert not account["can_publish_stories"], account
        assert not account["can_publish_reels"], account


async def test_filters_by_platform_and_status(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    now = runtime.services.clock.now()
    live = await seed_instagram_accounts(
        runtime, tenant.org_id, 2, expires_at=now + timedelta(days=50)
    )
    expired = await seed_instagram_accounts(
        runtime, tenant.org_id, 1, expires_at=now - timedelta(minutes=1)
    )
    async with runtime.services.uow() as uow:
        row = await uow.session.get(InstagramAccount, live.instagram[1].id)
        assert row is not None
        row.status = "disconnected"
        await uow.commit()

    async def ids(**params: str) -> set[str]:
        response = await client.get("/api/social/accounts", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["accounts"]}

    assert await ids(platform="instagram") == {
        str(a.id) for a in [*live.instagram, *expired.instagram]
    }
    assert await ids(platform="facebook") == {str(p.id) for p in [*live.pages, *expired.pages]}
    assert await ids(platform="whatsapp") == set()
    assert await ids(status="disconnected") == {str(live.instagram[1].id)}
    # The login's token has run out: its accounts say so, before any token check ran.
    assert await ids(status="expired") == {
        str(expired.pages[0].id),
        str(expired.instagram[0].id),
    }
    assert await ids(platform="instagram", status="active") == {str(live.instagram[0].id)}


async def test_bad_filters_are_a_400_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for field, value in (("platform", "myspace"), ("status", "sleeping")):
        response = await client.get(
            "/api/social/accounts", params={field: value}, headers=tenant.headers
        )
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "validation_error"
        assert list(body["fields"]) == [field]


async def test_every_endpoint_needs_a_bearer_token(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    seeded = await seed_instagram_accounts(runtime, tenant.org_id, 1)
    path = f"/api/social/accounts/{seeded.instagram[0].id}"
    for method, url in (("GET", "/api/social/accounts"), ("GET", path), ("DELETE", path)):
        response = await client.request(method, url)
        assert response.status_code == 401, (method, url)
        assert response.json()["error"] == "unauthorized"
        bad = await client.request(method, url, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    async with runtime.services.session_factory() as session:
        row = await session.get(InstagramAccount, seeded.instagram[0].id)
    assert row is not None
    assert row.status == "active"


async def test_details_carry_sync_and_token_dates(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    expires = runtime.services.clock.now() + timedelta(days=40)
    seeded = await seed_instagram_accounts(
        runtime, tenant.org_id, 1, scopes=["pages_manage_posts"], expires_at=expires
    )
    page = seeded.pages[0]
    response = await client.get(f"/api/social/accounts/{page.id}", headers=tenant.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= DETAIL_KEYS
    assert body["id"] == str(page.id)
    assert body["platform"] == "facebook"
    assert body["username"] == page.name
    assert body["last_synced_at"] == "2026-09-01T12:00:00Z"
    assert body["last_token_refresh"] == "2026-09-01T12:00:00Z"
    assert body["token_expires_at"] is not None
    assert body["token_expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["can_publish_feed"] is True
    ig = await client.get(f"/api/social/accounts/{seeded.instagram[0].id}", headers=tenant.headers)
    # instagram_content_publish was not granted.
    assert ig.json()["can_publish_feed"] is False
    assert ig.json()["last_synced_at"] is None


async def test_another_organizations_and_malformed_ids(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await seed_instagram_accounts(runtime, other_tenant.org_id, 1)
    for account_id in (theirs.pages[0].id, theirs.instagram[0].id, uuid.uuid4()):
        for method in ("GET", "DELETE"):
            response = await client.request(
                method, f"/api/social/accounts/{account_id}", headers=tenant.headers
            )
            assert response.status_code == 404, (method, account_id)
            assert response.json()["error"] == "not_found"
    for method in ("GET", "DELETE"):
        response = await client.request(
            method, "/api/social/accounts/not-a-uuid", headers=tenant.headers
        )
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["accountId"]
    listed = await client.get("/api/social/accounts", headers=tenant.headers)
    assert listed.json() == {"accounts": []}
    # Untouched for their owner.
    owner = await client.get(
        f"/api/social/accounts/{theirs.pages[0].id}", headers=other_tenant.headers
    )
    assert owner.json()["status"] == "active"


async def test_disconnect_unsubscribes_drops_tokens_and_keeps_history(
    sandbox_server: SandboxServer,
) -> None:
    tenant = await _connected(sandbox_server, "social-disconnect")
    runtime = sandbox_server.runtime
    accounts = await _accounts(sandbox_server, tenant)
    ig = next(a for a in accounts if a["platform"] == "instagram")
    async with runtime.services.session_factory() as session:
        ig_row = await session.get(InstagramAccount, uuid.UUID(ig["id"]))
        assert ig_row is not None
        assert ig_row.page_id is not None
        page_row = await session.get(Page, ig_row.page_id)
        assert page_row is not None
    assert page_row.webhook_subscribed

    async with sandbox_server.client() as client:
        headers = sandbox_server.headers(tenant)
        response = await client.delete(f"/api/social/accounts/{page_row.id}", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"success": True, "applied_on_meta": True}
        details = await client.get(f"/api/social/accounts/{page_row.id}", headers=headers)
        # Nothing to unsubscribe for the Instagram account: metasync says so.
        ig_response = await client.delete(f"/api/social/accounts/{ig['id']}", headers=headers)
    assert ig_response.json() == {"success": True, "applied_on_meta": False}

    on_meta = {p["id"]: p for p in sandbox_server.sandbox.info()["pages"]}
    assert not on_meta[page_row.meta_page_id]["subscribed_fields"]
    assert details.status_code == 200
    assert details.json()["status"] == "disconnected"
    assert details.json()["can_publish_feed"] is False
    async with runtime.services.session_factory() as session:
        page = await session.get(Page, page_row.id)
        linked = await session.get(InstagramAccount, ig_row.id)
    assert page is not None
    assert linked is not None
    assert page.deleted_at is None
    assert page.page_token_encrypted is None
    assert page.webhook_subscribed is False
    assert linked.status == "disconnected"
    disconnected = await _accounts(sandbox_server, tenant, status="disconnected")
    assert {a["id"] for a in disconnected} == {str(page_row.id), ig["id"]}


async def test_disconnect_says_when_meta_refused_the_unsubscription(
    sandbox_server: SandboxServer,
) -> None:
    tenant = await _connected(sandbox_server, "social-refused")
    runtime = sandbox_server.runtime
    async with runtime.services.session_factory() as session:
        page = (
            (await session.execute(select(Page).where(Page.organization_id == tenant.org_id)))
            .scalars()
            .first()
        )
    assert page is not None
    assert page.webhook_subscribed
    # The person logged out of Facebook: the Page token metasync holds is dead.
    for entry in sandbox_server.sandbox.info()["pages"]:
        if entry["id"] == page.meta_page_id:
            sandbox_server.sandbox.revoke_token(entry["access_token"])
    async with sandbox_server.client() as client:
        response = await client.delete(
            f"/api/social/accounts/{page.id}", headers=sandbox_server.headers(tenant)
        )
    assert response.status_code == 200
    assert response.json() == {"success": True, "applied_on_meta": False}
    async with runtime.services.session_factory() as session:
        stored = await session.get(Page, page.id)
    assert stored is not None
    assert stored.status == "disconnected"
    assert stored.page_token_encrypted is None


async def test_whatsapp_accounts_disconnect_locally(sandbox_server: SandboxServer) -> None:
    tenant = await _connected(sandbox_server, "social-wa")
    [wa] = await _accounts(sandbox_server, tenant, platform="whatsapp")
    async with sandbox_server.client() as client:
        response = await client.delete(
            f"/api/social/accounts/{wa['id']}", headers=sandbox_server.headers(tenant)
        )
    assert response.json() == {"success": True, "applied_on_meta": False}
    async with sandbox_server.runtime.services.session_factory() as session:
        row = await session.get(WhatsAppAccount, uuid.UUID(wa["id"]))
    assert row is not None
    assert row.status == "disconnected"
    assert row.token_encrypted is None
