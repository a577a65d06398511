"""Fixtures for the webhook tests: the sandbox server and a worker applying deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tasks.broker import start_worker
from tasks.runtime import install
from tests.connections.conftest import SandboxServer, sandbox_server  # noqa: F401


@pytest.fixture
async def worker(sandbox_server: SandboxServer) -> AsyncIterator[None]:  # noqa: F811
    rt = sandbox_server.runtime
    assert rt.worker_context is not None
    install(rt.worker_context)
    running = start_worker(rt.broker)
    yield
    await asyncio.to_thread(running.stop)
