"""A sandbox-mode metasync served on a real port from its own thread and event loop, with a
tenant whose Meta login reaches the sandbox's demo Pages, Instagram account and WhatsApp
Business account, for schemathesis to call over HTTP.

Why a thread: schemathesis drives each operation from a synchronous pytest test (the
requests transport), so the server cannot share the session's event loop, which is idle
while a synchronous test runs. The server's runtime is built on the thread's own loop
(asyncpg, Redis and aiosqlite clients belong to the loop that made them); the session's
``runtime`` fixture has already reset and migrated the database it shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

import dramatiq
import pytest
import uvicorn
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout
from sqlalchemy import select

from domain.models import Contact, Conversation, Template
from domain.services.connections import ConnectReport, add_meta_token
from domain.services.publishing import PostRequest, create_post
from domain.services.sync.engine import execute_run
from domain.services.sync.runs import SyncScope, start_sync
from domain.services.whatsapp_templates import sync_templates
from graph_client.limiter import KEY_PREFIX as LIMITER_KEY_PREFIX
from server import Runtime, build_runtime, close_runtime, create_app
from tasks.broker import start_worker
from tasks.runtime import install
from tests.conftest import Tenant, create_tenant, free_port, make_settings

T = TypeVar("T")

# Sync endpoints answer 202 with the run when it outlasts this wait: short, so a slow
# machine exercises that documented answer instead of stalling the suite.
SYNC_WAIT_SECONDS = 3.0
DRAIN_MS = 10_000


@dataclass
class FuzzTarget:
    """What the fuzzed server holds for its tenant: real values to put in requests."""

    base: str
    server: ThreadedServer
    tenant: Tenant
    # Parameter name -> values naming real rows (row ids and Meta ids).
    known: dict[str, list[str]] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return self.server.runtime

    def connected_tenant(self, label: str) -> tuple[Tenant, list[str]]:
        """Another tenant holding the demo login; with its accounts' ids (Pages first)."""

        async def connect() -> tuple[Tenant, list[str]]:
            tenant = await create_tenant(self.runtime, label)
            report = await _connect_demo(self.runtime, tenant, label)
            ids = [p.id for p in report.pages] + [ig.id for ig in report.instagram_accounts]
            return tenant, [str(i) for i in ids]

        return self.server.call(connect)

    @property
    def cron_secret(self) -> str:
        return self.runtime.settings.CRON_SECRET


class ThreadedServer:
    """uvicorn serving a sandbox-mode app on a loop of its own, in a daemon thread."""

    runtime: Runtime  # once started

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.loop = asyncio.new_event_loop()
        self._started: Future[Runtime] = Future()
        self._stop: asyncio.Event | None = None
        self._worker: dramatiq.Worker | None = None
        self._thread = threading.Thread(target=self._main, name="fuzz-server", daemon=True)

    def start(self) -> Runtime:
        self._thread.start()
        self.runtime = self._started.result(timeout=60)
        return self.runtime

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 120) -> T:
        """Run a coroutine on the server's loop (where its runtime's clients live)."""

        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def start_worker(self, runtime: Runtime) -> None:
        """A real Dramatiq worker for the sync runs and jobs the endpoints request."""
        assert runtime.worker_context is not None
        install(runtime.worker_context)
        self._worker = start_worker(runtime.broker)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:
            if not self._started.done():
                self._started.set_exception(exc)
            raise
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        settings = make_settings(
            self.database_url,
            FRONTEND_URL=f"{self.base}/frontend",
            SYNC_WAIT_SECONDS=SYNC_WAIT_SECONDS,
        )
        # The sandbox's webhooks come over HTTP, as Meta's do: delivered in-process they
        # would run the app on whichever loop called the sandbox (the worker's) and leave
        # that loop's connections in this loop's pool.
        runtime = build_runtime(
            settings, sandbox=True, public_url=self.base, in_process_webhooks=False
        )
        app = create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if serving.done():
                    serving.result()  # raises what stopped uvicorn
                await asyncio.sleep(0.01)
            self._started.set_result(runtime)
            await self._stop.wait()
        finally:
            server.should_exit = True
            await serving
            if self._worker is not None:
                # The runs the fuzzing requested finish on this worker, not on a later
                # test's (a Redis queue outlives this module).
                await asyncio.to_thread(_drain, runtime.broker)
                await asyncio.to_thread(self._worker.stop)
            await close_runtime(runtime)


def _drain(broker: dramatiq.Broker) -> None:
    """Let the jobs the fuzzing queued run here, then drop what is left (retries waiting
    out their backoff): a later module's worker must not pick up this module's jobs."""
    with contextlib.suppress(QueueJoinTimeout):
        if isinstance(broker, StubBroker):
            broker.join("default", timeout=DRAIN_MS, fail_fast=False)
        else:
            broker.join("default", timeout=DRAIN_MS)
    broker.flush_all()


async def _connect_demo(runtime: Runtime, tenant: Tenant, label: str) -> ConnectReport:
    assert runtime.sandbox is not None
    services = runtime.services
    return await add_meta_token(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=tenant.org_id,
        user_id=tenant.principal.user_id,
        label=label,
        token=runtime.sandbox.info()["demo_user"]["access_token"],
        now=services.clock.now(),
    )


async def _fill(runtime: Runtime) -> tuple[Tenant, dict[str, list[str]]]:
    """A tenant holding the sandbox demo login (Pages, Instagram, WhatsApp), a synced Page,
    synced templates and a post; and the ids a request may name."""
    services = runtime.services
    assert runtime.sandbox is not None
    tenant = await create_tenant(runtime, "fuzz")
    org = tenant.org_id
    report = await _connect_demo(runtime, tenant, "fuzz")
    page = next(p for p in report.pages if p.name == "Lucky Shrub")
    async with services.uow() as uow:
        run, _ = await start_sync(
            uow, organization_id=org, page_id=page.id, scope=SyncScope.FULL, trigger="manual"
        )
        await uow.commit()
    await execute_run(services.uow, services.meta, services.vault, services.clock, run.id)
    for account in report.whatsapp_accounts:
        await sync_templates(
            services.uow(), services.meta, services.vault,
            organization_id=org, account_id=account.id, now=services.clock.now(),
        )  # fmt: skip
    async with services.uow() as uow:
        post, _ = await create_post(
            uow,
            org,
            PostRequest(account_id=page.id, platform="facebook", kind="feed", message="Fuzz"),
            services.clock.now(),
        )
        await uow.commit()
    async with services.session_factory() as session:
        first = select(Conversation).where(Conversation.page_id == page.id).limit(1)
        conversation = (await session.execute(first)).scalar_one_or_none()
        first_contact = select(Contact).where(Contact.page_id == page.id).limit(1)
        contact = (await session.execute(first_contact)).scalar_one_or_none()
        two = select(Template).where(Template.organization_id == org).limit(2)
        templates = list((await session.execute(two)).scalars())
    assert conversation is not None
    assert contact is not None
    assert templates
    igs = report.instagram_accounts
    wabas = report.whatsapp_accounts
    known = {
        "pageId": [str(page.id), page.meta_page_id],
        "conversationId": [str(conversation.id)],
        "contactId": [str(contact.id)],
        "accountId": [str(page.id)] + [str(ig.id) for ig in igs] + [ig.meta_ig_id for ig in igs],
        "socialAccountId": [str(page.id)] + [str(ig.id) for ig in igs],
        "postId": [str(post.id)],
        "id": [str(t.id) for t in templates] + [t.meta_template_id or "" for t in templates],
        "wabaId": [w.waba_id for w in wabas],
        "platform": ["facebook", "instagram"],
    }
    return tenant, {name: [v for v in values if v] for name, values in known.items()}


@pytest.fixture(scope="module")
def fuzz_target(runtime: Runtime) -> Iterator[FuzzTarget]:
    # ``runtime`` (the session's) has reset and migrated the database this server shares.
    server = ThreadedServer(runtime.settings.DATABASE_URL)
    served = server.start()
    try:
        # Filled before the worker starts: the fixture's own full sync then has Meta's
        # per-Page call budget to itself.
        tenant, known = server.call(lambda: _fill(served))
        server.start_worker(served)
        yield FuzzTarget(server.base, server, tenant, known)
    finally:
        server.stop()
        _forget_graph_usage(runtime.settings.REDIS_URL)


def _forget_graph_usage(redis_url: str | None) -> None:
    """Drop the Graph usage the fuzzing recorded in the shared Redis limiter. Every sandbox
    seeds the same demo Page ids, so the budget this module spent would hold later modules'
    calls to "their" Pages for up to a minute."""
    if not redis_url:
        return  # the in-process limiter went with the fuzz server's runtime
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{LIMITER_KEY_PREFIX}:*"):
            client.delete(key)
    finally:
        client.close()
