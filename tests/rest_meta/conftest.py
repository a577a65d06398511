"""A sandbox-mode metasync for the meta-business and meta-module shims, with a client that
fails any test whose response carries a Meta token."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select

from domain.models import MetaConnection
from domain.services.connections import ConnectReport, add_meta_token
from graph_client.sandbox import Sandbox
from tests.conftest import Tenant, create_tenant
from tests.connections.conftest import SandboxServer, sandbox_server  # noqa: F401

REDIRECT_URI = "https://frontend.test/meta/callback"


@dataclass
class MetaApi:
    server: SandboxServer
    http: httpx.AsyncClient

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    async def tenant(self, label: str = "meta") -> Tenant:
        return await create_tenant(self.server.runtime, label)

    async def get(self, path: str, tenant: Tenant | None) -> httpx.Response:
        return await self.http.get(path, headers=self._auth(tenant))

    async def post(self, path: str, tenant: Tenant | None, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self._auth(tenant))

    def _auth(self, tenant: Tenant | None) -> dict[str, str]:
        return self.server.headers(tenant) if tenant else {}

    async def connect(
        self, tenant: Tenant, label: str = "main", token: str | None = None
    ) -> tuple[str, ConnectReport]:
        """Store a fresh sandbox user token (unique to this test) as a Meta login."""
        token = token or self.sandbox.issue_user_token()
        services = self.server.runtime.services
        report = await add_meta_token(
            services.uow(),
            services.meta,
            services.vault,
            organization_id=tenant.org_id,
            user_id=tenant.principal.user_id,
            label=label,
            token=token,
            now=services.clock.now(),
        )
        return token, report

    async def dialog_code(self, redirect_uri: str = REDIRECT_URI) -> str:
        """A code from the sandbox's OAuth dialog, as a frontend would receive it."""
        query = urlencode(
            {
                "client_id": self.server.runtime.settings.META_APP_ID,
                "redirect_uri": redirect_uri,
                "state": "x",
                "scope": "pages_show_list,pages_messaging,instagram_basic,"
                "whatsapp_business_management,business_management",
            }
        )
        response = await self.http.get(f"/sandbox/v25.0/dialog/oauth?{query}")
        assert response.status_code == 302, response.text
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]

    async def connection(self, connection_id: uuid.UUID | str) -> MetaConnection:
        async with self.server.runtime.services.session_factory() as session:
            row = await session.get(MetaConnection, uuid.UUID(str(connection_id)))
        assert row is not None
        return row

    async def rows(self, model: Any, tenant: Tenant) -> list[Any]:
        stmt = select(model).where(model.organization_id == tenant.org_id)
        async with self.server.runtime.services.session_factory() as session:
            return list((await session.execute(stmt)).scalars())


def _no_meta_tokens(sandbox: Sandbox, app_secret: str) -> Any:
    async def check(response: httpx.Response) -> None:
        if "/sandbox/" in response.request.url.path:
            return  # Meta's own answers carry tokens; only metasync's must not
        await response.aread()
        leaked = [t for t in sandbox.store.tokens if t in response.text]
        assert not leaked, f"{response.request.url.path} answered a Meta token"
        assert app_secret not in response.text

    return check


@pytest.fixture
async def meta_api(sandbox_server: SandboxServer) -> AsyncIterator[MetaApi]:  # noqa: F811
    hook = _no_meta_tokens(sandbox_server.sandbox, sandbox_server.runtime.settings.META_APP_SECRET)
    async with sandbox_server.client(event_hooks={"response": [hook]}) as http:
        yield MetaApi(sandbox_server, http)
