"""The facebook-sync family's selective sync (``fields``) on a real worker against the
sandbox, and its metasync extension GET/PUT /api/facebook/pages/{pageId}/sync-schedule."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import update

from domain.models import Conversation, Page
from server import Runtime
from tests.conftest import Tenant, add_member
from tests.factories import seed_pages
from tests.rest_sync.conftest import SyncApi
from tests.rest_sync.test_facebook_sync import _error, _ok


def _schedule_path(page_id: uuid.UUID | str) -> str:
    return f"/api/facebook/pages/{page_id}/sync-schedule"


async def test_selected_page_details_only_are_read_and_written(api: SyncApi) -> None:
    tenant, page = await api.connected("restsel")
    async with api.runtime.services.session_factory() as session:
        await session.execute(
            update(Page).where(Page.id == page.id).values(about="ours", fan_count=0)
        )
        await session.commit()
    api.server.sandbox.clear_calls()
    body = _ok(
        await api.call(
            "POST", f"/api/facebook/pages/{page.id}/sync-from-facebook?fields=page.fan_count",
            tenant,
        )
    )  # fmt: skip
    assert body["page"]["about"] == "ours"  # not selected: kept
    assert body["page"]["fan_count"] > 0
    (call,) = api.server.sandbox.calls()
    assert call["fields"] == "id,fan_count"


async def test_a_full_sync_with_fields_in_the_body_records_them(api: SyncApi) -> None:
    tenant, page = await api.connected("restfull")
    api.server.sandbox.clear_calls()
    body = _ok(
        await api.call(
            "POST", f"/api/facebook/pages/{page.id}/full-sync-from-facebook", tenant,
            {"fields": ["conversations.unread_count", "contacts.name"]},
        )
    )  # fmt: skip
    assert body["fields"] == ["contacts.name", "conversations.unread_count"]
    assert body["sync_results"]["contacts"]["synced_count"] > 0
    listings = [c for c in api.server.sandbox.calls() if c["path"].endswith("/conversations")]
    assert {c["fields"] for c in listings} == {"id,unread_count,participants"}
    status = _ok(await api.call("GET", f"/api/facebook/pages/{page.id}/sync-status", tenant))
    assert status["last_run"]["fields"] == body["fields"]
    async with api.runtime.services.session_factory() as session:
        rows = (
            await session.execute(
                Conversation.__table__.select().where(Conversation.page_id == page.id)
            )
        ).all()
    assert rows
    assert {r.snippet for r in rows} == {None}  # snippets were not selected


async def test_unknown_or_malformed_fields_are_a_400_naming_fields(api: SyncApi) -> None:
    tenant, page = await api.connected("restbad")
    path = f"/api/facebook/pages/{page.id}/sync-contacts-from-facebook"
    unknown = _error(await api.call("POST", path, tenant, {"fields": "contacts.name,bogus"}), 400)
    assert unknown["field"] == "fields"
    assert 'unknown field "bogus"' in unknown["message"]
    wrong_type = _error(await api.call("POST", path, tenant, {"fields": 5}), 400)
    assert wrong_type["field"] == "fields"
    in_query = _error(await api.call("POST", f"{path}?fields=page.name", tenant), 400)
    assert "page not read by a contacts sync" in in_query["message"]


async def _put(
    client: httpx.AsyncClient, tenant: Tenant, page_id: uuid.UUID | str, body: Any
) -> httpx.Response:
    return await client.put(_schedule_path(page_id), json=body, headers=tenant.headers)


async def test_schedule_crud_with_validation(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = seeded.page.id
    read = _ok(await client.get(_schedule_path(page_id), headers=tenant.headers))
    assert read["schedule"] == {
        "page_id": str(page_id),
        "enabled": True,
        "contacts_interval_minutes": 15,
        "incremental_interval_minutes": 30,
        "full_sync_hour": 2,
        "fields": None,
        "is_default": True,
        "updated_at": None,
    }
    saved = _ok(
        await _put(
            client, tenant, page_id,
            {"incremental_interval_minutes": 120, "fields": ["messages", "conversations"]},
        )
    )["schedule"]  # fmt: skip
    assert saved["incremental_interval_minutes"] == 120
    assert saved["fields"] == ["conversations", "messages"]
    assert saved["is_default"] is False
    assert saved["updated_at"]
    for body, field in [
        ({"contacts_interval_minutes": 3}, "contacts_interval_minutes"),
        ({"full_sync_hour": "2"}, "full_sync_hour"),
        ({"enabled": "yes"}, "enabled"),
        ({"fields": "messages"}, "fields"),
        ({"colour": "blue"}, "colour"),
    ]:
        refused = _error(await _put(client, tenant, page_id, body), 400)
        assert refused["field"] == field, body
    again = _ok(await client.get(_schedule_path(page_id), headers=tenant.headers))["schedule"]
    assert again == saved
    bad_id = _error(await client.get(_schedule_path("not-a-page"), headers=tenant.headers), 400)
    assert bad_id["field"] == "pageId"


async def test_first_saves_at_the_same_time_all_succeed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """Two operators saving a Page's first schedule at once: both are answered 200 (the
    database's unique key picks the row, never a 500), and one of the saves is what stays."""
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = seeded.page.id
    intervals = [60, 90, 120, 240]
    answers = await asyncio.gather(
        *(_put(client, tenant, page_id, {"incremental_interval_minutes": n}) for n in intervals)
    )
    assert [a.status_code for a in answers] == [200] * len(intervals), [a.text for a in answers]
    stored = _ok(await client.get(_schedule_path(page_id), headers=tenant.headers))["schedule"]
    assert stored["incremental_interval_minutes"] in intervals
    assert stored["is_default"] is False


async def test_another_organizations_page_answers_like_a_missing_one(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    theirs, missing = seeded.page.id, uuid.uuid4()
    for page_id in (theirs, missing):
        got = _error(await client.get(_schedule_path(page_id), headers=other_tenant.headers), 404)
        put = _error(await _put(client, other_tenant, page_id, {"enabled": False}), 404)
        assert (got["message"], put["message"]) == ("Page not found", "Page not found")
    member = await add_member(runtime, tenant)
    forbidden = _error(await _put(client, member, theirs, {"enabled": False}), 403)
    assert "sync schedule" in forbidden["message"]
    read = _ok(await client.get(_schedule_path(theirs), headers=member.headers))
    assert read["schedule"]["enabled"] is True


async def test_openapi_describes_the_extension_and_the_fields_option(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    schedule = spec["paths"]["/api/facebook/pages/{pageId}/sync-schedule"]
    assert set(schedule) == {"get", "put"}
    assert "metasync extension" in schedule["put"]["description"]
    contacts = spec["paths"]["/api/facebook/pages/{pageId}/sync-contacts-from-facebook"]["post"]
    assert "metasync extension" in contacts["description"]
    assert contacts["requestBody"]["required"] is False
    assert [p["name"] for p in contacts["parameters"] if p["in"] == "query"] == ["fields"]
