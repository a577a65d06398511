"""The sandbox server, a worker applying webhooks, and a tenant connected to the demo WABA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from domain.models import WhatsAppAccount
from server import Runtime
from tests.conftest import Tenant
from tests.connections.conftest import SandboxServer, sandbox_server  # noqa: F401
from tests.sync.test_engine import connected
from tests.webhooks.conftest import worker  # noqa: F401

DEMO_WABA = "353064879345076"


@dataclass
class WhatsAppApi:
    server: SandboxServer
    tenant: Tenant
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = self.server.headers(self.tenant)
        return await self.http.request(method, path, json=body, headers=headers)

    def server_tenant(self) -> Tenant:
        """The tenant with a token of the server's own signing key."""
        return Tenant(self.tenant.principal, self.server.runtime.services.jwt.issue(
            self.tenant.principal))  # fmt: skip

    async def account(self) -> WhatsAppAccount:
        async with self.server.runtime.services.session_factory() as session:
            stmt = select(WhatsAppAccount).where(
                WhatsAppAccount.organization_id == self.tenant.org_id
            )
            return (await session.execute(stmt)).scalars().one()


@pytest.fixture
async def wa(
    sandbox_server: SandboxServer,  # noqa: F811
    runtime: Runtime,
) -> AsyncIterator[WhatsAppApi]:
    tenant, _ = await connected(sandbox_server, runtime, "wa")
    async with sandbox_server.client() as http:
        yield WhatsAppApi(sandbox_server, tenant, http)
