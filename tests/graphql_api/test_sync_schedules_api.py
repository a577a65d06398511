"""Sync schedules and selective sync over GraphQL: Page.syncSchedule (batched),
updateSyncSchedule with its validation, roles and organizations, and the fields argument
of the sync mutations."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server import Runtime
from tests.conftest import StatementCounter, Tenant, add_member, create_tenant, gql
from tests.factories import seed_pages
from tests.graphql_api.test_sync_api import ERRORS, RUN, SYNC_PAGE, data, gid

SCHEDULE = """enabled contactsIntervalMinutes incrementalIntervalMinutes fullSyncHour fields
isDefault"""
READ = f"query($id: ID!) {{ page(id: $id) {{ syncSchedule {{ {SCHEDULE} }} }} }}"
UPDATE = f"""mutation($id: ID!, $input: SyncScheduleInput!) {{
  updateSyncSchedule(pageId: $id, input: $input) {{
    __typename ... on SyncScheduleUpdated {{ schedule {{ {SCHEDULE} }} }} {ERRORS}
  }}
}}"""
SYNC_PAGE_FIELDS = f"""mutation($pageId: ID!, $scope: SyncScope!, $fields: [String!]) {{
  syncPage(pageId: $pageId, scope: $scope, fields: $fields) {{
    __typename ... on SyncStarted {{ created run {{ {RUN} fields }} }} {ERRORS}
  }}
}}"""
DEFAULTS = {
    "enabled": True,
    "contactsIntervalMinutes": 15,
    "incrementalIntervalMinutes": 30,
    "fullSyncHour": 2,
    "fields": None,
    "isDefault": True,
}


async def update(
    client: httpx.AsyncClient, tenant: Tenant, page_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    body = await data(client, UPDATE, tenant.headers, {"id": page_id, "input": values})
    answer: dict[str, Any] = body["updateSyncSchedule"]
    return answer


async def test_a_schedule_is_the_default_until_stored_then_changed_setting_by_setting(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = gid("Page", seeded.page.id)
    assert (await data(client, READ, tenant.headers, {"id": page_id}))["page"] == {
        "syncSchedule": DEFAULTS
    }
    first = await update(
        client, tenant, page_id,
        {"contactsIntervalMinutes": 10, "fields": ["contacts.name", "conversations"]},
    )  # fmt: skip
    stored = {
        **DEFAULTS,
        "contactsIntervalMinutes": 10,
        "fields": ["contacts.name", "conversations"],
        "isDefault": False,
    }
    assert first == {"__typename": "SyncScheduleUpdated", "schedule": stored}
    second = await update(client, tenant, page_id, {"enabled": False, "fullSyncHour": 23})
    stored |= {"enabled": False, "fullSyncHour": 23}
    assert second["schedule"] == stored
    # Selecting every field is the same as none.
    third = await update(
        client, tenant, page_id, {"fields": ["page", "contacts", "conversations", "messages"]}
    )
    assert third["schedule"]["fields"] is None
    read = await data(client, READ, tenant.headers, {"id": page_id})
    assert read["page"]["syncSchedule"] == stored | {"fields": None}


async def test_bad_settings_are_validation_errors_naming_the_setting_and_store_nothing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = gid("Page", seeded.page.id)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"contactsIntervalMinutes": 4}, "contactsIntervalMinutes", "from 5 to 1440"),
        ({"incrementalIntervalMinutes": 1441}, "incrementalIntervalMinutes", "from 5 to 1440"),
        ({"fullSyncHour": 24}, "fullSyncHour", "from 0 to 23"),
        ({"enabled": None}, "enabled", "true or false"),
        ({"fields": ["contacts.email"]}, "fields", 'unknown field "contacts.email"'),
        ({"fields": []}, "fields", "at least one field"),
    ]
    for values, field, problem in cases:
        answer = await update(client, tenant, page_id, values)
        assert (answer["__typename"], answer["code"]) == ("ValidationError", "VALIDATION")
        assert [f["field"] for f in answer["fields"]] == [field], values
        assert problem in answer["fields"][0]["message"]
    read = await data(client, READ, tenant.headers, {"id": page_id})
    assert read["page"]["syncSchedule"] == DEFAULTS


async def test_another_organizations_page_is_not_found_and_members_may_not_change_it(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = gid("Page", seeded.page.id)
    answer = await update(client, other_tenant, page_id, {"enabled": False})
    assert (answer["__typename"], answer["code"]) == ("NotFoundError", "NOT_FOUND")
    missing = await update(client, other_tenant, gid("Page", uuid.uuid4()), {"enabled": False})
    assert missing == answer  # exactly the answer for a Page that does not exist
    assert (await data(client, READ, other_tenant.headers, {"id": page_id}))["page"] is None
    member = await add_member(runtime, tenant)
    refused = await gql(client, UPDATE, member, {"id": page_id, "input": {"enabled": False}})
    assert refused["data"] is None
    assert "may not change a Page's sync schedule" in refused["errors"][0]["message"]
    # Members still read it, and nothing was changed.
    read = await data(client, READ, member.headers, {"id": page_id})
    assert read["page"]["syncSchedule"] == DEFAULTS


async def test_schedules_of_5_and_50_pages_cost_the_same_statements(
    client: httpx.AsyncClient, runtime: Runtime, statements: StatementCounter
) -> None:
    query = f"""query($n: Int) {{ pages(first: $n) {{ edges {{ node {{
        syncSchedule {{ {SCHEDULE} }} }} }} }} }}"""
    counts = []
    for n in (5, 50):
        tenant = await create_tenant(runtime, f"sched{n}")
        pages = await seed_pages(runtime, tenant.org_id, pages=n, conversations=0)
        await update(client, tenant, gid("Page", pages[0].page.id), {"fullSyncHour": 5})
        with statements.counting() as counter:
            body = await data(client, query, tenant.headers, {"n": n})
        schedules = [e["node"]["syncSchedule"] for e in body["pages"]["edges"]]
        assert sorted(s["fullSyncHour"] for s in schedules) == sorted([5] + [2] * (n - 1))
        counts.append(counter.count)
    assert counts[0] == counts[1], statements.statements


async def test_sync_mutations_take_a_field_selection_and_name_a_bad_one(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=0)
    page_id = gid("Page", seeded.page.id)
    bad = await data(
        client, SYNC_PAGE_FIELDS, tenant.headers,
        {"pageId": page_id, "scope": "CONTACTS", "fields": ["contacts.email"]},
    )  # fmt: skip
    answer = bad["syncPage"]
    assert (answer["__typename"], answer["code"]) == ("ValidationError", "VALIDATION")
    assert [f["field"] for f in answer["fields"]] == ["fields"]
    assert 'unknown field "contacts.email"' in answer["message"]
    outside = await data(
        client, SYNC_PAGE_FIELDS, tenant.headers,
        {"pageId": page_id, "scope": "DETAILS", "fields": ["messages"]},
    )  # fmt: skip
    assert "not read by a details sync" in outside["syncPage"]["message"]

    started = await data(
        client, SYNC_PAGE_FIELDS, tenant.headers,
        {"pageId": page_id, "scope": "DETAILS", "fields": ["page.fan_count"]},
    )  # fmt: skip
    assert started["syncPage"]["__typename"] == "SyncStarted"
    assert started["syncPage"]["run"]["fields"] == ["page.fan_count"]
    # The same selection again is the same queued run; a plain sync is a run of its own.
    again = await data(
        client, SYNC_PAGE_FIELDS, tenant.headers,
        {"pageId": page_id, "scope": "DETAILS", "fields": ["page.fan_count"]},
    )  # fmt: skip
    assert again["syncPage"]["created"] is False
    plain = await data(client, SYNC_PAGE, tenant.headers, {"pageId": page_id, "scope": "DETAILS"})
    assert plain["syncPage"]["created"] is True
