"""The facebook-sync and auto-connect shims against a sandbox-mode server with a real Dramatiq
worker executing the sync runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import dramatiq
import httpx
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout

from domain.models import Page
from server import Runtime
from tasks.broker import start_worker
from tasks.runtime import install
from tests.conftest import Tenant, add_member
from tests.connections.conftest import SandboxServer, sandbox_server  # noqa: F401
from tests.sync.test_engine import connected

DRAIN_MS = 20_000


@dataclass
class SyncApi:
    server: SandboxServer
    runtime: Runtime
    http: httpx.AsyncClient

    async def call(
        self, method: str, path: str, tenant: Tenant | None, body: Any = None
    ) -> httpx.Response:
        headers = self.server.headers(tenant) if tenant else {}
        return await self.http.request(method, path, json=body, headers=headers)

    async def connected(self, label: str) -> tuple[Tenant, Page]:
        """A tenant whose stored login reaches the sandbox's demo Pages (Lucky Shrub)."""
        return await connected(self.server, self.runtime, label)

    async def member_of(self, tenant: Tenant) -> Tenant:
        """Another user of ``tenant``'s organization with the plain member role."""
        return await add_member(self.runtime, tenant)


@contextlib.asynccontextmanager
async def running_worker(rt: Runtime) -> AsyncIterator[dramatiq.Worker]:
    """A Dramatiq worker consuming ``rt``'s broker, stopped (in a thread) on exit."""
    # Actors build their context from the installed factory: make it this server's (another
    # test's server may have installed its own since).
    assert rt.worker_context is not None
    install(rt.worker_context)
    started = start_worker(rt.broker)
    try:
        yield started
    finally:
        await asyncio.to_thread(_drain, rt.broker)
        await asyncio.to_thread(started.stop)


def _drain(broker: dramatiq.Broker) -> None:
    """Let the retries a test caused (Meta's transient failures are retried with backoff) run
    on this test's worker, not on a later test's (a Redis queue outlives the test)."""
    with contextlib.suppress(QueueJoinTimeout):
        if isinstance(broker, StubBroker):
            broker.join("default", timeout=DRAIN_MS, fail_fast=False)
        else:
            broker.join("default", timeout=DRAIN_MS)


@pytest.fixture
async def worker(sandbox_server: SandboxServer) -> AsyncIterator[dramatiq.Worker]:  # noqa: F811
    async with running_worker(sandbox_server.runtime) as started:
        yield started


@pytest.fixture
async def api(
    sandbox_server: SandboxServer,  # noqa: F811
    runtime: Runtime,
    worker: dramatiq.Worker,
) -> AsyncIterator[SyncApi]:
    async with httpx.AsyncClient(base_url=sandbox_server.base, timeout=120) as http:
        yield SyncApi(sandbox_server, runtime, http)
