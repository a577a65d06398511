"""Webhook configuration (spec/meta-business-api.md) and re-subscribing dropped Pages."""

from __future__ import annotations

from domain.services.webhook_config import resubscribe_dropped
from server import Runtime
from tests.conftest import add_member
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected


async def test_get_and_configure_apply_the_fields_on_meta(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "hooks")
    headers = sandbox_server.headers(tenant)
    async with sandbox_server.client() as client:
        before = (await client.get("/api/meta/webhook", headers=headers)).json()["data"]
        assert before["targetUrl"] == f"{sandbox_server.base}/webhooks/meta"
        assert before["fields"]["messages"] is True
        token = sandbox_server.runtime.settings.WEBHOOK_VERIFY_TOKEN
        assert before["verifyToken"] != token  # masked
        assert before["verifyToken"].endswith(token[-4:])

        fields = {"messages": True, "message_deliveries": True, "messaging_postbacks": False}
        done = await client.post(
            "/api/meta/webhook/configure",
            json={"verifyToken": token, "fields": fields},
            headers=headers,
        )
        assert done.status_code == 200, done.text
        data = done.json()["data"]
        assert data["fields"]["messaging_postbacks"] is False
        assert data["applied_on_meta"] is True
        assert data["pagesSubscribed"] == data["pagesTotal"] == 2

        wrong = await client.post(
            "/api/meta/webhook/configure",
            json={"verifyToken": "guess", "fields": fields},
            headers=headers,
        )
        assert wrong.status_code == 400
        assert wrong.json()["error"]["details"]["field"] == "verifyToken"
        no_messages = await client.post(
            "/api/meta/webhook/configure", json={"fields": {"messages": False}}, headers=headers
        )
        assert no_messages.status_code == 400
        assert no_messages.json()["error"]["details"]["field"] == "fields.messages"
        anonymous = await client.get("/api/meta/webhook")
        assert anonymous.status_code == 401
        # A plain member reads the configuration but may not change what Meta sends.
        member = sandbox_server.headers(await add_member(sandbox_server.runtime, tenant))
        assert (await client.get("/api/meta/webhook", headers=member)).status_code == 200
        refused = await client.post(
            "/api/meta/webhook/configure",
            json={"verifyToken": token, "fields": {"messages": True, "feed": True}},
            headers=member,
        )
        assert refused.status_code == 403, refused.text

    page_token = next(
        p["access_token"] for p in sandbox_server.sandbox.info()["pages"]
        if p["id"] == page.meta_page_id
    )  # fmt: skip
    subscribed = await sandbox_server.runtime.graph.subscribed_apps_get(
        page.meta_page_id, page_token
    )
    [ours] = [a for a in subscribed if str(a["id"]) == runtime.settings.META_APP_ID]
    assert set(ours["subscribed_fields"]) == {"messages", "message_deliveries"}


async def test_pages_meta_dropped_are_subscribed_again(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "dropped")
    graph = sandbox_server.runtime.graph
    page_token = next(
        p["access_token"] for p in sandbox_server.sandbox.info()["pages"]
        if p["id"] == page.meta_page_id
    )  # fmt: skip
    await graph.subscribed_apps_delete(page.meta_page_id, page_token)
    assert (
        await sandbox_server.runtime.services.meta.page_subscribed_fields(
            page.meta_page_id, page_token
        )
        is None
    )
    services = sandbox_server.runtime.services
    checked, resubscribed = await resubscribe_dropped(services.uow(), services.meta, services.vault)
    assert checked >= 2
    assert resubscribed >= 1
    assert await services.meta.page_subscribed_fields(page.meta_page_id, page_token)


async def test_connecting_subscribes_the_whatsapp_account_so_its_webhooks_arrive(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    await connected(sandbox_server, runtime, "wa-hooks")
    waba = sandbox_server.sandbox.info()["whatsapp_business_accounts"][0]
    assert waba["subscribed"] is True
