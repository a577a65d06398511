"""Selective field sync against the sandbox: only the selected fields are asked of Meta (read
from the sandbox's call log) and only the selected columns are written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, update

from domain.errors import InvalidInputError
from domain.models import Contact, Conversation, Message, Page, SyncRun
from domain.services.sync.engine import execute_run
from domain.services.sync.fields import SyncSelection, parse_selection, selection_for
from domain.services.sync.runs import SyncScope, start_sync
from server import Runtime
from tests.conftest import Tenant
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected, sync


async def selective(
    server: SandboxServer, tenant: Tenant, page: Page, scope: SyncScope, names: list[str]
) -> SyncRun:
    services = server.runtime.services
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id, scope=scope,
            trigger="manual", selection=selection_for(scope, names),
        )  # fmt: skip
        await uow.commit()
    done = await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    assert done is not None
    assert done.status == "succeeded", done.error
    return done


def calls_to(server: SandboxServer, path_end: str) -> list[dict[str, Any]]:
    return [c for c in server.sandbox.calls() if c["path"].endswith(path_end)]


async def conversations_of(runtime: Runtime, page_id: uuid.UUID) -> list[Conversation]:
    async with runtime.services.session_factory() as session:
        rows = await session.execute(select(Conversation).where(Conversation.page_id == page_id))
        return list(rows.scalars())


async def test_only_selected_conversation_fields_are_requested_and_written(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "selconv")
    await sync(sandbox_server, tenant, page, SyncScope.FULL)
    truth = {c.id: (c.unread_count, c.snippet) for c in await conversations_of(runtime, page.id)}
    async with runtime.services.session_factory() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.page_id == page.id)
            .values(unread_count=77, snippet="kept locally", message_count=-1)
        )
        await session.execute(update(Page).where(Page.id == page.id).values(fan_count=-1))
        messages_before = await session.scalar(select(func.count()).select_from(Message))
        await session.commit()
    sandbox_server.sandbox.clear_calls()

    run = await selective(
        sandbox_server, tenant, page, SyncScope.FULL, ["conversations.unread_count"]
    )

    assert run.selected_fields == ["conversations.unread_count"]
    listings = calls_to(sandbox_server, "/conversations")
    assert listings  # every folder of the Page was listed
    for call in listings:
        assert call["fields"] == "id,unread_count,participants{id}"
    # Nothing else was asked: no Page details, no profiles, no message pages.
    assert [c for c in sandbox_server.sandbox.calls() if c not in listings] == []
    rows = await conversations_of(runtime, page.id)
    assert {c.id: c.unread_count for c in rows} == {cid: t[0] for cid, t in truth.items()}
    assert {c.snippet for c in rows} == {"kept locally"}
    assert {c.message_count for c in rows} == {-1}
    async with runtime.services.session_factory() as session:
        stored = await session.get(Page, page.id)
        assert stored is not None
        assert stored.fan_count == -1
        assert await session.scalar(select(func.count()).select_from(Message)) == messages_before


async def test_contact_pictures_alone_skip_names_conversations_and_messages(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "selpics")
    sandbox_server.sandbox.clear_calls()

    run = await selective(sandbox_server, tenant, page, SyncScope.CONTACTS, ["contacts.picture"])

    for call in calls_to(sandbox_server, "/conversations"):
        assert call["fields"] == "id,participants{id}"
    # (The Instagram listing first learns the Page's Instagram id: one call to the Page.)
    profiles = [
        c
        for c in sandbox_server.sandbox.calls()
        if "/conversations" not in c["path"] and c["path"] != f"/{page.meta_page_id}"
    ]
    assert profiles
    assert {c["fields"] for c in profiles} == {"profile_pic"}
    async with runtime.services.session_factory() as session:
        contacts = list(
            (await session.execute(select(Contact).where(Contact.page_id == page.id))).scalars()
        )
    assert len(contacts) == run.created_count > 0
    assert all(c.picture_url and c.meta_picture_url for c in contacts)
    assert {c.name for c in contacts} == {None}  # names were not selected
    assert await conversations_of(runtime, page.id) == []  # no conversation field selected


async def test_selected_page_details_only(sandbox_server: SandboxServer, runtime: Runtime) -> None:
    tenant, page = await connected(sandbox_server, runtime, "selpage")
    async with runtime.services.session_factory() as session:
        await session.execute(
            update(Page).where(Page.id == page.id).values(fan_count=0, about="our own words")
        )
        await session.commit()
    sandbox_server.sandbox.clear_calls()

    await selective(sandbox_server, tenant, page, SyncScope.DETAILS, ["page.fan_count"])

    (call,) = sandbox_server.sandbox.calls()
    assert call["path"] == f"/{page.meta_page_id}"
    assert call["fields"] == "id,fan_count"
    async with runtime.services.session_factory() as session:
        stored = await session.get(Page, page.id)
    assert stored is not None
    assert stored.fan_count
    assert stored.fan_count > 0
    assert stored.about == "our own words"


async def test_a_plain_sync_still_reads_everything(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "selall")
    sandbox_server.sandbox.clear_calls()
    # Naming every part is the same as naming none: the run records no selection.
    run = await selective(
        sandbox_server, tenant, page, SyncScope.INCREMENTAL,
        ["contacts", "conversations", "messages"],
    )  # fmt: skip
    assert run.selected_fields is None
    fields = {c["fields"] for c in calls_to(sandbox_server, "/conversations")}
    assert fields == {
        "id,updated_time,unread_count,message_count,snippet,folder,participants,"
        "messages.limit(20){id,message,from,to,created_time,attachments,reply_to}"
    }


async def test_a_contacts_sync_leaves_the_incremental_watermark_alone(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    """A contacts sync reads no messages: were it to move the watermark, the next
    incremental sync would skip the messages of every conversation it listed."""
    tenant, page = await connected(sandbox_server, runtime, "watermark")
    await sync(sandbox_server, tenant, page, SyncScope.CONTACTS)
    incremental = await sync(sandbox_server, tenant, page, SyncScope.INCREMENTAL)
    assert incremental.details["counts"]["messages"]["created"] > 0
    # An incremental sync that left messages out does not move it either.
    tenant2, page2 = await connected(sandbox_server, runtime, "watermark2")
    await selective(sandbox_server, tenant2, page2, SyncScope.INCREMENTAL, ["conversations"])
    async with runtime.services.session_factory() as session:
        stored = await session.get(Page, page2.id)
    assert stored is not None
    assert stored.sync_watermark is None


@pytest.mark.parametrize(
    ("scope", "names", "problem"),
    [
        (SyncScope.CONTACTS, ["contacts.email"], 'unknown field "contacts.email"'),
        (SyncScope.FULL, ["pages.name"], 'unknown field "pages.name"'),
        (SyncScope.DETAILS, ["page.name", "messages"], "messages not read by a details sync"),
        (SyncScope.STATUS, ["messages"], "messages not read by a status sync"),
        (SyncScope.FULL, [], "must name at least one field"),
    ],
)
def test_bad_selections_are_refused_naming_the_field(
    scope: SyncScope, names: list[str], problem: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        selection_for(scope, names)
    assert refused.value.field == "fields"
    assert problem in refused.value.problem


def test_selection_names_round_trip() -> None:
    chosen = parse_selection(["page", "contacts.picture", "conversations.snippet", "messages"])
    assert chosen.names() == ["page", "contacts.picture", "conversations.snippet", "messages"]
    assert parse_selection(chosen.names()) == chosen
    assert parse_selection(SyncSelection.everything().names()).is_everything
