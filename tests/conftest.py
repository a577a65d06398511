"""Test harness: real databases, real brokers, the real app.

The suite runs on the embedded default (a SQLite file, in-process broker, in-memory bus)
anywhere, and on PostgreSQL + Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set. Only
Meta is faked (by graph_client.sandbox). Tests share one migrated database per run and
isolate themselves by creating their own organization.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from domain.database import create_engine
from domain.models import Membership, Role
from domain.services.identity import Principal, ensure_user
from migrations.runner import upgrade_engine
from server import Runtime, build_runtime, close_runtime, create_app
from settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SERVICES = bool(TEST_DATABASE_URL or TEST_REDIS_URL)

requires_redis = pytest.mark.skipif(
    not TEST_REDIS_URL, reason="needs Redis: set TEST_REDIS_URL (CI does)"
)
requires_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # In CI with services configured, a skip is a failure: it would hide an untested backend.
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and SERVICES and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI with services configured: {report.longrepr}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the event-loop threads Dramatiq's AsyncIO middleware left running.

    Each worker boot starts one (not a daemon) and records it in a process-wide slot; when
    tests run two workers in one process at once (the app's embedded worker and a test's
    own), the later boot overwrites the slot and the earlier thread is never stopped, so the
    interpreter would wait for it forever after the last test. One worker per process, as
    in production, never leaks one.
    """
    from dramatiq.asyncio import EventLoopThread

    for thread in threading.enumerate():
        if isinstance(thread, EventLoopThread) and thread.is_alive():
            thread.stop()  # type: ignore[no-untyped-call]


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            # Another client holding a lock here (an earlier run's leftover process) would make
            # the DROP wait forever; fail the session with a clear error instead.
            await conn.execute(text("SET LOCAL lock_timeout = '60s'"))
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'metasync-test.db'}"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "CORS_ORIGINS": ["http://frontend.test"],
        # The suite makes far more than 100 requests in 15 minutes from one address; the rate
        # limit's own test (tests/security/test_rate_limit.py) builds an app with a small one.
        "API_RATE_LIMIT": "100000/minute",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    if TEST_DATABASE_URL:
        await _reset_postgres(database_url)
    if TEST_REDIS_URL:
        _flush_redis(TEST_REDIS_URL)
    rt = build_runtime(make_settings(database_url))
    await upgrade_engine(rt.services.engine)
    yield rt
    await close_runtime(rt)


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> Starlette:
    # The lifespan (migrations, worker, scheduler) is not run under ASGITransport: the
    # session fixtures own the runtime.
    return create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://metasync.test") as c:
        yield c


@dataclass
class Tenant:
    principal: Principal
    token: str

    @property
    def org_id(self) -> uuid.UUID:
        return self.principal.organization_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_tenant(runtime: Runtime, label: str = "org") -> Tenant:
    suffix = uuid.uuid4().hex[:8]
    async with runtime.services.uow() as uow:
        principal = await ensure_user(uow, f"{label}-{suffix}@example.com", f"{label} {suffix}")
        await uow.commit()
    return Tenant(principal=principal, token=runtime.services.jwt.issue(principal))


async def add_member(runtime: Runtime, tenant: Tenant) -> Tenant:
    """Another user of ``tenant``'s organization, with the plain member role."""
    outsider = await create_tenant(runtime, "member")
    async with runtime.services.uow() as uow:
        uow.session.add(
            Membership(
                id=uuid.uuid4(),
                user_id=outsider.principal.user_id,
                organization_id=tenant.org_id,
                role=Role.MEMBER.value,
            )
        )
        await uow.commit()
    principal = Principal(
        user_id=outsider.principal.user_id,
        organization_id=tenant.org_id,
        email=outsider.principal.email,
        organization_name=tenant.principal.organization_name,
        role=Role.MEMBER.value,
    )
    return Tenant(principal, runtime.services.jwt.issue(principal))


@pytest.fixture
async def tenant(runtime: Runtime) -> Tenant:
    return await create_tenant(runtime, "alpha")


@pytest.fixture
async def other_tenant(runtime: Runtime) -> Tenant:
    return await create_tenant(runtime, "beta")


async def gql(
    client: httpx.AsyncClient,
    query: str,
    tenant: Tenant | None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = tenant.headers if tenant else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class StatementCounter:
    """Counts SQL statements sent to the database by an engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(str(args[2])[:200])

    @contextlib.contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        self.count = 0
        self.statements = []
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._on_execute)
        try:
            yield self
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", self._on_execute)


@pytest.fixture
def statements(runtime: Runtime) -> StatementCounter:
    return StatementCounter(runtime.services.engine)


@contextlib.asynccontextmanager
async def live_server(app: Starlette, port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on loopback (a free port unless given); yields host:port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def scratch_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own (same backend as the run), for tests that touch every row."""
    if not TEST_DATABASE_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    from sqlalchemy.engine import make_url

    name = f"scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(TEST_DATABASE_URL)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
