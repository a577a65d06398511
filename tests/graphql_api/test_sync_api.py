"""The Facebook sync over GraphQL: runs queued at once and executed by a real worker,
progress over a real WebSocket, what reached Meta, the spec's limits, isolation between
organizations, and batched loading of every Page's sync status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection, connect

from domain.models import Conversation, Page, SyncRun, SyncStatus
from domain.services.sync import runs
from domain.services.sync.engine import execute_run
from domain.services.sync.runs import SyncScope, run_channel, start_sync
from resolvers.graphql.subscription import follow
from resolvers.services import AppServices
from schema.enums import ConversationSyncScope, SyncRunScope, SyncRunStatus
from schema.enums import SyncScope as GraphSyncScope
from schema.scalars import encode_global_id
from server import Runtime
from tasks.bus import InMemoryEventBus
from tests.conftest import StatementCounter, Tenant, create_tenant
from tests.connections.conftest import SandboxServer
from tests.factories import BASE_TIME, seed_pages
from tests.rest_sync.conftest import SyncApi, running_worker
from tests.sync.test_engine import connected

PROTOCOL = "graphql-transport-ws"
WAIT = 60.0  # seconds for one WebSocket message; a full sandbox sync takes a few

RUN = """id databaseId status scope trigger phase progress done total created updated
unchanged graphCalls startedAt finishedAt error"""
ERRORS = """
... on Error { __typename message code }
... on ValidationError { fields { field message } }
... on RateLimitedError { retryAfterSeconds }
"""
SYNC_PAGE = f"""mutation($pageId: ID!, $scope: SyncScope!) {{
  syncPage(pageId: $pageId, scope: $scope) {{
    __typename ... on SyncStarted {{ created run {{ {RUN} page {{ name }} }} }} {ERRORS}
  }}
}}"""
SYNC_CONVERSATION = f"""mutation($id: ID!, $scope: ConversationSyncScope!) {{
  syncConversation(conversationId: $id, scope: $scope) {{
    __typename ... on SyncStarted {{ created run {{ {RUN} conversation {{ id }} }} }} {ERRORS}
  }}
}}"""
SYNC_PROGRESS = f"subscription($id: ID!) {{ syncProgress(runId: $id) {{ {RUN} }} }}"
PAGE_PROGRESS = f"subscription($id: ID!) {{ pageSyncProgress(pageId: $id) {{ {RUN} }} }}"
SYNC_STATUS = """query($id: ID!, $first: Int, $after: String) { page(id: $id) { syncStatus {
  lastSyncedAt totalConversations totalContacts totalMessages
  activeRun { id status scope }
  recentRuns(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id status scope } }
  }
} } }"""
EFFECT = "metaEffect { appliedOnMeta note }"
CONVERSATION = "conversation { id archived mutedUntil unreadCount }"
ARCHIVE = f"""mutation($id: ID!, $archived: Boolean) {{
  archiveConversation(conversationId: $id, archived: $archived) {{
    __typename ... on ConversationUpdated {{ {CONVERSATION} {EFFECT} }} {ERRORS}
  }}
}}"""
MUTE = f"""mutation($id: ID!, $until: String) {{
  muteConversation(conversationId: $id, muteUntil: $until) {{
    __typename ... on ConversationUpdated {{ {CONVERSATION} {EFFECT} }} {ERRORS}
  }}
}}"""
MARK_READ = f"""mutation($id: ID!) {{
  markConversationRead(conversationId: $id) {{
    __typename ... on ConversationUpdated {{ {CONVERSATION} {EFFECT} }} {ERRORS}
  }}
}}"""
UPDATE_CONTACT = f"""mutation($id: ID!, $input: UpdateContactInput!) {{
  updateContact(contactId: $id, input: $input) {{
    __typename
    ... on UpdateContactSuccess {{
      contact {{ name email phone tags customFields notes }} {EFFECT}
    }}
    {ERRORS}
  }}
}}"""
UPDATE_PAGE = f"""mutation($id: ID!, $input: UpdatePageOnFacebookInput!) {{
  updatePageOnFacebook(pageId: $id, input: $input) {{
    __typename ... on UpdatePageOnFacebookSuccess {{ page {{ about }} updatedFields {EFFECT} }}
    {ERRORS}
  }}
}}"""


def gid(type_name: str, row_id: uuid.UUID) -> str:
    return str(encode_global_id(type_name, row_id))


async def call(
    http: httpx.AsyncClient,
    query: str,
    headers: dict[str, str],
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def data(
    http: httpx.AsyncClient,
    query: str,
    headers: dict[str, str],
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = await call(http, query, headers, variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


@contextlib.asynccontextmanager
async def subscribed(
    server: SandboxServer, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection to ``server`` with one subscription started."""
    url = server.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": headers}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        payload = {"query": query, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next message of the subscription (keep-alive pings skipped)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message["type"] not in ("ping", "pong"):
            return message


async def next_run(ws: ClientConnection, field: str) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    run: dict[str, Any] = message["payload"]["data"][field]
    return run


async def runs_until_complete(ws: ClientConnection) -> list[dict[str, Any]]:
    out = []
    while (message := await receive(ws))["type"] != "complete":
        assert message["type"] == "next", message
        out.append(message["payload"]["data"]["syncProgress"])
    return out


async def write_run(
    services: AppServices,
    organization_id: uuid.UUID,
    page_id: uuid.UUID,
    run_id: uuid.UUID | None = None,
    **values: Any,
) -> uuid.UUID:
    """Create or change a run and publish it after the commit, as the sync engine does."""
    async with services.uow() as uow:
        run = await uow.session.get(SyncRun, run_id) if run_id else None
        if run is None:
            run = SyncRun(
                id=uuid.uuid4(),
                organization_id=organization_id,
                page_id=page_id,
                scope="full",
                trigger="manual",
                status="queued",
                details={"done": 0, "total": None},
            )
            uow.session.add(run)
        done = values.pop("done", None)
        for key, value in values.items():
            setattr(run, key, value)
        if done is not None:
            run.details = {**run.details, "done": done}
        await uow.session.flush()
        runs.publish(uow, run)
        await uow.commit()
        return run.id


@contextlib.asynccontextmanager
async def retired_afterwards(runtime: Runtime, tenant: Tenant) -> AsyncIterator[None]:
    """Leave none of the tenant's Pages syncable once the test is over: schedules and
    workers of later tests see every organization's Pages, and a run left queued here would
    otherwise be picked up there (its queued job now fails at once: no token)."""
    try:
        yield
    finally:
        async with runtime.services.uow() as uow:
            await uow.session.execute(
                update(Page)
                .where(Page.organization_id == tenant.org_id)
                .values(status="disconnected", page_token_encrypted=None)
            )
            await uow.commit()


def test_graphql_enums_mirror_the_domain_scopes_and_statuses() -> None:
    assert {s.value for s in SyncRunScope} == {s.value for s in SyncScope}
    # Requested scopes map onto the domain's by name.
    assert {s.name for s in GraphSyncScope} == {s.name for s in runs.PAGE_SCOPES}
    assert {s.name for s in ConversationSyncScope} == {s.name for s in runs.CONVERSATION_SCOPES}
    assert {s.value for s in SyncRunStatus} == {s.value for s in SyncStatus}


async def test_sync_page_is_queued_at_once_then_streamed_to_its_end_from_a_real_worker(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "gql-sync")
    headers = sandbox_server.headers(tenant)
    variables = {"pageId": gid("Page", page.id), "scope": "FULL"}
    async with sandbox_server.client() as http:
        started = (await data(http, SYNC_PAGE, headers, variables))["syncPage"]
        assert started["__typename"] == "SyncStarted"
        assert started["created"] is True
        queued = started["run"]
        assert queued["page"] == {"name": "Lucky Shrub"}
        assert (queued["status"], queued["scope"], queued["trigger"]) == (
            "QUEUED",
            "FULL",
            "manual",
        )
        assert queued["startedAt"] is None

        async with subscribed(sandbox_server, headers, SYNC_PROGRESS, {"id": queued["id"]}) as ws:
            # Nothing runs it yet: the first event is the row as stored.
            first = await next_run(ws, "syncProgress")
            assert first == {k: v for k, v in queued.items() if k != "page"}
            async with running_worker(sandbox_server.runtime):
                events = await runs_until_complete(ws)

        statuses = [e["status"] for e in events]
        assert statuses[0] == "RUNNING"
        assert statuses[-1] == "SUCCEEDED"
        assert set(statuses) == {"RUNNING", "SUCCEEDED"}
        done = [e["done"] for e in events]
        assert done == sorted(done)
        final = events[-1]
        assert final["progress"] == 1.0
        assert final["created"] > 0
        assert final["graphCalls"] > 0
        assert final["finishedAt"] is not None

        status = (await data(http, SYNC_STATUS, headers, {"id": variables["pageId"]}))["page"]
        sync_status = status["syncStatus"]
        assert sync_status["lastSyncedAt"] is not None
        assert sync_status["activeRun"] is None
        assert sync_status["totalConversations"] == final["done"]
        assert sync_status["totalContacts"] == final["done"]
        assert sync_status["totalMessages"] > 0
        # Every conversation, contact and message stored, plus nothing else.
        stored = sum(sync_status[k] for k in ("totalConversations", "totalContacts"))
        assert final["created"] == stored + sync_status["totalMessages"]
        [latest] = sync_status["recentRuns"]["edges"]
        assert latest["node"] == {"id": queued["id"], "status": "SUCCEEDED", "scope": "FULL"}

        # spec: a full sync at most once every 5 minutes per page.
        again = (await data(http, SYNC_PAGE, headers, variables))["syncPage"]
        assert again["__typename"] == "RateLimitedError"
        assert again["code"] == "RATE_LIMITED"
        assert 0 < again["retryAfterSeconds"] <= 300


async def test_sync_progress_starts_from_the_database_and_ends_after_the_last_event(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "gql-progress")
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=1, messages=1)
    services = sandbox_server.runtime.services
    started = datetime.now(UTC)
    run_id = await write_run(
        services, tenant.org_id, seeded.page.id, status="running", started_at=started, done=3
    )
    headers = sandbox_server.headers(tenant)
    async with subscribed(
        sandbox_server, headers, SYNC_PROGRESS, {"id": gid("SyncRun", run_id)}
    ) as ws:
        first = await next_run(ws, "syncProgress")
        assert (first["status"], first["done"]) == ("RUNNING", 3)
        await write_run(services, tenant.org_id, seeded.page.id, run_id, done=7, phase="messages")
        progress = await next_run(ws, "syncProgress")
        assert (progress["status"], progress["done"], progress["phase"]) == (
            "RUNNING",
            7,
            "messages",
        )
        await write_run(
            services, tenant.org_id, seeded.page.id, run_id,
            status="succeeded", progress=1.0, finished_at=datetime.now(UTC),
        )  # fmt: skip
        [last] = await runs_until_complete(ws)
    assert (last["status"], last["done"], last["progress"]) == ("SUCCEEDED", 7, 1.0)
    assert last["finishedAt"] is not None


async def test_another_organizations_run_or_page_streams_none_of_its_data(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "gql-owner")
    other = await create_tenant(runtime, "gql-other")
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=1, messages=1)
    services = sandbox_server.runtime.services
    run_id = await write_run(services, tenant.org_id, seeded.page.id, status="running", done=2)
    headers = sandbox_server.headers(other)
    cases = [
        (SYNC_PROGRESS, gid("SyncRun", run_id), "Sync run not found"),
        (PAGE_PROGRESS, gid("Page", seeded.page.id), "Page not found"),
    ]
    for query, target, message in cases:
        async with subscribed(sandbox_server, headers, query, {"id": target}) as ws:
            # Live events of the run must not reach the other organization either.
            await write_run(services, tenant.org_id, seeded.page.id, run_id, done=3)
            answer = await receive(ws)
            assert answer["type"] in ("next", "error"), answer
            payload = answer["payload"]
            errors = payload if answer["type"] == "error" else payload["errors"]
            assert [e["message"] for e in errors] == [message]
            assert answer["type"] == "error" or payload.get("data") is None
            assert (await receive(ws))["type"] == "complete"


async def test_page_sync_progress_shows_active_runs_then_new_ones(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant = await create_tenant(runtime, "gql-page-progress")
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=1, messages=1)
    page_id = seeded.page.id
    services = sandbox_server.runtime.services
    finished = await write_run(services, tenant.org_id, page_id, status="succeeded")
    running = await write_run(
        services, tenant.org_id, page_id, status="running", scope="contacts", done=1
    )
    headers = sandbox_server.headers(tenant)
    async with subscribed(
        sandbox_server, headers, PAGE_PROGRESS, {"id": gid("Page", page_id)}
    ) as ws:
        first = await next_run(ws, "pageSyncProgress")
        assert (first["id"], first["status"]) == (gid("SyncRun", running), "RUNNING")
        queued = await write_run(services, tenant.org_id, page_id, scope="details")
        second = await next_run(ws, "pageSyncProgress")
        assert (second["id"], second["status"], second["scope"]) == (
            gid("SyncRun", queued),
            "QUEUED",
            "DETAILS",
        )
        await write_run(services, tenant.org_id, page_id, running, status="failed", error="x")
        third = await next_run(ws, "pageSyncProgress")
        assert (third["id"], third["status"], third["error"]) == (
            gid("SyncRun", running),
            "FAILED",
            "x",
        )
    assert finished not in (running, queued)


def _event(run_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    event = {
        "id": str(run_id),
        "status": "running",
        "started_at": "2026-09-01T12:00:00+00:00",
        "done": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
    }
    return {**event, **values}


async def test_a_slow_client_gets_the_newest_progress_not_a_backlog() -> None:
    bus = InMemoryEventBus()
    run_id = uuid.uuid4()
    channel = run_channel(run_id)

    async def initial() -> list[dict[str, Any]]:
        return [_event(run_id, status="queued", started_at=None)]

    async def refresh(_open: set[uuid.UUID]) -> list[dict[str, Any]]:
        return []

    stream = follow(bus, channel, initial, refresh, until_finished=True)
    assert (await anext(stream))["status"] == "queued"
    # The client is busy: a hundred steps and the end arrive before it reads again.
    for done in range(1, 101):
        await bus.publish(channel, _event(run_id, done=done, created=done))
    await bus.publish(channel, _event(run_id, status="succeeded", done=100, created=100))
    assert [e async for e in stream] == [_event(run_id, status="succeeded", done=100, created=100)]
    assert bus.subscriber_count() == 0


async def test_events_older_than_the_database_state_are_dropped_and_a_quiet_bus_is_resynced() -> (
    None
):
    bus = InMemoryEventBus()
    run_id = uuid.uuid4()
    channel = run_channel(run_id)
    stored = _event(run_id, done=50, created=50)
    finished = _event(run_id, status="succeeded", done=80, created=80)

    async def initial() -> list[dict[str, Any]]:
        # Published before this read, after the subscription: arrives after the stored state.
        await bus.publish(channel, _event(run_id, done=40, created=40))
        return [stored]

    async def refresh(open_runs: set[uuid.UUID]) -> list[dict[str, Any]]:
        assert open_runs == {run_id}
        return [finished]  # the bus lost the end; the database has it

    stream = follow(bus, channel, initial, refresh, until_finished=True, resync_seconds=0.05)
    assert await anext(stream) == stored
    await bus.publish(channel, _event(run_id, done=60, created=60))
    assert [e async for e in stream] == [_event(run_id, done=60, created=60), finished]


async def test_an_identical_sync_already_queued_is_returned_not_started_twice(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id)
    variables = {"pageId": gid("Page", seeded.page.id), "scope": "DETAILS"}
    first = (await data(client, SYNC_PAGE, tenant.headers, variables))["syncPage"]
    again = (await data(client, SYNC_PAGE, tenant.headers, variables))["syncPage"]
    assert (first["created"], again["created"]) == (True, False)
    assert again["run"]["id"] == first["run"]["id"]


async def test_other_syncs_are_limited_to_10_per_minute_per_page(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=11, messages=0)
    answers = [
        (
            await data(
                client,
                SYNC_CONVERSATION,
                tenant.headers,
                {"id": gid("Conversation", c.id), "scope": "STATUS"},
            )
        )["syncConversation"]
        for c in seeded.conversations
    ]
    assert [a["__typename"] for a in answers] == ["SyncStarted"] * 10 + ["RateLimitedError"]
    first = answers[0]["run"]
    assert (first["scope"], first["status"]) == ("STATUS", "QUEUED")
    assert first["conversation"] == {"id": gid("Conversation", seeded.conversations[0].id)}
    assert 0 < answers[-1]["retryAfterSeconds"] <= 60


async def test_another_organizations_ids_are_not_found(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=1, messages=1)
    page, conversation, contact = seeded.page, seeded.conversations[0], seeded.contacts[0]
    run_id = await write_run(runtime.services, tenant.org_id, page.id, status="succeeded")
    page_id, conversation_id = gid("Page", page.id), gid("Conversation", conversation.id)
    mutations: list[tuple[str, str, dict[str, Any]]] = [
        ("syncPage", SYNC_PAGE, {"pageId": page_id, "scope": "FULL"}),
        ("syncConversation", SYNC_CONVERSATION, {"id": conversation_id, "scope": "MESSAGES"}),
        ("archiveConversation", ARCHIVE, {"id": conversation_id, "archived": True}),
        ("muteConversation", MUTE, {"id": conversation_id, "until": "PERMANENTLY"}),
        ("markConversationRead", MARK_READ, {"id": conversation_id}),
        (
            "updateContact",
            UPDATE_CONTACT,
            {"id": gid("Contact", contact.id), "input": {"notes": "x"}},
        ),
        ("updatePageOnFacebook", UPDATE_PAGE, {"id": page_id, "input": {"about": "x"}}),
    ]
    for name, mutation, variables in mutations:
        answer = (await data(client, mutation, other_tenant.headers, variables))[name]
        assert (answer["__typename"], answer["code"]) == ("NotFoundError", "NOT_FOUND"), name
    seen = await data(
        client,
        """query($page: ID!, $run: ID!) { node(id: $run) { id } page(id: $page) { id }
           syncRuns(pageId: $page) { totalCount edges { node { id } } } }""",
        other_tenant.headers,
        {"page": page_id, "run": gid("SyncRun", run_id)},
    )
    assert seen == {"node": None, "page": None, "syncRuns": {"totalCount": 0, "edges": []}}
    own = await data(
        client, "query($id: ID!) { node(id: $id) { ... on SyncRun { status } } }",
        tenant.headers, {"id": gid("SyncRun", run_id)},
    )  # fmt: skip
    assert own == {"node": {"status": "SUCCEEDED"}}
    # Nothing was changed by those attempts.
    async with runtime.services.session_factory() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None
        assert not stored.archived
        assert stored.muted_until is None
    # An id of the wrong type is bad input, naming the argument.
    wrong = (
        await data(client, SYNC_PAGE, tenant.headers, {"pageId": conversation_id, "scope": "FULL"})
    )["syncPage"]
    assert wrong["__typename"] == "ValidationError"
    assert [f["field"] for f in wrong["fields"]] == ["pageId"]


async def test_page_sync_status_counts_what_is_stored_and_lists_runs_newest_first(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=3, messages=4)
    page_id = seeded.page.id
    org = tenant.org_id
    services = runtime.services
    older = await write_run(services, org, page_id, status="succeeded", created_at=BASE_TIME)
    failed = await write_run(
        services, org, page_id, status="failed", created_at=BASE_TIME + timedelta(minutes=1)
    )
    active = await write_run(
        services, org, page_id, status="running", created_at=BASE_TIME + timedelta(minutes=2)
    )
    async with services.uow() as uow:
        page = await uow.session.get(Page, page_id)
        assert page is not None
        page.last_synced_at = BASE_TIME
        await uow.commit()
    variables = {"id": gid("Page", page_id), "first": 2}
    status = (await data(client, SYNC_STATUS, tenant.headers, variables))["page"]["syncStatus"]
    assert datetime.fromisoformat(status["lastSyncedAt"]) == BASE_TIME
    assert (status["totalConversations"], status["totalContacts"], status["totalMessages"]) == (
        3,
        3,
        12,
    )
    assert status["activeRun"] == {
        "id": gid("SyncRun", active),
        "status": "RUNNING",
        "scope": "FULL",
    }
    recent = status["recentRuns"]
    assert recent["totalCount"] == 3
    assert [e["node"]["id"] for e in recent["edges"]] == [
        gid("SyncRun", active),
        gid("SyncRun", failed),
    ]
    assert recent["pageInfo"]["hasNextPage"] is True
    variables["after"] = recent["pageInfo"]["endCursor"]
    rest = (await data(client, SYNC_STATUS, tenant.headers, variables))["page"]["syncStatus"]
    assert [e["node"]["id"] for e in rest["recentRuns"]["edges"]] == [gid("SyncRun", older)]
    listed = await data(
        client,
        "query($id: ID!) { syncRuns(pageId: $id) { totalCount edges { node { id } } } all: "
        "syncRuns(first: 1) { edges { node { id status page { id } } } } }",
        tenant.headers,
        {"id": gid("Page", page_id)},
    )
    assert listed["syncRuns"]["totalCount"] == 3
    assert listed["all"]["edges"][0]["node"] == {
        "id": gid("SyncRun", active),
        "status": "RUNNING",
        "page": {"id": gid("Page", page_id)},
    }


PAGES_SYNC_STATUS = """query($n: Int) { pages(first: $n) { edges { node { syncStatus {
  lastSyncedAt totalConversations totalContacts totalMessages
  activeRun { id status page { name } }
  recentRuns(first: 3) { totalCount edges { node { id status scope } } }
} } } } }"""


async def test_sync_status_of_5_and_50_pages_costs_the_same_statements(
    client: httpx.AsyncClient, runtime: Runtime, statements: StatementCounter
) -> None:
    counts = []
    for n in (5, 50):
        tenant = await create_tenant(runtime, f"status{n}")
        for seeded in await seed_pages(
            runtime, tenant.org_id, pages=n, conversations=2, messages=2
        ):
            for status in ("succeeded", "running"):
                await write_run(runtime.services, tenant.org_id, seeded.page.id, status=status)
        with statements.counting() as counter:
            body = await data(client, PAGES_SYNC_STATUS, tenant.headers, {"n": n})
        pages = [e["node"]["syncStatus"] for e in body["pages"]["edges"]]
        assert len(pages) == n
        assert all(p["totalMessages"] == 4 and p["totalContacts"] == 2 for p in pages)
        assert all(p["activeRun"]["status"] == "RUNNING" for p in pages)
        assert all(p["recentRuns"]["totalCount"] == 2 for p in pages)
        counts.append(counter.count)
    assert counts[0] == counts[1], statements.statements
    # auth, pages, totals, active runs (+ their pages), recent runs, their count
    assert counts[0] <= 7, statements.statements


async def _synced_conversation(
    server: SandboxServer, runtime: Runtime, label: str
) -> tuple[Tenant, Page, Conversation]:
    """A tenant connected to the sandbox with a few Messenger conversations synced (a
    limited sync run in-process: only the setup, the mutations are what is tested)."""
    tenant, page = await connected(server, runtime, label)
    services = server.runtime.services
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=tenant.org_id, page_id=page.id,
            scope=SyncScope.CONTACTS, trigger="cron", limit=3,
        )  # fmt: skip
        await uow.commit()
    done = await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    assert done is not None
    assert done.status == "succeeded", done.error
    async with services.session_factory() as session:
        conversation = (
            await session.execute(
                select(Conversation)
                .where(Conversation.page_id == page.id, Conversation.platform == "messenger")
                .limit(1)
            )
        ).scalar_one()
    return tenant, page, conversation


async def test_conversation_mutations_say_what_reached_meta(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, _, conversation = await _synced_conversation(sandbox_server, runtime, "gql-effects")
    headers = sandbox_server.headers(tenant)
    conversation_id = gid("Conversation", conversation.id)
    async with sandbox_server.client() as http:

        async def run(name: str, query: str, **variables: Any) -> dict[str, Any]:
            answer: dict[str, Any] = (
                await data(http, query, headers, {"id": conversation_id, **variables})
            )[name]
            return answer

        archived = await run("archiveConversation", ARCHIVE)  # archived defaults to true
        assert archived["conversation"]["archived"] is True
        assert archived["metaEffect"]["appliedOnMeta"] is False
        assert "no API" in archived["metaEffect"]["note"]
        restored = await run("archiveConversation", ARCHIVE, archived=False)
        assert restored["conversation"]["archived"] is False

        muted = await run("muteConversation", MUTE, until="PERMANENTLY")
        assert muted["conversation"]["mutedUntil"].startswith("9999-12-31")
        assert muted["metaEffect"]["appliedOnMeta"] is False
        later = int((datetime.now(UTC) + timedelta(days=1)).timestamp())
        muted = await run("muteConversation", MUTE, until=str(later))
        assert datetime.fromisoformat(muted["conversation"]["mutedUntil"]).timestamp() == later
        unmuted = await run("muteConversation", MUTE, until=None)
        assert unmuted["conversation"]["mutedUntil"] is None
        bad = await run("muteConversation", MUTE, until="tomorrow")
        assert bad["__typename"] == "ValidationError"
        assert [f["field"] for f in bad["fields"]] == ["muteUntil"]

        before = len(sandbox_server.sandbox.sender_actions)
        read = await run("markConversationRead", MARK_READ)
        assert read["conversation"]["unreadCount"] == 0
        assert read["metaEffect"]["appliedOnMeta"] is True
        sent = sandbox_server.sandbox.sender_actions[before:]
        assert [a.get("sender_action") for a in sent] == ["mark_seen"]


async def test_mark_read_of_a_page_without_token_says_meta_was_not_told(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=2, messages=1)
    unread = next(c for c in seeded.conversations if c.unread_count)
    answer = (
        await data(client, MARK_READ, tenant.headers, {"id": gid("Conversation", unread.id)})
    )["markConversationRead"]
    assert answer["conversation"]["unreadCount"] == 0
    assert answer["metaEffect"]["appliedOnMeta"] is False
    assert answer["metaEffect"]["note"]


async def test_update_page_on_facebook_sends_changed_fields_and_needs_a_manager(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "gql-page-update")
    page_id = gid("Page", page.id)
    headers = sandbox_server.headers(tenant)
    async with retired_afterwards(runtime, tenant), sandbox_server.client() as http:

        async def update(who: dict[str, str], **fields: Any) -> dict[str, Any]:
            body = await call(http, UPDATE_PAGE, who, {"id": page_id, "input": fields})
            return body

        changed = (await update(headers, about="Plants, delivered"))["data"]["updatePageOnFacebook"]
        assert changed["updatedFields"] == ["about"]
        assert changed["page"]["about"] == "Plants, delivered"
        assert changed["metaEffect"] == {"appliedOnMeta": True, "note": None}
        same = (await update(headers, about="Plants, delivered"))["data"]["updatePageOnFacebook"]
        assert same["updatedFields"] == []
        assert same["metaEffect"]["appliedOnMeta"] is False
        bad = (await update(headers, website="ftp://x"))["data"]["updatePageOnFacebook"]
        assert bad["__typename"] == "ValidationError"
        assert [f["field"] for f in bad["fields"]] == ["website"]

        member = await SyncApi(sandbox_server, runtime, http).member_of(tenant)
        refused = await update(sandbox_server.headers(member), about="Not for members")
        assert refused["data"] is None
        assert "may not update a Page on Facebook" in refused["errors"][0]["message"]
        # Members may sync, though.
        synced = await data(
            http, SYNC_PAGE, sandbox_server.headers(member), {"pageId": page_id, "scope": "DETAILS"}
        )
        assert synced["syncPage"]["__typename"] == "SyncStarted"


async def test_update_contact_is_kept_in_metasync_and_errors_name_the_field(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=1, messages=0)
    contact_id = gid("Contact", seeded.contacts[0].id)

    async def update(**fields: Any) -> dict[str, Any]:
        variables = {"id": contact_id, "input": fields}
        answer: dict[str, Any] = (await data(client, UPDATE_CONTACT, tenant.headers, variables))[
            "updateContact"
        ]
        return answer

    updated = await update(
        name="Jo Doe",
        email="jo@example.com",
        phone="+1 234 567 8900",
        tags=["vip", "vip", "customer"],
        customFields={"company": "ABC Corp"},
        notes="Important",
    )
    assert updated["contact"] == {
        "name": "Jo Doe",
        "email": "jo@example.com",
        "phone": "+1 234 567 8900",
        "tags": ["vip", "customer"],
        "customFields": {"company": "ABC Corp"},
        "notes": "Important",
    }
    assert updated["metaEffect"]["appliedOnMeta"] is False
    cleared = await update(email=None)
    assert cleared["contact"]["email"] is None
    assert cleared["contact"]["name"] == "Jo Doe"  # omitted fields are kept
    invalid: list[tuple[dict[str, Any], str]] = [
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"customFields": ["a"]}, "customFields"),
        ({"customFields": {"deep": {"no": 1}}}, "customFields.deep"),
        ({"tags": ["x" * 51]}, "tags"),
        ({}, "input"),
    ]
    for fields, field in invalid:
        answer = await update(**fields)
        assert answer["__typename"] == "ValidationError", fields
        assert [f["field"] for f in answer["fields"]] == [field]
        assert answer["message"].startswith(f"{field}: ")


AUTO_CONNECT = f"""mutation {{ autoConnectPages {{
  __typename
  ... on AutoConnectPagesSuccess {{
    pagesFound warnings pages {{ page {{ name }} problem run {{ status scope trigger }} }}
  }}
  {ERRORS}
}} }}"""


async def test_auto_connect_pages_queues_a_first_sync_per_page_and_answers_at_once(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, _ = await connected(sandbox_server, runtime, "gql-auto")
    async with retired_afterwards(runtime, tenant), sandbox_server.client() as http:
        answer = (await data(http, AUTO_CONNECT, sandbox_server.headers(tenant)))[
            "autoConnectPages"
        ]
        assert answer["__typename"] == "AutoConnectPagesSuccess"
        assert answer["pagesFound"] == len(answer["pages"]) > 0
        lucky = next(p for p in answer["pages"] if p["page"]["name"] == "Lucky Shrub")
        assert lucky["problem"] is None
        assert lucky["run"] == {
            "status": "QUEUED",
            "scope": "INCREMENTAL",
            "trigger": "auto_connect",
        }

        member = await SyncApi(sandbox_server, runtime, http).member_of(tenant)
        refused = await call(http, AUTO_CONNECT, sandbox_server.headers(member))
        assert refused["data"] is None
        assert "may not connect Pages" in refused["errors"][0]["message"]

        nobody = await create_tenant(runtime, "gql-no-login")
        none = (await data(http, AUTO_CONNECT, sandbox_server.headers(nobody)))["autoConnectPages"]
        assert (none["__typename"], none["code"]) == ("ValidationError", "CONFLICT")
        assert "log in with Facebook" in none["message"]
