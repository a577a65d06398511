"""Issue 9, item 2: GraphQL lists.

- p50 latency of a list of 20 Pages x 10 conversations with contacts and 5 messages each,
  through metasync's /graphql over HTTP, against the same rows served as JSON by a plain
  endpoint in the same server process (bench/list_server.py: three statements, orjson);
- throughput of a trivial query (``{ __typename }``, authenticated like any operation)
  against a bare Starlette JSON endpoint in the same process;
- SQL statements the list costs for N = 10 and N = 100 Pages (must be equal).

The server runs in its own process (so the load generator does not share its core), on a
fresh SQLite file or BENCH_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import event

from bench.dataset import drop_pages, seed_pages
from bench.harness import sandbox_runtime, tenant
from bench.report import Figure
from bench.webhook_ack import _serving, free_port
from server import Runtime, create_app

PAGES, CONVERSATIONS, MESSAGES = 100, 12, 7  # more than listed: the limits do real work
LISTED = 20
WARMUP, SAMPLES = 20, 200
CONCURRENCY, BURST_SECONDS, BURSTS = 16, 3.0, 2

LIST_QUERY = """
query($n: Int) { pages(first: $n) { edges { node { id name
  conversations(first: 10) { edges { node { id snippet updatedTime unreadCount
    contact { id name }
    messages(first: 5) { edges { node { id text createdTime direction } } }
  } } }
} } } }
"""
TRIVIAL_QUERY = "{ __typename }"


def _check_list(body: dict[str, Any], n: int) -> None:
    """The answer is complete: a fast wrong answer would not count."""
    if "errors" in body:
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    pages = body["data"]["pages"]["edges"]
    assert len(pages) == n, len(pages)
    for page in pages:
        conversations = page["node"]["conversations"]["edges"]
        assert len(conversations) == 10
        for c in conversations:
            assert c["node"]["contact"]["name"]
            assert len(c["node"]["messages"]["edges"]) == 5


@contextlib.contextmanager
def _counting(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement[:80])

    engine = runtime.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def _statements(runtime: Runtime, headers: dict[str, str], n: int) -> int:
    """Statements one list of ``n`` Pages costs, through the app in this process."""
    app = create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://metasync.bench") as client:
        with _counting(runtime) as seen:
            response = await client.post(
                "/graphql", json={"query": LIST_QUERY, "variables": {"n": n}}, headers=headers
            )
    _check_list(response.json(), n)
    return len(seen)


async def _latencies(
    client: httpx.AsyncClient, org: uuid.UUID, headers: dict[str, str]
) -> tuple[list[float], list[float]]:
    """One request at a time, the two endpoints interleaved so noise hits both alike."""
    plain: list[float] = []
    ours: list[float] = []
    payload = {"query": LIST_QUERY, "variables": {"n": LISTED}}
    for i in range(WARMUP + SAMPLES):
        started = time.perf_counter()
        response = await client.get("/plain/pages", params={"org": str(org), "n": LISTED})
        plain_time = time.perf_counter() - started
        response.raise_for_status()
        assert len(response.json()["pages"]) == LISTED
        started = time.perf_counter()
        response = await client.post("/graphql", json=payload, headers=headers)
        ours_time = time.perf_counter() - started
        _check_list(response.json(), LISTED)
        if i >= WARMUP:
            plain.append(plain_time)
            ours.append(ours_time)
    return plain, ours


async def _rate(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    done = 0
    deadline = time.perf_counter() + BURST_SECONDS

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            response = await client.post(path, json={"query": TRIVIAL_QUERY}, headers=headers)
            assert response.json() == {"data": {"__typename": "Query"}}, response.text
            done += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done / BURST_SECONDS


async def run() -> list[Figure]:
    async with sandbox_runtime(redis_url="", sandbox=False) as rt:
        who = await tenant(rt, f"list-{uuid.uuid4().hex[:8]}@example.com")
        headers = {"Authorization": f"Bearer {rt.services.jwt.issue(who)}"}
        await seed_pages(
            rt, who.organization_id, pages=PAGES, conversations=CONVERSATIONS, messages=MESSAGES
        )
        try:
            small, large = await _statements(rt, headers, 10), await _statements(rt, headers, 100)
            port = free_port()
            env = {"DATABASE_URL": rt.settings.DATABASE_URL, "LOG_LEVEL": "WARNING"}
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with (
                _serving(["-m", "bench.list_server", str(port)], env, port) as base,
                httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client,
            ):
                plain, ours = await _latencies(client, who.organization_id, headers)
                bare_rate = ours_rate = 0.0
                for _ in range(BURSTS):
                    bare_rate += await _rate(client, "/bare", headers) / BURSTS
                    ours_rate += await _rate(client, "/graphql", headers) / BURSTS
        finally:
            await drop_pages(rt, who.organization_id)
    plain_p50, ours_p50 = statistics.median(plain), statistics.median(ours)
    return [
        Figure("graphql_list.p50_vs_plain_json", ours_p50 / plain_p50, "<= 2",
               f"{ours_p50 * 1000:.1f}ms plain={plain_p50 * 1000:.1f}ms "
               f"({LISTED} pages x 10 conversations x 5 messages)"),
        Figure("graphql_list.trivial_rate_vs_bare", ours_rate / bare_rate, ">= 0.2",
               f"{ours_rate:.0f}/s bare={bare_rate:.0f}/s"),
        Figure("graphql_list.statements_n100_vs_n10", large / small, "<= 1",
               f"{large} statements at N=100, {small} at N=10"),
    ]  # fmt: skip
