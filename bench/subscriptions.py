"""Issue 9, item 5: sync progress over graphql-transport-ws.

The server is metasync's app on uvicorn in this process (so its tasks, queues and memory
can be read from inside); the clients run in another process (bench/ws_clients.py) and the
"separate worker" publishing progress through Redis in a third (bench/progress_publisher.py).

- p99 publish -> client latency of 200 clients of one run's ``syncProgress``, against an
  in-process publish: the same app on the in-memory bus, published from the server's loop.
- After 1,000 abrupt disconnects (5 x 200 subscribed clients killed), no task, per-client
  queue or Redis subscription is left over.
- One client that stops reading while 20,000 events flow does not grow the server's memory
  beyond 10 %.

Skipped (with a printed line) without BENCH_REDIS_URL: the bus under test is Redis pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import uvicorn

from bench.dataset import drop_pages, seed_pages
from bench.harness import sandbox_runtime, tenant
from bench.progress_publisher import publish_progress
from bench.report import Figure
from domain.models import SyncRun
from domain.services.sync.runs import run_channel, snapshot
from schema.scalars import encode_global_id
from server import Runtime, create_app
from tasks.bus import CHANNEL_PREFIX, RedisEventBus

ROOT = Path(__file__).resolve().parent.parent
CLIENTS, EVENTS, RATE = 200, 100, 10.0
WAVES = 5  # x CLIENTS abrupt disconnects
STALL_EVENTS = 20_000
SETTLE_SECONDS = 15.0

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


@contextlib.asynccontextmanager
async def _served(runtime: Runtime) -> AsyncIterator[str]:
    app = create_app(
        runtime, migrate_on_start=False, run_worker=False, run_scheduler=False, connect_demo=False
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


class _Process:
    """A bench helper process speaking in lines: ``ready``, then ``result <json>``."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, module: str, *args: str) -> _Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *args, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, limit=2**26,
        )  # fmt: skip
        return cls(proc)

    async def line(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                code = await self.proc.wait()
                raise RuntimeError(f"bench helper exited ({code}) before {prefix!r}")
            text = raw.decode().rstrip("\n")
            if text.startswith(prefix):
                return text[len(prefix) :].strip()

    async def result(self) -> list[list[float]]:
        out: list[list[float]] = json.loads(await self.line("result"))
        await self.proc.wait()
        return out

    async def kill(self) -> None:
        self.proc.kill()
        await self.proc.wait()


def _global(run: dict[str, Any]) -> str:
    return encode_global_id("SyncRun", uuid.UUID(run["id"]))


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _setup(runtime: Runtime) -> tuple[uuid.UUID, str, dict[str, Any]]:
    """An organization with a Page and a running sync: (org, token, the run's snapshot)."""
    who = await tenant(runtime, f"subs-{uuid.uuid4().hex[:8]}@example.com")
    seeded = await seed_pages(runtime, who.organization_id, pages=1, conversations=0, messages=0)
    async with runtime.services.uow() as uow:
        run = SyncRun(
            id=uuid.uuid4(), organization_id=who.organization_id, page_id=seeded.page_ids[0],
            scope="full", trigger="manual", status="running", phase="messages",
            started_at=datetime.now(UTC), details={"done": 0},
        )  # fmt: skip
        uow.session.add(run)
        await uow.commit()
    return who.organization_id, runtime.services.jwt.issue(who), snapshot(run)


async def _latencies(
    url: str, token: str, run: dict[str, Any], publish: Callable[[], Awaitable[list[list[float]]]]
) -> tuple[list[float], int]:
    """Publish -> client latencies of CLIENTS followers, and how many events they got."""
    clients = await _Process.start(
        "bench.ws_clients", url, token, _global(run), str(CLIENTS), "follow", str(EVENTS)
    )
    await clients.line("ready")
    sent = {int(done): t for done, t in await publish()}
    received = await clients.result()
    return [t - sent[int(done)] for done, t in received], len(received)


async def _in_process(runtime: Runtime, run: dict[str, Any]) -> list[list[float]]:
    return await publish_progress(runtime.services.bus.publish, run, EVENTS, RATE)


async def _by_worker(
    redis_url: str, run: dict[str, Any], count: int, rate: float
) -> list[list[float]]:
    worker = await _Process.start(
        "bench.progress_publisher", redis_url, json.dumps(run), str(count), str(rate)
    )
    return await worker.result()


async def _leftovers(
    runtime: Runtime, url: str, token: str, run: dict[str, Any], redis_url: str
) -> tuple[int, str]:
    bus = runtime.services.bus
    assert isinstance(bus, RedisEventBus)
    channel = CHANNEL_PREFIX + run_channel(uuid.UUID(run["id"]))
    redis = aioredis.from_url(redis_url)

    async def numsub() -> int:
        return int((await redis.pubsub_numsub(channel))[0][1])

    try:
        await asyncio.sleep(1.0)  # the latency phase's clients are gone
        before = len(asyncio.all_tasks())
        peak = ""
        for wave in range(WAVES):
            clients = await _Process.start(
                "bench.ws_clients", url, token, _global(run), str(CLIENTS), "hold"
            )
            await clients.line("ready")
            if wave == 0:  # what the counts look like with the clients there
                peak = (f"with {CLIENTS} held: tasks={len(asyncio.all_tasks())} "
                        f"queues={bus.subscriber_count()} redis={await numsub()}")  # fmt: skip
            await clients.kill()
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if len(asyncio.all_tasks()) <= before and bus.subscriber_count() == 0:
                break
        after, queues, subs = len(asyncio.all_tasks()), bus.subscriber_count(), await numsub()
        left = max(0, after - before) + queues + subs + bus.channel_count()
        detail = (f"tasks {before}->{after}, queues={queues}, redis subscribers={subs}, "
                  f"channels={bus.channel_count()} ({peak})")  # fmt: skip
        return left, detail
    finally:
        await redis.aclose()


async def _slow_reader(
    url: str, token: str, run: dict[str, Any], redis_url: str
) -> tuple[float, float, int]:
    """RSS before and after STALL_EVENTS reach a stalled client's stream; event size."""
    clients = await _Process.start(
        "bench.ws_clients", url, token, _global(run), "2", "stall", str(STALL_EVENTS)
    )
    await clients.line("ready")
    gc.collect()
    before = _rss_mb()
    await _by_worker(redis_url, run, STALL_EVENTS, 0)
    await clients.result()
    gc.collect()
    return before, _rss_mb(), _held_size({**run, "done": STALL_EVENTS})


def _held_size(event: dict[str, Any]) -> int:
    """Bytes one event takes as the parsed dict a queue would hold."""
    return sys.getsizeof(event) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in event.items())


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def run() -> list[Figure]:
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if not redis_url:
        print("subscriptions skipped: set BENCH_REDIS_URL (the bus under test is Redis pub/sub)")
        return []
    async with sandbox_runtime(redis_url=redis_url, sandbox=False) as rt:
        org, token, run_snapshot = await _setup(rt)
        try:
            async with (
                sandbox_runtime(database_url=rt.settings.DATABASE_URL, redis_url="",
                                sandbox=False) as local,
                _served(local) as url,
            ):  # fmt: skip
                local_lat, local_n = await _latencies(
                    url, token, run_snapshot, lambda: _in_process(local, run_snapshot)
                )
            async with _served(rt) as url:
                redis_lat, redis_n = await _latencies(
                    url, token, run_snapshot,
                    lambda: _by_worker(redis_url, run_snapshot, EVENTS, RATE),
                )  # fmt: skip
                left, left_detail = await _leftovers(rt, url, token, run_snapshot, redis_url)
                before, after, size = await _slow_reader(url, token, run_snapshot, redis_url)
        finally:
            await drop_pages(rt, org)
    redis_p99, local_p99 = _p99(redis_lat), _p99(local_lat)
    return [
        Figure("subscriptions.p99_ms_vs_100", redis_p99 * 1000 / 100, "<= 1",
               f"{redis_p99 * 1000:.1f}ms p99 publish->client, {CLIENTS} clients, {EVENTS} "
               f"events at {RATE:.0f}/s through Redis ({redis_n} deliveries)"),
        Figure("subscriptions.p99_vs_in_process", redis_p99 / local_p99, "<= 3",
               f"{redis_p99 * 1000:.1f}ms in-process={local_p99 * 1000:.1f}ms "
               f"({local_n} deliveries)"),
        Figure("subscriptions.leftovers_after_1000_disconnects", float(left), "<= 0",
               left_detail),
        Figure("subscriptions.stalled_client_memory", after / before, "<= 1.1",
               f"RSS {before:.0f}MB -> {after:.0f}MB over {STALL_EVENTS} events "
               f"(~{STALL_EVENTS * size / 2**20:.0f}MB had they queued)"),
    ]  # fmt: skip
