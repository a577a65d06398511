"""The security suite's server: sandbox mode on a real port, sharing the session's database,
with REST sync shims that answer at once (no worker runs here) — and the world of objects
one organization owns, which another must not be able to reach."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import free_port, live_server, make_settings
from tests.connections.conftest import SandboxServer
from tests.security.world import World, build_world


@pytest.fixture(scope="module")
async def security_server(runtime: Runtime) -> AsyncIterator[SandboxServer]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        runtime.settings.DATABASE_URL,
        FRONTEND_URL=f"{base}/frontend",
        # The REST sync shims wait for a worker; none runs here, so answer (202) at once.
        SYNC_WAIT_SECONDS=0.2,
    )
    rt = build_runtime(settings, sandbox=True, public_url=base)
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with live_server(app, port):
        yield SandboxServer(rt, base)
    await close_runtime(rt)


@pytest.fixture(scope="module")
async def world(security_server: SandboxServer, runtime: Runtime) -> World:
    return await build_world(security_server, runtime)


@pytest.fixture
async def http(security_server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with security_server.client() as client:
        yield client
