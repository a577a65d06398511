"""The sync engine against the sandbox: full sync, idempotent re-sync, incremental."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from domain.models import Contact, Conversation, Message, Page, SyncRun
from domain.services.connections import add_meta_token
from domain.services.facebook_actions import update_contact
from domain.services.sync.engine import execute_run
from domain.services.sync.runs import SyncScope, start_sync
from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import Tenant, create_tenant, gql
from tests.connections.conftest import SandboxServer


async def connected(server: SandboxServer, runtime: Runtime, label: str) -> tuple[Tenant, Page]:
    tenant = await create_tenant(runtime, label)
    services = server.runtime.services
    report = await add_meta_token(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=tenant.org_id,
        user_id=tenant.principal.user_id,
        label="sync",
        token=server.sandbox.info()["demo_user"]["access_token"],
        now=services.clock.now(),
    )
    page = next(p for p in report.pages if p.name == "Lucky Shrub")
    return tenant, page


async def sync(server: SandboxServer, tenant: Tenant, page: Page, scope: SyncScope) -> SyncRun:
    services = server.runtime.services
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=scope, trigger="manual"
        )
        await uow.commit()
    done = await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    assert done is not None
    return done


async def _count(runtime: Runtime, model: type, page_id: uuid.UUID) -> int:
    async with runtime.services.session_factory() as session:
        if model is Message:
            stmt = (
                select(func.count())
                .select_from(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.page_id == page_id)
            )
        else:
            stmt = select(func.count()).select_from(model).where(model.page_id == page_id)
        return int((await session.execute(stmt)).scalar_one())


async def test_full_sync_then_resync_writes_nothing(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "fullsync")
    info = next(p for p in sandbox_server.sandbox.info()["pages"] if p["name"] == "Lucky Shrub")

    first = await sync(sandbox_server, tenant, page, SyncScope.FULL)
    assert first.status == "succeeded", first.error
    conversations = await _count(runtime, Conversation, page.id)
    assert conversations == info["conversations"]
    assert await _count(runtime, Contact, page.id) == conversations
    messages = await _count(runtime, Message, page.id)
    assert messages > 20 * 2
    assert first.created_count == conversations * 2 + messages  # contacts + conversations
    assert first.graph_calls > 0

    again = await sync(sandbox_server, tenant, page, SyncScope.FULL)
    assert again.status == "succeeded"
    assert again.created_count == 0
    assert again.updated_count == 0
    assert again.unchanged_count == first.created_count + 1  # + the page details

    async with runtime.services.session_factory() as session:
        old = (
            await session.execute(
                select(Message).where(Message.detail_available.is_(False)).limit(1)
            )
        ).scalar_one_or_none()
        named = (
            (
                await session.execute(
                    select(Contact).where(
                        Contact.page_id == page.id, Contact.picture_url.is_not(None)
                    )
                )
            )
            .scalars()
            .all()
        )
    # Messages beyond Meta's 20 most recent are recorded by id, without invented details.
    assert old is not None
    assert old.text is None
    # Names and pictures from the profile API.
    assert len(named) == conversations


async def test_a_local_name_edit_survives_syncs_and_metas_name_is_shown_beside_it(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "conflict")
    await sync(sandbox_server, tenant, page, SyncScope.CONTACTS)
    services = sandbox_server.runtime.services
    async with services.session_factory() as session:
        contact = (
            await session.execute(select(Contact).where(Contact.page_id == page.id).limit(1))
        ).scalar_one()
    meta_name = contact.name
    await update_contact(
        services.uow(), organization_id=tenant.org_id, contact_id=contact.id,
        fields={"name": "VIP Customer"},
    )  # fmt: skip
    await sync(sandbox_server, tenant, page, SyncScope.FULL)
    query = """query($id: ID!) { node(id: $id) { ... on Contact {
        name metaName locallyEdited } } }"""
    async with sandbox_server.client() as client:
        body = await gql(client, query, tenant_with(sandbox_server, tenant),
                         {"id": encode_global_id("Contact", contact.id)})  # fmt: skip
    assert body["data"]["node"] == {
        "name": "VIP Customer",
        "metaName": meta_name,
        "locallyEdited": ["name"],
    }


def tenant_with(server: SandboxServer, tenant: Tenant) -> Tenant:
    """The tenant with a token signed by the server's own key (the same in tests)."""
    return Tenant(tenant.principal, server.runtime.services.jwt.issue(tenant.principal))
