"""The fault suite's harness: a private redis-server per module, ``server.py`` subprocesses
(API, workers, scheduler) on the session's database, and the sandbox in this process,
served on a real port so the subprocesses call it over HTTP as they would call Meta.

Recovery runs on short timings here (sweep every second, a lost worker noticed after a
3 s lease); production uses the defaults in settings.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker

from bench.processes import PrivateRedis, ServerProcess, free_port, redis_available
from graph_client.signature import sign_payload_sha256
from server import Runtime
from settings import DEV_META_APP_SECRET
from tasks.broker import NAMESPACE, DramatiqJobQueue, _registrars
from tests.connections.conftest import SandboxServer, sandbox_server  # noqa: F401

RECOVERY_ENV = {
    "SWEEP_INTERVAL_SECONDS": "1",
    "WEBHOOK_RETRY_AFTER_SECONDS": "2",
    "SYNC_LEASE_SECONDS": "3",
    # Only the sweepers: a periodic sync passing by would change the state under test.
    "SCHEDULER_JOBS": "webhook-sweeper,sync-run-sweeper",
    "WEBHOOK_DEFER_SECONDS": "600",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    if not redis_available():
        pytest.skip("needs redis-server on PATH (the fault suite starts its own)")
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


@dataclass
class Cluster:
    """metasync's processes on the session's database and the private Redis."""

    env: dict[str, str]
    log_dir: Path
    redis: PrivateRedis
    processes: list[ServerProcess] = field(default_factory=list)
    api_base: str = ""

    def start(self, *args: str, name: str | None = None) -> ServerProcess:
        label = name or "-".join(args)
        log = self.log_dir / f"{label}-{len(self.processes)}.log"
        process = ServerProcess(list(args), self.env, log).start()
        self.processes.append(process)
        return process

    def worker(self) -> ServerProcess:
        return self.start("worker")

    def scheduler(self) -> ServerProcess:
        return self.start("scheduler")

    async def api(self) -> str:
        port = free_port()
        process = self.start("serve", "--port", str(port), name="api")
        await asyncio.to_thread(process.wait_listening, port)
        self.api_base = f"http://127.0.0.1:{port}"
        return self.api_base

    def jobs(self) -> DramatiqJobQueue:
        """Send jobs to the private Redis as an API process would."""
        broker = RedisBroker(url=self.redis.url, namespace=NAMESPACE)  # type: ignore[no-untyped-call]
        for register in _registrars:
            register(broker)
        return DramatiqJobQueue(broker)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log_path.read_text()[-3000:]}"
            for p in self.processes
            if p.log_path.exists()
        )

    def stop(self) -> None:
        for process in self.processes:
            process.kill()


@pytest.fixture
async def cluster(
    private_redis: PrivateRedis,
    sandbox_server: SandboxServer,  # noqa: F811
    runtime: Runtime,
    tmp_path: Path,
) -> AsyncIterator[Cluster]:
    env = {
        "DATABASE_URL": runtime.settings.DATABASE_URL,
        "REDIS_URL": private_redis.url,
        "META_GRAPH_URL": f"{sandbox_server.base}/sandbox",
        **RECOVERY_ENV,
    }
    # Jobs of earlier tests must not reach this one's workers.
    import redis

    client = redis.Redis.from_url(private_redis.url)
    client.flushdb()
    client.close()
    running = Cluster(env, tmp_path, private_redis)
    try:
        yield running
    finally:
        running.stop()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float, what: str, every: float = 0.25
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after
    ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(every)


def messenger_message(page: str, person: str, at_ms: int, text: str | None = None) -> bytes:
    mid = f"m_{uuid.uuid4().hex}"
    item = {"sender": {"id": person}, "recipient": {"id": page}, "timestamp": at_ms,
            "message": {"mid": mid, "text": text or f"message {mid}"}}  # fmt: skip
    body = {"object": "page", "entry": [{"id": page, "time": at_ms, "messaging": [item]}]}
    return json.dumps(body).encode()


async def post_until_accepted(client: httpx.AsyncClient, url: str, body: bytes) -> list[int]:
    """Post like Meta: a delivery not answered 200 is sent again. Returns every status seen
    (a refused or failed attempt is a 5xx, never a hang)."""
    headers = {"X-Hub-Signature-256": sign_payload_sha256(body, DEV_META_APP_SECRET)}
    seen = []
    for _ in range(200):
        try:
            response = await client.post(url, content=body, headers=headers)
            seen.append(response.status_code)
            if response.status_code == 200:
                return seen
        except httpx.TransportError:
            seen.append(0)
        await asyncio.sleep(0.2)
    raise AssertionError(f"delivery never accepted: {seen[-5:]}")


def sandbox_people(server: SandboxServer, meta_page_id: str) -> list[str]:
    page = server.sandbox.store.page(meta_page_id)
    assert page is not None
    return [c.person_id for c in page.conversations if c.platform == "messenger"]
