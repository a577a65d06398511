"""A metasync server in sandbox mode on a real port, sharing the session's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from graph_client.sandbox import Sandbox
from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import Tenant, free_port, live_server, make_settings


@dataclass
class SandboxServer:
    runtime: Runtime
    base: str  # http://127.0.0.1:PORT

    @property
    def sandbox(self) -> Sandbox:
        assert self.runtime.sandbox is not None
        return self.runtime.sandbox

    def headers(self, tenant: Tenant) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.runtime.services.jwt.issue(tenant.principal)}"}

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=20, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def sandbox_server(runtime: Runtime) -> AsyncIterator[SandboxServer]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(runtime.settings.DATABASE_URL, FRONTEND_URL=f"{base}/frontend")
    rt = build_runtime(settings, sandbox=True, public_url=base)
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with live_server(app, port):
        yield SandboxServer(rt, base)
    await close_runtime(rt)
