"""metasync's composition root and command line.

    python server.py [serve] [--host 127.0.0.1] [--port 8000]
    python server.py migrate | worker | scheduler | rotate-keys | generate-key
    python server.py issue-token --email E [--org NAME]

Everything is built here from one Settings object: engine, broker, event bus, token vault,
JWT codec, the Starlette app. Nothing else in the project reads settings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import httpx
import redis.asyncio as aioredis
import structlog
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

import tasks.actors  # noqa: F401  (registers the actors before any broker is created)
from domain.database import create_engine, create_session_factory, is_sqlite
from domain.errors import DomainError, InvalidInputError
from domain.models import WebhookEventStatus
from domain.ports import RateGate
from domain.repositories.identity import IdentityRepository
from domain.services.connections import ConnectReport, add_meta_token
from domain.services.health import Thresholds
from domain.services.identity import ensure_user
from domain.services.oauth import OAuthConfig
from domain.services.sync.runs import SyncLimits, SyncScope, start_sync
from domain.services.token_health import mark_token_invalid
from domain.services.token_keys import rotate_all
from domain.services.webhooks.apply import ApplyContext, process_event
from domain.services.webhooks.inbox import reopen, select_for_replay
from domain.services.whatsapp_templates import sync_templates
from domain.uow import UnitOfWork
from domain.vault import TokenVault, generate_key
from graph_client import GraphClient, GraphConfig, TokenInvalidError
from graph_client.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from graph_client.signature import verify_payload_signature
from migrations.runner import upgrade_engine
from resolvers.auth import AuthenticationError, JwtCodec, authenticate
from resolvers.graphql.view import MetasyncGraphQL
from resolvers.http import JSONResponse
from resolvers.log_config import configure_logging
from resolvers.middleware import OriginCORSMiddleware, RequestContextMiddleware
from resolvers.oauth_callback import routes as oauth_routes
from resolvers.rate_limit import RATE_LIMIT_HEADERS, ApiRateLimitMiddleware, RateLimitStore
from resolvers.rest import all_endpoints
from resolvers.rest.auto_connect import health
from resolvers.rest.families import AUTO_CONNECT, RestError, family_for_path
from resolvers.rest.openapi import build_openapi, docs_html
from resolvers.rest.routing import Endpoint, error_response, to_route
from resolvers.services import AppServices, SystemClock
from resolvers.webhooks.receiver import inbox_for
from resolvers.webhooks.receiver import routes as webhook_routes
from schema import build_schema
from settings import InsecureSettingsError, Settings
from tasks.broker import DramatiqJobQueue, create_broker, start_worker
from tasks.bus import InMemoryEventBus, RedisEventBus
from tasks.cache import InMemoryCache, RedisCache
from tasks.meta_gateway import GraphMetaGateway
from tasks.rate_gate import InMemoryRateGate, RedisRateGate
from tasks.runtime import Recovery, WorkerContext
from tasks.runtime import install as install_worker_context
from tasks.scheduler import PERIODIC_JOBS, Scheduler, redis_slot_claim, with_sweep_interval
from tasks.state_store import InMemoryStateStore, RedisStateStore

VERSION = "0.1.0"
log = structlog.get_logger("metasync")


SANDBOX_PREFIX = "/sandbox"
DEMO_EMAIL = "demo@example.com"
DEMO_ORG = "Demo"


class _LateASGI:
    """An ASGI app whose target is set later: the sandbox delivers webhooks in-process to
    the metasync app, which is built after the sandbox."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


@dataclass
class Runtime:
    """What one process runs: services plus the broker, the Graph client and, in sandbox
    mode, the fake Meta platform."""

    settings: Settings
    services: AppServices
    broker: dramatiq.Broker
    graph: GraphClient
    sandbox: Sandbox | None = None
    webhook_target: _LateASGI = field(default_factory=_LateASGI)
    # The /api rate limit's counts (resolvers.rate_limit).
    rate_limit_store: RateLimitStore = field(default_factory=lambda: RateLimitStore(None))
    # How this process's actors get their (per event loop) context.
    worker_context: Callable[[], WorkerContext] | None = None
    # What apps built on this runtime hold open (the webhook inbox's writer connection),
    # released by close_runtime before the engine is disposed.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def embedded(self) -> bool:
        return self.settings.REDIS_URL is None


def build_sandbox(settings: Settings, public_url: str, webhook_target: _LateASGI | None) -> Sandbox:
    """The fake Meta. Its webhooks go to ``webhook_target`` in-process when given (tests
    without a network server), else over HTTP to ``public_url`` like Meta's: a served app
    must get them on its own event loop, not on whichever loop (the worker's) the sandbox
    happened to be called from."""
    sandbox = create_sandbox_app(
        SandboxConfig(
            app_id=settings.META_APP_ID,
            app_secret=settings.META_APP_SECRET,
            base_path=SANDBOX_PREFIX,
            public_base_url=public_url,
            webhook_callback_url=f"{public_url}/webhooks/meta",
            webhook_verify_token=settings.WEBHOOK_VERIFY_TOKEN,
            webhook_transport=httpx.ASGITransport(app=webhook_target) if webhook_target else None,
        )
    )
    sandbox.seed_demo()
    return sandbox


def build_graph(
    settings: Settings,
    sandbox: Sandbox | None,
    public_url: str,
    on_token_invalid: Callable[[str, TokenInvalidError], Awaitable[None]] | None = None,
) -> GraphClient:
    graph_url = f"{public_url}{SANDBOX_PREFIX}" if sandbox else settings.META_GRAPH_URL
    config = GraphConfig(
        app_id=settings.META_APP_ID,
        app_secret=settings.META_APP_SECRET,
        graph_url=graph_url,
        version=settings.META_GRAPH_VERSION,
        redis_url=settings.REDIS_URL,
    )
    # In sandbox mode Graph calls stay in-process: the sandbox sees the /sandbox prefix as
    # its root path, exactly as when it is mounted in the app.
    transport = httpx.ASGITransport(app=sandbox, root_path=SANDBOX_PREFIX) if sandbox else None
    return GraphClient(config, transport=transport, on_token_invalid=on_token_invalid)


def build_runtime(
    settings: Settings,
    *,
    sandbox: bool = False,
    public_url: str | None = None,
    in_process_webhooks: bool = True,
) -> Runtime:
    settings.check_production_ready()
    public_url = (public_url or settings.PUBLIC_URL).rstrip("/")
    webhook_target = _LateASGI()
    target = webhook_target if in_process_webhooks else None
    fake_meta = build_sandbox(settings, public_url, target) if sandbox else None
    engine = create_engine(settings.DATABASE_URL)
    session_factory = create_session_factory(engine)
    broker = create_broker(settings.REDIS_URL)
    jobs = DramatiqJobQueue(broker)
    bus: InMemoryEventBus | RedisEventBus = (
        RedisEventBus(settings.REDIS_URL) if settings.REDIS_URL else InMemoryEventBus()
    )
    notify = bool(settings.NOTIFY_WEBHOOK_URL)
    graph = build_graph(
        settings, fake_meta, public_url, _token_invalid_hook(session_factory, jobs, bus, notify)
    )
    meta = GraphMetaGateway(graph)
    vault = TokenVault(settings.token_keys)
    dialog_url = f"{public_url}{SANDBOX_PREFIX}" if fake_meta else settings.META_DIALOG_URL
    clock = SystemClock()
    services = AppServices(
        engine=engine,
        session_factory=session_factory,
        jobs=jobs,
        bus=bus,
        vault=vault,
        meta=meta,
        state_store=(
            RedisStateStore(settings.REDIS_URL) if settings.REDIS_URL else InMemoryStateStore()
        ),
        oauth=OAuthConfig(
            app_id=settings.META_APP_ID,
            dialog_url=dialog_url,
            graph_version=settings.META_GRAPH_VERSION,
            callback_url=f"{public_url}/auth/meta/callback",
        ),
        rate_gate=RedisRateGate(settings.REDIS_URL) if settings.REDIS_URL else InMemoryRateGate(),
        cache=RedisCache(settings.REDIS_URL) if settings.REDIS_URL else InMemoryCache(clock),
        clock=clock,
        verify_signature=functools.partial(_verify_signature, app_secret=settings.META_APP_SECRET),
        sync_limits=sync_limits(settings),
        sync_wait_seconds=settings.SYNC_WAIT_SECONDS,
        frontend_url=settings.FRONTEND_URL.rstrip("/"),
        webhook_verify_token=settings.WEBHOOK_VERIFY_TOKEN,
        webhook_callback_url=f"{public_url}/webhooks/meta",
        notify=notify,
        jwt=JwtCodec(
            secret=settings.JWT_SECRET,
            algorithms=tuple(settings.JWT_ALGORITHMS),
            issuer=settings.JWT_ISSUER,
            audience=settings.JWT_AUDIENCE,
            ttl=timedelta(seconds=settings.JWT_TTL_SECONDS),
        ),
        cron_secret=settings.CRON_SECRET,
    )
    services.health_probes["graphApi"] = _graph_probe(graph)
    if settings.REDIS_URL:
        services.health_probes["redis"] = _redis_probe(settings.REDIS_URL)
    services.health_thresholds = Thresholds(
        webhook_retry_after=timedelta(seconds=settings.WEBHOOK_RETRY_AFTER_SECONDS),
        sync_lease=timedelta(seconds=settings.SYNC_LEASE_SECONDS),
    )

    def worker_context() -> WorkerContext:
        return _worker_context(
            settings, fake_meta, public_url, jobs, bus, vault, services.clock, services.rate_gate
        )

    install_worker_context(worker_context)
    return Runtime(
        settings=settings,
        services=services,
        broker=broker,
        graph=graph,
        sandbox=fake_meta,
        webhook_target=webhook_target,
        worker_context=worker_context,
        rate_limit_store=RateLimitStore(settings.REDIS_URL),
    )


def _token_invalid_hook(
    session_factory: async_sessionmaker[AsyncSession],
    jobs: DramatiqJobQueue,
    bus: InMemoryEventBus | RedisEventBus,
    notify: bool,
) -> Callable[[str, TokenInvalidError], Awaitable[None]]:
    async def on_token_invalid(fingerprint: str, error: TokenInvalidError) -> None:
        # Any 190 on any call flips whatever holds that token, in its own transaction.
        async with UnitOfWork(session_factory, jobs, bus) as uow:
            await mark_token_invalid(uow, fingerprint, error.message, notify=notify)

    return on_token_invalid


def _worker_context(
    settings: Settings,
    sandbox: Sandbox | None,
    public_url: str,
    jobs: DramatiqJobQueue,
    bus: InMemoryEventBus | RedisEventBus,
    vault: TokenVault,
    clock: SystemClock,
    rate_gate: RateGate,
) -> WorkerContext:
    """Built on the worker's own event loop: its own engine, Graph client and bus client."""
    session_factory = create_session_factory(create_engine(settings.DATABASE_URL))
    notify = bool(settings.NOTIFY_WEBHOOK_URL)
    worker_bus = RedisEventBus(settings.REDIS_URL) if settings.REDIS_URL else bus
    graph = build_graph(
        settings,
        sandbox,
        public_url,
        _token_invalid_hook(session_factory, jobs, worker_bus, notify),
    )
    return WorkerContext(
        session_factory=session_factory,
        jobs=jobs,
        bus=worker_bus,
        vault=vault,
        meta=GraphMetaGateway(graph),
        clock=clock,
        notify_webhook_url=settings.NOTIFY_WEBHOOK_URL,
        # Redis clients belong to the loop that made them; the in-memory gate is shared.
        rate_gate=RedisRateGate(settings.REDIS_URL) if settings.REDIS_URL else rate_gate,
        sync_limits=sync_limits(settings),
        recovery=recovery_timings(settings),
    )


def sync_limits(settings: Settings) -> SyncLimits:
    return SyncLimits(
        full_interval_seconds=settings.SYNC_FULL_INTERVAL_SECONDS,
        individual_per_minute=settings.SYNC_INDIVIDUAL_PER_MINUTE,
    )


def recovery_timings(settings: Settings) -> Recovery:
    return Recovery(
        webhook_retry_after=timedelta(seconds=settings.WEBHOOK_RETRY_AFTER_SECONDS),
        webhook_defer=timedelta(seconds=settings.WEBHOOK_DEFER_SECONDS),
        sync_lease=timedelta(seconds=settings.SYNC_LEASE_SECONDS),
    )


def _verify_signature(body: bytes, header: str | None, *, app_secret: str) -> bool:
    return verify_payload_signature(body, header, app_secret)


def _graph_probe(graph: GraphClient) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def probe() -> dict[str, Any]:
        breakers = graph.breaker_states()
        tripped = sorted(host for host, state in breakers.items() if state != "closed")
        return {"status": "warning" if tripped else "ok", "circuitBreakers": breakers}

    return probe


def _redis_probe(url: str) -> Callable[[], Awaitable[dict[str, Any]]]:
    """Redis carries the job queue, live events and shared limits: while it is down,
    deliveries are still stored (and applied once it is back), so metasync is degraded,
    not down. A client per probe: probes run on whichever loop serves the request."""

    async def probe() -> dict[str, Any]:
        client = aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            await client.ping()
            return {"status": "ok"}
        except Exception as exc:
            return {"status": "error", "message": type(exc).__name__}
        finally:
            await client.aclose()

    return probe


async def close_runtime(runtime: Runtime) -> None:
    for close in runtime.closers:
        await close()
    await runtime.graph.aclose()
    services = runtime.services
    await runtime.rate_limit_store.aclose()
    for closable in (services.state_store, services.rate_gate, services.cache):
        if isinstance(closable, RedisStateStore | RedisRateGate | RedisCache):
            await closable.aclose()
    if runtime.sandbox is not None:
        await runtime.sandbox.aclose()
    bus = runtime.services.bus
    if isinstance(bus, RedisEventBus):
        await bus.aclose()
    await runtime.services.engine.dispose()


# --- HTTP ------------------------------------------------------------------------------


def create_app(
    runtime: Runtime,
    *,
    migrate_on_start: bool | None = None,
    run_worker: bool | None = None,
    run_scheduler: bool | None = None,
    connect_demo: bool = True,
    extra_endpoints: Sequence[Endpoint] = (),
) -> Starlette:
    """The ASGI app. In the embedded default it also migrates SQLite at start and runs the
    worker and the scheduler in-process; tests pass the flags explicitly."""
    settings, services = runtime.settings, runtime.services
    embedded = runtime.embedded
    migrate_on_start = (
        is_sqlite(settings.DATABASE_URL) if migrate_on_start is None else migrate_on_start
    )
    run_worker = embedded if run_worker is None else run_worker
    run_scheduler = embedded if run_scheduler is None else run_scheduler

    endpoints = [*all_endpoints(), *extra_endpoints]
    openapi = build_openapi(endpoints, version=VERSION)
    gql = MetasyncGraphQL(
        build_schema(production=settings.is_production),
        services,
        production=settings.is_production,
        allowed_origins=settings.CORS_ORIGINS,
    )

    async def openapi_json(_: Request) -> Response:
        return JSONResponse(openapi)

    async def docs(_: Request) -> Response:
        return HTMLResponse(docs_html(openapi))

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    liveness = to_route(
        Endpoint(
            AUTO_CONNECT, "GET", "/health", health, "Health (alias of /api/health)", auth="none"
        ),
        services,
    )
    webhook_inbox = inbox_for(services)
    runtime.closers.append(webhook_inbox.aclose)
    routes: list[BaseRoute] = [
        # First: Starlette tries routes in order, and Meta's deliveries are the hot path.
        *webhook_routes(services, settings.WEBHOOK_VERIFY_TOKEN, webhook_inbox),
        *([Mount(SANDBOX_PREFIX, app=runtime.sandbox)] if runtime.sandbox else []),
        Route("/graphql", gql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", gql),
        liveness,
        *(to_route(ep, services) for ep in endpoints),
        *oauth_routes(services),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        family = family_for_path(request.url.path)
        if family is None:
            return JSONResponse({"detail": "Not Found" if status == 404 else "Error"}, status)
        # Under /api an unauthenticated caller learns nothing about which paths exist.
        if family is not AUTO_CONNECT:
            try:
                await authenticate(
                    services.jwt, services.uow(), request.headers.get("authorization")
                )
            except AuthenticationError as auth_exc:
                return error_response(family, RestError(401, str(auth_exc)))
        message = "Not found" if status == 404 else "Method not allowed"
        return error_response(family, RestError(status, message))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if migrate_on_start:
            await upgrade_engine(services.engine)
        if runtime.sandbox is not None and connect_demo:
            await connect_sandbox_demo(runtime)
        worker = start_worker(runtime.broker) if run_worker else None
        scheduler_task = None
        if run_scheduler:
            scheduler = make_scheduler(runtime)
            scheduler_task = asyncio.create_task(scheduler.run_forever())
        # What start built lives as long as the process: keep it out of the collector's full
        # passes, which over it take ~90 ms here (a pause every request in flight waits out).
        gc.collect()
        gc.freeze()
        log.info("metasync_started", embedded=embedded, environment=settings.ENVIRONMENT)
        try:
            yield
        finally:
            if scheduler_task is not None:
                scheduler_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler_task
            # Deliveries already acknowledged get their jobs sent before the worker stops
            # (close_runtime then releases the inbox's connection).
            await webhook_inbox.drain()
            if worker is not None:
                await asyncio.to_thread(worker.stop)
            await close_runtime(runtime)

    middleware = [Middleware(RequestContextMiddleware)]
    if settings.CORS_ORIGINS:
        middleware.append(
            Middleware(
                OriginCORSMiddleware,
                allow_origins=settings.CORS_ORIGINS,
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
                expose_headers=[*RATE_LIMIT_HEADERS, "X-Request-ID"],
            )
        )
    # Inside CORS: a browser may read a 429 (and preflights are answered before counting).
    middleware.append(
        Middleware(
            ApiRateLimitMiddleware,
            limit=settings.API_RATE_LIMIT,
            jwt=services.jwt,
            store=runtime.rate_limit_store,
        )
    )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    runtime.webhook_target.target = app
    return app


async def connect_sandbox_demo(runtime: Runtime) -> ConnectReport:
    """Sandbox mode: demo@example.com's organization holds the sandbox demo user's Meta login
    with every Page it reaches connected, so a demo token sees them at once."""
    assert runtime.sandbox is not None
    services = runtime.services
    async with services.uow() as uow:
        principal = await ensure_user(uow, DEMO_EMAIL, DEMO_ORG)
        await uow.commit()
    report = await add_meta_token(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        label="sandbox demo",
        token=runtime.sandbox.info()["demo_user"]["access_token"],
        now=services.clock.now(),
    )
    # Fill the demo: its templates now, and a first full sync of each Page queued for the
    # worker (progress shows on syncProgress / pageSyncProgress).
    for account in report.whatsapp_accounts:
        await sync_templates(
            services.uow(), services.meta, services.vault,
            organization_id=principal.organization_id, account_id=account.id,
            now=services.clock.now(),
        )  # fmt: skip
    async with services.uow() as uow:
        for page in report.pages:
            await start_sync(
                uow, organization_id=principal.organization_id, page_id=page.id,
                scope=SyncScope.FULL, trigger="auto_connect",
            )  # fmt: skip
        await uow.commit()
    log.info(
        "sandbox_demo_connected",
        pages=len(report.pages),
        instagram=len(report.instagram_accounts),
        whatsapp=len(report.whatsapp_accounts),
    )
    return report


def make_scheduler(runtime: Runtime) -> Scheduler:
    settings = runtime.settings
    claim = redis_slot_claim(settings.REDIS_URL) if settings.REDIS_URL else None
    jobs = with_sweep_interval(list(PERIODIC_JOBS), settings.SWEEP_INTERVAL_SECONDS)
    if settings.SCHEDULER_JOBS:
        unknown = set(settings.SCHEDULER_JOBS) - {job.name for job in jobs}
        if unknown:
            raise InvalidInputError(
                "SCHEDULER_JOBS", f"unknown jobs {sorted(unknown)}; known: {[j.name for j in jobs]}"
            )
        jobs = [job for job in jobs if job.name in settings.SCHEDULER_JOBS]
    # Tick often enough for the shortest interval (a deployment may sweep every few seconds).
    tick = min(5.0, max(0.5, settings.SWEEP_INTERVAL_SECONDS / 2))
    return Scheduler(jobs, runtime.services.jobs, claim=claim, tick_seconds=tick)


# --- commands --------------------------------------------------------------------------


def cmd_serve(settings: Settings, host: str, port: int, *, sandbox: bool) -> None:
    public_url = f"http://{host}:{port}" if sandbox else None
    # Before the serving runtime is built: issuing builds a runtime of its own, and the last
    # one built installs the worker context this process's actors use.
    token = asyncio.run(_issue_token(settings, DEMO_EMAIL, DEMO_ORG)) if sandbox else ""
    runtime = build_runtime(
        settings, sandbox=sandbox, public_url=public_url, in_process_webhooks=False
    )
    app = create_app(runtime)
    lines = [f"metasync {VERSION} on http://{host}:{port}  (GraphQL: /graphql, REST docs: /docs)"]
    if runtime.sandbox is not None:
        meta_token = runtime.sandbox.info()["demo_user"]["access_token"]
        lines += [
            f"sandbox: fake Meta at http://{host}:{port}{SANDBOX_PREFIX} "
            f"(info: {SANDBOX_PREFIX}/_control/info)",
            f"demo bearer token ({DEMO_EMAIL}):",
            f"  {token}",
            "sandbox Meta user token (long-lived):",
            f"  {meta_token}",
        ]
    print("\n".join(lines), flush=True)
    uvicorn.run(app, host=host, port=port, log_config=None, ws="websockets-sansio")


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.DATABASE_URL)
    try:
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


async def _issue_token(settings: Settings, email: str, org: str | None) -> str:
    runtime = build_runtime(settings)
    try:
        if is_sqlite(settings.DATABASE_URL):
            await upgrade_engine(runtime.services.engine)
        async with runtime.services.uow() as uow:
            principal = await ensure_user(uow, email, org)
            await uow.commit()
        return runtime.services.jwt.issue(principal)
    finally:
        await close_runtime(runtime)


async def _add_meta_token(settings: Settings, label: str, org: str | None, token: str) -> str:
    runtime = build_runtime(settings)
    try:
        if is_sqlite(settings.DATABASE_URL):
            await upgrade_engine(runtime.services.engine)
        async with runtime.services.uow() as uow:
            organization = await IdentityRepository(uow.session).single_organization(org)
            if organization is None:
                raise InvalidInputError(
                    "org", "name an existing organization (--org NAME; see issue-token)"
                )
            org_id, org_name = organization.id, organization.name
        report = await add_meta_token(
            runtime.services.uow(),
            runtime.services.meta,
            runtime.services.vault,
            organization_id=org_id,
            user_id=None,
            label=label,
            token=token,
            now=runtime.services.clock.now(),
        )
        created = "stored" if report.created else "updated"
        return (
            f"{created} Meta token '{label}' for {org_name}: "
            f"{len(report.pages)} page(s), {len(report.instagram_accounts)} Instagram, "
            f"{len(report.whatsapp_accounts)} WhatsApp account(s)"
            + "".join(f"\nwarning: {w}" for w in report.warnings)
        )
    finally:
        await close_runtime(runtime)


async def _replay_webhooks(settings: Settings, status: str | None, since: str | None) -> str:
    try:
        since_at = datetime.fromisoformat(since).astimezone(UTC) if since else None
    except ValueError as exc:
        raise InvalidInputError("since", "must be an ISO date or time, e.g. 2026-11-20") from exc
    if status is not None and status not in {s.value for s in WebhookEventStatus}:
        raise InvalidInputError("status", "must be received, processed, ignored or failed")
    runtime = build_runtime(settings)
    try:
        services = runtime.services
        async with services.uow() as uow:
            ids = await select_for_replay(uow, status=status, since=since_at)
        ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock)
        outcomes: dict[str, int] = {}
        for done, event_id in enumerate(ids, start=1):
            async with services.uow() as uow:
                await reopen(uow, event_id)
                await uow.commit()
            final = await process_event(ctx, event_id) or "missing"
            outcomes[final] = outcomes.get(final, 0) + 1
            _progress(done, len(ids))
        summary = ", ".join(f"{n} {state}" for state, n in sorted(outcomes.items()))
        return f"replayed {len(ids)} webhook deliveries" + (f": {summary}" if summary else "")
    finally:
        await close_runtime(runtime)


def _progress(done: int, total: int, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def _rotate_keys(settings: Settings) -> str:
    runtime = build_runtime(settings)
    try:
        async with runtime.services.uow() as uow:
            report = await rotate_all(uow.session, runtime.services.vault)
            await uow.commit()
        return f"re-encrypted {report.rotated} token(s); {report.already_current} already current"
    finally:
        await close_runtime(runtime)


def cmd_worker(settings: Settings) -> None:
    if not settings.REDIS_URL:
        sys.exit("worker: set REDIS_URL (the embedded default runs its worker inside the server)")
    runtime = build_runtime(settings)
    worker = start_worker(runtime.broker, threads=4)
    print(
        "metasync worker consuming",
        sorted(runtime.broker.get_declared_queues()) or "(no queues)",
        flush=True,  # supervisors and logs see it at once, not when the buffer fills
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    worker.stop()


async def _run_scheduler(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        await make_scheduler(runtime).run_forever()
    finally:
        await close_runtime(runtime)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="server.py", description="metasync")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the API (default)")
    for p in (parser, serve):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument(
            "--sandbox", action="store_true", help="talk to the built-in fake Meta, with demo data"
        )
    sub.add_parser("migrate", help="apply database migrations")
    token = sub.add_parser(
        "issue-token", help="create the user/organization if needed; print a JWT"
    )
    token.add_argument("--email", required=True)
    token.add_argument("--org", default=None)
    add_token = sub.add_parser(
        "add-meta-token", help="store a labelled Meta token read from stdin; connect its assets"
    )
    add_token.add_argument("--label", required=True)
    add_token.add_argument("--org", default=None, help="organization name (default: the only one)")
    sub.add_parser("rotate-keys", help="re-encrypt stored Meta tokens under the newest key")
    replay = sub.add_parser("replay-webhooks", help="apply stored webhook deliveries again")
    replay.add_argument("--status", default=None, help="received | processed | ignored | failed")
    replay.add_argument("--since", default=None, help="ISO date or time (UTC)")
    sub.add_parser("generate-key", help="print a new TOKEN_ENCRYPTION_KEYS key")
    sub.add_parser("worker", help="run a Dramatiq worker (needs REDIS_URL)")
    sub.add_parser("scheduler", help="run the periodic-job scheduler")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command or "serve"
    if command == "generate-key":
        print(generate_key())
        return
    try:
        settings = Settings()
        settings.check_production_ready()
    except InsecureSettingsError as exc:
        sys.exit(str(exc))
    configure_logging(settings.LOG_LEVEL)
    if command == "serve":
        cmd_serve(settings, args.host, args.port, sandbox=args.sandbox)
    elif command == "migrate":
        asyncio.run(_migrate(settings))
        print("database migrated")
    elif command == "issue-token":
        try:
            print(asyncio.run(_issue_token(settings, args.email, args.org)))
        except DomainError as exc:
            sys.exit(f"issue-token: {exc.message}")
    elif command == "add-meta-token":
        token = sys.stdin.readline().strip()
        try:
            print(asyncio.run(_add_meta_token(settings, args.label, args.org, token)))
        except DomainError as exc:
            sys.exit(f"add-meta-token: {exc.message}")
    elif command == "replay-webhooks":
        try:
            print(asyncio.run(_replay_webhooks(settings, args.status, args.since)))
        except DomainError as exc:
            sys.exit(f"replay-webhooks: {exc.message}")
    elif command == "rotate-keys":
        print(asyncio.run(_rotate_keys(settings)))
    elif command == "worker":
        cmd_worker(settings)
    elif command == "scheduler":
        try:
            asyncio.run(_run_scheduler(settings))
        except DomainError as exc:
            sys.exit(f"scheduler: {exc.message}")


if __name__ == "__main__":
    main()
