"""Publishing tests: a sandbox-mode server with a real Dramatiq worker (``http``), helpers to
find the Instagram account and wait for a post to settle, and a Publisher whose waits move
Meta's clock instead of sleeping (``SandboxTime``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from domain.models import InstagramAccount, Page, Post
from domain.ports import RateGate
from domain.services.publishing import Publisher
from graph_client.sandbox import Sandbox
from server import Runtime, build_runtime, close_runtime, create_app
from tasks.rate_gate import InMemoryRateGate
from tests.conftest import free_port, live_server, make_settings
from tests.connections.conftest import SandboxServer
from tests.rest_sync.conftest import running_worker

SETTLED = ("published", "failed")


@pytest.fixture
async def sandbox_server(runtime: Runtime) -> AsyncIterator[SandboxServer]:
    """A sandbox-mode server whose Meta sends webhooks over HTTP, as in production: the worker
    publishing a post makes Meta emit a feed webhook from the worker's event loop, and an
    in-process delivery would run the API's handler (and its database pool) on that loop."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(runtime.settings.DATABASE_URL, FRONTEND_URL=f"{base}/frontend")
    rt = build_runtime(settings, sandbox=True, public_url=base, in_process_webhooks=False)
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with live_server(app, port):
        server = SandboxServer(rt, base)
        # A worker for every test, even one that runs the Publisher itself: the webhooks
        # Meta sends about its posts are applied within the test. Left in a Redis queue, they
        # would reach a later test's organizations, which hold the same sandbox Page ids.
        async with running_worker(rt):
            yield server
            assert rt.sandbox is not None
            await rt.sandbox.core.emitter.drain()
    await close_runtime(rt)


@pytest.fixture
async def http(sandbox_server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    # Containers are ready quickly, so a test waits seconds, not Meta's minutes.
    sandbox_server.sandbox.core.config.container_ready_seconds = 0.5
    async with sandbox_server.client() as client:
        yield client


async def instagram_of(server: SandboxServer, page: Page) -> InstagramAccount:
    async with server.runtime.services.session_factory() as session:
        stmt = select(InstagramAccount).where(InstagramAccount.page_id == page.id)
        return (await session.execute(stmt)).scalar_one()


async def settled(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    post_id: str,
    until: tuple[str, ...] = SETTLED,
) -> Any:
    """The post (GET /api/social/posts/{id}) once its status is one of ``until``."""
    body: Any = None
    for _ in range(300):
        body = (await client.get(f"/api/social/posts/{post_id}", headers=headers)).json()
        if body["status"] in until:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"post {post_id} did not reach {until}: {body}")


@dataclass
class SandboxTime:
    """The Publisher's ``sleep`` in tests: nothing waits for real; Meta's clock moves by the
    time asked for (containers get ready, schedules come due) and each wait is recorded."""

    sandbox: Sandbox
    slept: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.sandbox.core.clock_offset += seconds
        self.sandbox.core.tick()

    def now(self) -> float:
        return self.sandbox.now()

    def freeze(self) -> None:
        """Meta's clock stops but for these waits: times on Meta then say exactly how long
        the publisher held back."""
        frozen = self.sandbox.core.config.clock()
        self.sandbox.core.config.clock = lambda: frozen


def publisher(server: SandboxServer, time: SandboxTime, gate: RateGate | None = None) -> Publisher:
    """The queue's Publisher on the server's services, waiting on ``time``."""
    services = server.runtime.services
    return Publisher(
        services.uow,
        services.meta,
        services.vault,
        services.clock,
        gate or InMemoryRateGate(clock=time.now),
        sleep=time.sleep,
    )


async def queued_post(
    server: SandboxServer,
    page: Page,
    *,
    platform: str,
    type: str,
    message: str | None,
    media: list[dict[str, Any]] | None = None,
    ig: InstagramAccount | None = None,
    status: str = "queued",
) -> uuid.UUID:
    """A post stored as the API stores it, with no job sent: the test runs the Publisher."""
    services = server.runtime.services
    async with services.uow() as uow:
        post = Post(
            organization_id=page.organization_id,
            page_id=page.id,
            instagram_account_id=ig.id if ig else None,
            platform=platform,
            type=type,
            status=status,
            message=message,
            media=media or [],
            idempotency_key=str(uuid.uuid4()),
        )
        uow.session.add(post)
        await uow.commit()
        return post.id


async def stored(server: SandboxServer, post_id: uuid.UUID) -> Post:
    async with server.runtime.services.session_factory() as session:
        post = await session.get(Post, post_id)
        assert post is not None
        return post
