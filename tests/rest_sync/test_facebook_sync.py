"""spec/facebook-sync-api.md through HTTP: syncs run on a real worker against the sandbox and
answer the documented bodies; writes say what reached Meta; errors use the family envelope."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from domain.models import Contact, Conversation, Message, Page
from domain.services.sync.runs import SyncLimits
from domain.services.sync.waiting import wait_for_run
from tests.conftest import Tenant
from tests.rest_sync.conftest import SyncApi

LUCKY_SHRUB = "Lucky Shrub"


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is True
    return body


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["status"] == status
    assert body["message"]
    return body


async def _stored(api: SyncApi, page: Page) -> tuple[int, int, int]:
    """Conversations, contacts and messages stored for the page."""
    async with api.runtime.services.session_factory() as session:
        conversations = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.page_id == page.id)
        )
        contacts = await session.scalar(
            select(func.count()).select_from(Contact).where(Contact.page_id == page.id)
        )
        messages = await session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.page_id == page.id)
        )
    return int(conversations or 0), int(contacts or 0), int(messages or 0)


def _sandbox_conversations(api: SyncApi) -> int:
    info = api.server.sandbox.info()
    return int(next(p for p in info["pages"] if p["name"] == LUCKY_SHRUB)["conversations"])


async def test_full_sync_answers_exact_counts_and_a_rerun_creates_nothing(api: SyncApi) -> None:
    tenant, page = await api.connected("full-sync")
    path = f"/api/facebook/pages/{page.id}/full-sync-from-facebook"

    first = _ok(await api.call("POST", path, tenant))
    conversations, contacts, messages = await _stored(api, page)
    assert conversations == _sandbox_conversations(api)
    assert first["page_id"] == str(page.id)
    assert first["synced_at"]
    results = first["sync_results"]
    assert results["page_details"]["success"] is True
    assert results["page_details"]["page"]["id"] == str(page.id)
    assert results["page_details"]["page"]["name"] == LUCKY_SHRUB
    assert results["page_details"]["page"]["synced_at"] == first["synced_at"]
    assert isinstance(results["page_details"]["page"]["fan_count"], int)
    assert results["contacts"] == {
        "success": True,
        "synced_count": contacts,
        "created_count": contacts,
        "updated_count": 0,
        "unchanged_count": 0,
    }
    assert len(results["conversations"]) == conversations
    assert sum(c["messages_synced"] for c in results["conversations"]) == messages
    assert all(set(c) >= {"id", "messages_synced"} for c in results["conversations"])
    assert first["counts"]["total"]["created"] == contacts + conversations + messages
    assert first["counts"]["messages"]["created"] == messages

    # The spec's limit: a full sync at most once per 5 minutes per page.
    limited = await api.call("POST", path, tenant)
    body = _error(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 300
    assert "5 minutes" in body["message"]

    # An operator shortening the interval (SYNC_FULL_INTERVAL_SECONDS) lets it run again:
    # everything is already there, so nothing is created or changed.
    api.server.runtime.services.sync_limits = SyncLimits(full_interval_seconds=0.01)
    again = _ok(await api.call("POST", path, tenant))
    assert again["counts"]["total"] == {
        "created": 0,
        "updated": 0,
        "unchanged": first["counts"]["total"]["created"] + 1,  # + the page details
    }
    assert again["sync_results"]["contacts"]["synced_count"] == contacts
    assert again["sync_results"]["contacts"]["created_count"] == 0
    assert sorted(again["sync_results"]["conversations"], key=lambda c: c["id"]) == sorted(
        results["conversations"], key=lambda c: c["id"]
    )
    assert await _stored(api, page) == (conversations, contacts, messages)

    status = _ok(await api.call("GET", f"/api/facebook/pages/{page.id}/sync-status", tenant))
    assert status["page"] == {
        "id": str(page.id),
        "name": LUCKY_SHRUB,
        "status": "active",
        "last_synced_at": again["synced_at"],
        "facebook_page_id": page.meta_page_id,
    }
    assert status["statistics"] == {
        "total_conversations": conversations,
        "total_contacts": contacts,
        "last_sync": again["synced_at"],
        "total_messages": messages,
    }
    assert status["last_run"]["id"] == again["run_id"]
    assert status["last_run"]["status"] == "succeeded"


async def test_page_contact_message_and_status_syncs(api: SyncApi) -> None:
    owner, page = await api.connected("syncs")
    member = await api.member_of(owner)  # members may sync

    details = _ok(
        await api.call("POST", f"/api/facebook/pages/{page.id}/sync-from-facebook", member)
    )
    assert details["page"]["id"] == str(page.id)
    assert details["page"]["name"] == LUCKY_SHRUB
    assert {"category", "about", "fan_count", "synced_at"} <= set(details["page"])
    assert details["page"]["synced_at"]

    path = f"/api/facebook/pages/{page.id}/sync-contacts-from-facebook"
    contacts = _ok(await api.call("POST", path, member))
    _, stored_contacts, _ = await _stored(api, page)
    assert contacts["synced_count"] == stored_contacts == len(contacts["contacts"])
    assert all(c["created"] is True for c in contacts["contacts"])
    assert all(c["facebook_id"] and c["name"] for c in contacts["contacts"])
    again = _ok(await api.call("POST", path, member))
    assert again["synced_count"] == stored_contacts
    assert again["created_count"] == 0
    assert all(c["created"] is False for c in again["contacts"])

    async with api.runtime.services.session_factory() as session:
        conversation = (
            (
                await session.execute(
                    select(Conversation).where(
                        Conversation.page_id == page.id, Conversation.platform == "messenger"
                    )
                )
            )
            .scalars()
            .first()
        )
        assert conversation is not None
        person = await session.get(Contact, conversation.contact_id)
        assert person is not None
    messages = _ok(
        await api.call(
            "POST",
            f"/api/facebook/conversations/{conversation.id}/sync-messages-from-facebook",
            member,
        )
    )
    assert messages["synced_count"] == len(messages["messages"]) > 0
    assert messages["created_count"] == messages["synced_count"]
    first = messages["messages"][0]
    assert set(first) >= {"id", "facebook_message_id", "created", "from"}
    assert all(m["created"] is True for m in messages["messages"])
    # Senders are the person or the Page, by name (None only where Meta hides the details).
    senders = {m["from"] for m in messages["messages"]} - {None}
    assert senders <= {person.name, LUCKY_SHRUB}
    assert person.name in senders

    status = _ok(
        await api.call(
            "POST",
            f"/api/facebook/conversations/{conversation.id}/sync-status-from-facebook",
            member,
        )
    )
    assert status["unread_count"] == conversation.unread_count
    assert status["synced_at"]


async def test_writes_say_what_reached_meta(api: SyncApi) -> None:
    owner, page = await api.connected("writes")
    member = await api.member_of(owner)
    _ok(await api.call("POST", f"/api/facebook/pages/{page.id}/sync-contacts-from-facebook", owner))
    async with api.runtime.services.session_factory() as session:
        conversation = (
            (
                await session.execute(
                    select(Conversation).where(
                        Conversation.page_id == page.id, Conversation.platform == "messenger"
                    )
                )
            )
            .scalars()
            .first()
        )
        assert conversation is not None
        person = await session.get(Contact, conversation.contact_id)
        assert person is not None
    conv = f"/api/facebook/conversations/{conversation.id}"

    archived = _ok(await api.call("POST", f"{conv}/archive-on-facebook", member))
    assert archived["message"] == "Conversation archived"
    assert archived["applied_on_meta"] is False
    assert "no API" in archived["meta_note"]

    muted = _ok(
        await api.call("POST", f"{conv}/mute-on-facebook", member, {"mute_until": "PERMANENTLY"})
    )
    assert muted["message"] == "Conversation muted until PERMANENTLY"
    assert muted["applied_on_meta"] is False
    assert muted["muted_until"].startswith("9999-")
    until = 4_102_444_800  # 2100-01-01
    timed = _ok(await api.call("POST", f"{conv}/mute-on-facebook", member, {"mute_until": until}))
    assert timed["message"] == f"Conversation muted until {until}"
    assert timed["muted_until"] == "2100-01-01T00:00:00Z"

    seen_before = len(api.server.sandbox.sender_actions)
    read = _ok(await api.call("POST", f"{conv}/mark-read-on-facebook", member))
    assert read["message"] == "Conversation marked as read"
    assert read["unread_count"] == 0
    assert read["applied_on_meta"] is True  # mark_seen reached the person's thread
    [action] = api.server.sandbox.sender_actions[seen_before:]
    assert "mark_seen" in str(action)
    assert person.platform_user_id in str(action)

    contact = _ok(
        await api.call(
            "PUT",
            f"/api/facebook/contacts/{person.id}/update-in-system",
            member,
            {
                "name": "Updated Name",
                "email": "john@example.com",
                "phone": "+1-234-567-8900",
                "custom_fields": {"company": "ABC Corp"},
                "tags": ["vip", "customer"],
                "notes": "Important customer notes",
            },
        )
    )
    assert {k: contact["contact"][k] for k in ("id", "name", "email", "phone")} == {
        "id": str(person.id),
        "name": "Updated Name",
        "email": "john@example.com",
        "phone": "+1-234-567-8900",
    }
    assert contact["contact"]["tags"] == ["vip", "customer"]
    assert contact["applied_on_meta"] is False

    # Changing the public Page on Facebook is for owners and admins.
    update = f"/api/facebook/pages/{page.id}/update-to-facebook"
    fields = {"about": "Plants, delivered 24/7", "website": "https://luckyshrub.example"}
    _error(await api.call("PUT", update, member, fields), 403)
    updated = _ok(await api.call("PUT", update, owner, fields))
    assert updated["message"] == "Page updated successfully"
    assert sorted(updated["updated_fields"]) == ["about", "website"]
    assert updated["applied_on_meta"] is True
    meta_page = api.server.sandbox.store.page(page.meta_page_id)
    assert meta_page is not None
    assert meta_page.about == fields["about"]
    unchanged = _ok(await api.call("PUT", update, owner, fields))
    assert unchanged["updated_fields"] == []
    assert unchanged["applied_on_meta"] is False


async def test_errors_use_the_family_envelope(api: SyncApi) -> None:
    owner, page = await api.connected("errors")
    member = await api.member_of(owner)
    # Rows of another organization: answered exactly like missing ones.
    foreign_page, foreign_conversation, foreign_contact = await _foreign_rows(api)

    unauthenticated = await api.call(
        "POST", f"/api/facebook/pages/{page.id}/sync-from-facebook", None
    )
    _error(unauthenticated, 401)

    for method, path, field in [
        ("POST", "/api/facebook/pages/nope/full-sync-from-facebook", "pageId"),
        ("GET", "/api/facebook/pages/42/sync-status", "pageId"),
        ("POST", "/api/facebook/conversations/x/archive-on-facebook", "conversationId"),
        ("PUT", "/api/facebook/contacts/x/update-in-system", "contactId"),
    ]:
        assert _error(await api.call(method, path, owner, {}), 400)["field"] == field

    for method, path in [
        ("POST", f"/api/facebook/pages/{foreign_page}/sync-from-facebook"),
        ("POST", f"/api/facebook/pages/{foreign_page}/full-sync-from-facebook"),
        ("GET", f"/api/facebook/pages/{foreign_page}/sync-status"),
        ("PUT", f"/api/facebook/pages/{foreign_page}/update-to-facebook"),
        ("POST", f"/api/facebook/pages/{uuid.uuid4()}/sync-contacts-from-facebook"),
        ("POST", f"/api/facebook/conversations/{foreign_conversation}/sync-messages-from-facebook"),
        ("POST", f"/api/facebook/conversations/{foreign_conversation}/sync-status-from-facebook"),
        ("POST", f"/api/facebook/conversations/{foreign_conversation}/archive-on-facebook"),
        ("POST", f"/api/facebook/conversations/{foreign_conversation}/mark-read-on-facebook"),
        ("PUT", f"/api/facebook/contacts/{foreign_contact}/update-in-system"),
    ]:
        body = {"about": "x"} if method == "PUT" and "pages" in path else {"name": "x"}
        assert "not found" in _error(await api.call(method, path, owner, body), 404)["message"]
    muted = await api.call(
        "POST",
        f"/api/facebook/conversations/{foreign_conversation}/mute-on-facebook",
        owner,
        {"mute_until": "PERMANENTLY"},
    )
    _error(muted, 404)

    update = f"/api/facebook/pages/{page.id}/update-to-facebook"
    assert (
        _error(await api.call("PUT", update, owner, {"fan_count": 5}), 400)["field"] == "fan_count"
    )
    assert _error(await api.call("PUT", update, owner, {}), 400)["field"] == "body"
    bad_site = await api.call("PUT", update, owner, {"website": "ftp://x"})
    assert _error(bad_site, 400)["field"] == "website"
    not_json = await api.http.put(
        update,
        content=b"{",
        headers={**api.server.headers(owner), "Content-Type": "application/json"},
    )
    assert _error(not_json, 400)["field"] == "body"
    assert _error(await api.call("PUT", update, member, {"about": "x"}), 403)["status"] == 403

    conversation, contact = await _own_rows(api, owner, page)
    mute = f"/api/facebook/conversations/{conversation}/mute-on-facebook"
    assert _error(await api.call("POST", mute, owner, {}), 400)["field"] == "mute_until"
    assert _error(await api.call("POST", mute, owner, {"mute_until": "soon"}), 400)["field"] == (
        "mute_until"
    )
    archive = f"/api/facebook/conversations/{conversation}/archive-on-facebook"
    assert _error(await api.call("POST", archive, owner, {"archived": "yes"}), 400)["field"] == (
        "archived"
    )
    edit = f"/api/facebook/contacts/{contact}/update-in-system"
    assert _error(await api.call("PUT", edit, owner, {"email": "nope"}), 400)["field"] == "email"
    assert _error(await api.call("PUT", edit, owner, {"tags": "vip"}), 400)["field"] == "tags"


async def test_meta_failures_answer_with_metas_code(api: SyncApi) -> None:
    tenant, page = await api.connected("meta-errors")
    sandbox = api.server.sandbox
    details = f"/api/facebook/pages/{page.id}/sync-from-facebook"

    # Meta failing every attempt of a call (the Graph client retries 3 times): the run fails
    # and the answer is a 502 carrying Meta's code. Four faults: the breaker stays closed.
    sandbox.set_faults(
        {
            "rules": [
                {"kind": "server_error", "code": 2, "times": 4, "path": f"^/{page.meta_page_id}$"}
            ]
        }
    )
    failed = _error(await api.call("POST", details, tenant), 502)
    assert failed["code"] == "META_API_ERROR"
    assert failed["meta_code"] == 2
    assert uuid.UUID(failed["run_id"])

    # A write Meta keeps failing (setting fields is idempotent, so it is retried too) is not
    # stored, and is a 502 as well.
    sandbox.set_faults(
        {"rules": [{"kind": "server_error", "code": 1, "times": 4, "method": "POST",
                    "path": f"^/{page.meta_page_id}$"}]}
    )  # fmt: skip
    update = f"/api/facebook/pages/{page.id}/update-to-facebook"
    refused = _error(await api.call("PUT", update, tenant, {"about": "Never stored"}), 502)
    assert refused["meta_code"] == 1
    sandbox.clear_faults()
    async with api.runtime.services.session_factory() as session:
        stored = await session.get(Page, page.id)
        assert stored is not None
        assert stored.about != "Never stored"

    # A login Meta no longer accepts: a person must log in with Facebook again. (Another
    # scope than the failed run's, which the worker retries in the background meanwhile.)
    sandbox.revoke_token(sandbox.info()["demo_user"]["access_token"])
    contacts = f"/api/facebook/pages/{page.id}/sync-contacts-from-facebook"
    revoked = _error(await api.call("POST", contacts, tenant), 401)
    assert revoked["code"] == "REAUTHORIZATION_REQUIRED"
    assert revoked["meta_code"] == 190
    assert revoked["reauthorization_required"] is True


async def test_a_sync_outlasting_the_wait_answers_202_with_the_run(api: SyncApi) -> None:
    tenant, page = await api.connected("accepted")
    services = api.server.runtime.services
    services.sync_wait_seconds = 0.05
    api.server.sandbox.set_faults({"latency": {"fixed_ms": 400}})
    try:
        response = await api.call(
            "POST", f"/api/facebook/pages/{page.id}/sync-from-facebook", tenant
        )
    finally:
        api.server.sandbox.clear_faults()
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True
    assert body["status"] in ("queued", "running")
    assert body["page_id"] == str(page.id)
    # The run goes on in the background and finishes.
    run = await wait_for_run(services.uow, services.bus, uuid.UUID(body["run_id"]), wait_seconds=30)
    assert run.status == "succeeded", run.error
    status = _ok(await api.call("GET", f"/api/facebook/pages/{page.id}/sync-status", tenant))
    assert status["last_run"]["id"] == body["run_id"]
    assert status["last_run"]["status"] == "succeeded"


async def _foreign_rows(api: SyncApi) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A page, conversation and contact of another organization."""
    other, page = await api.connected("foreign")
    return (page.id, *await _own_rows(api, other, page))


async def _own_rows(api: SyncApi, tenant: Tenant, page: Page) -> tuple[uuid.UUID, uuid.UUID]:
    async with api.runtime.services.session_factory() as session:
        row = await session.get(Page, page.id)
        assert row is not None
        assert row.organization_id == tenant.org_id
        ids = await _add_rows(session, row)
        await session.commit()
    return ids


async def _add_rows(session: Any, page: Page) -> tuple[uuid.UUID, uuid.UUID]:
    contact = Contact(
        id=uuid.uuid4(),
        organization_id=page.organization_id,
        page_id=page.id,
        platform="messenger",
        platform_user_id=uuid.uuid4().hex[:16],
        name="Someone",
    )
    session.add(contact)
    await session.flush()
    conversation = Conversation(
        id=uuid.uuid4(),
        organization_id=page.organization_id,
        page_id=page.id,
        contact_id=contact.id,
        platform="messenger",
        meta_conversation_id=f"t_{uuid.uuid4().hex[:12]}",
    )
    session.add(conversation)
    return conversation.id, contact.id
