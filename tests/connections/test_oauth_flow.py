"""Connecting Meta accounts through Meta's (the sandbox's) OAuth dialog, end to end over HTTP."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select, text

from domain.models import InstagramAccount, MetaConnection, Page, User, WhatsAppAccount
from server import Runtime
from tasks.state_store import InMemoryStateStore
from tests.conftest import Tenant, create_tenant
from tests.connections.conftest import SandboxServer


async def _count(runtime: Runtime, model: type, org_id: uuid.UUID) -> int:
    async with runtime.services.session_factory() as session:
        stmt = select(func.count()).select_from(model).where(model.organization_id == org_id)
        return int((await session.execute(stmt)).scalar_one())


async def _auth_url(server: SandboxServer, tenant: Tenant, platform: str = "facebook") -> str:
    async with server.client() as client:
        response = await client.get(
            f"/api/auth/social/connect/{platform}",
            headers=server.headers(tenant),
        )
    assert response.status_code == 200, response.text
    url: str = response.json()["authUrl"]
    return url


async def test_round_trip_through_the_dialog_connects_everything(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "oauth")
    assert await _count(runtime, WhatsAppAccount, tenant.org_id) == 0
    for platform in ("instagram", "whatsapp"):
        auth_url = await _auth_url(sandbox_server, tenant, platform)
        assert auth_url.startswith(f"{sandbox_server.base}/sandbox/v25.0/dialog/oauth?")
        async with sandbox_server.client(follow_redirects=True) as browser:
            landed = await browser.get(auth_url)
        # dialog → /auth/meta/callback → the frontend's settings page
        assert [r.status_code for r in landed.history] == [302, 302]
        assert landed.url.path == "/frontend/settings/social-accounts"
        assert parse_qs(landed.url.query.decode()) == {"success": ["connected"]}

    info = sandbox_server.sandbox.info()
    async with runtime.services.session_factory() as session:
        pages = (
            (await session.execute(select(Page).where(Page.organization_id == tenant.org_id)))
            .scalars()
            .all()
        )
        conn = (
            await session.execute(
                select(MetaConnection).where(MetaConnection.organization_id == tenant.org_id)
            )
        ).scalar_one()
        ig = (
            (
                await session.execute(
                    select(InstagramAccount).where(
                        InstagramAccount.organization_id == tenant.org_id
                    )
                )
            )
            .scalars()
            .all()
        )
        wa = (
            (
                await session.execute(
                    select(WhatsAppAccount).where(WhatsAppAccount.organization_id == tenant.org_id)
                )
            )
            .scalars()
            .all()
        )
        raw_tokens = (
            (
                await session.execute(
                    text("SELECT page_token_encrypted FROM pages WHERE organization_id = :o"),
                    {
                        "o": tenant.org_id
                        if runtime.settings.DATABASE_URL.startswith("postgres")
                        else tenant.org_id.hex
                    },
                )
            )
            .scalars()
            .all()
        )
    # Both pages, including the business-owned one /me/accounts leaves out.
    assert {p.meta_page_id for p in pages} == {p["id"] for p in info["pages"]}
    assert all(p.webhook_subscribed for p in pages)
    assert [a.username for a in ig] == ["luckyshrub"]
    assert [a.waba_id for a in wa] == [info["whatsapp_business_accounts"][0]["id"]]
    assert wa[0].phone_numbers
    assert conn.meta_user_id == info["demo_user"]["id"]
    assert conn.status == "active"
    assert conn.expires_at is not None
    # Tokens are stored encrypted: no plaintext page token anywhere in the column.
    page_tokens = {p["access_token"] for p in info["pages"]}
    assert len(raw_tokens) == 2
    assert not any(t in page_tokens for t in raw_tokens)
    assert all(str(t).startswith("v1.") for t in raw_tokens)


async def test_reused_state_is_refused_and_stores_nothing(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    first = await create_tenant(runtime, "reuse")
    auth_url = await _auth_url(sandbox_server, first)
    async with sandbox_server.client() as browser:
        dialog = await browser.get(auth_url)
        callback_url = dialog.headers["location"]
        used = await browser.get(callback_url)
        assert "success=connected" in used.headers["location"]
        # Same state again (a replay, or a second tab): refused.
        replay = await browser.get(callback_url)
    assert replay.status_code == 302
    assert parse_qs(urlsplit(replay.headers["location"]).query) == {"error": ["invalid_state"]}


async def test_expired_state_and_denial_store_nothing(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    now = [0.0]
    runtime_services = sandbox_server.runtime.services
    runtime_services.state_store = InMemoryStateStore(clock=lambda: now[0])
    tenant = await create_tenant(runtime, "expired")
    auth_url = await _auth_url(sandbox_server, tenant)
    async with sandbox_server.client() as browser:
        callback_url = (await browser.get(auth_url)).headers["location"]
        now[0] += 601  # ten minutes and a second
        late = await browser.get(callback_url)
        assert parse_qs(urlsplit(late.headers["location"]).query) == {"error": ["invalid_state"]}

        denied_url = await _auth_url(sandbox_server, tenant)
        denied = await browser.get(denied_url + "&deny=1")
        back = await browser.get(denied.headers["location"])
        assert parse_qs(urlsplit(back.headers["location"]).query) == {"error": ["access_denied"]}
    for model in (MetaConnection, Page, InstagramAccount, WhatsAppAccount):
        assert await _count(runtime, model, tenant.org_id) == 0


async def test_unknown_platform_is_a_400_naming_it(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "platform")
    async with sandbox_server.client() as client:
        response = await client.get(
            "/api/auth/social/connect/myspace",
            headers=sandbox_server.headers(tenant),
        )
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert "platform" in response.json()["fields"]


async def test_login_with_facebook_creates_the_user_and_hands_over_a_session(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    async with sandbox_server.client() as browser:
        start = await browser.get("/auth/meta/login")
        dialog = await browser.get(start.headers["location"])
        back = await browser.get(dialog.headers["location"])
    location = urlsplit(back.headers["location"])
    assert location.path == "/frontend/auth/callback"
    token = parse_qs(location.fragment)["token"][0]
    async with sandbox_server.client() as client:
        viewer = await client.post(
            "/graphql",
            json={"query": "{ viewer { email organization { name } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert viewer.status_code == 200
    demo = sandbox_server.sandbox.info()["demo_user"]
    async with runtime.services.session_factory() as session:
        user = (
            await session.execute(select(User).where(User.meta_user_id == demo["id"]))
        ).scalar_one()
        conn = (
            await session.execute(
                select(MetaConnection).where(
                    MetaConnection.label == "facebook-login", MetaConnection.user_id == user.id
                )
            )
        ).scalar_one()
    assert viewer.json()["data"]["viewer"]["email"] == user.email
    assert conn.token_encrypted
    assert demo["access_token"] not in conn.token_encrypted
