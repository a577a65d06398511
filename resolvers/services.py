"""The runtime objects adapters need, built once by server.py (the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.meta import MetaGateway, StateStore
from domain.ports import Cache, EventBus, JobQueue, RateGate
from domain.services.health import Thresholds
from domain.services.oauth import OAuthConfig
from domain.services.sync.runs import SyncLimits
from domain.uow import UnitOfWork
from domain.vault import TokenVault
from resolvers.auth import JwtCodec


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class AppServices:
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    jobs: JobQueue
    bus: EventBus
    vault: TokenVault
    jwt: JwtCodec
    meta: MetaGateway
    state_store: StateStore
    oauth: OAuthConfig
    rate_gate: RateGate
    # Short-lived JSON answers (the meta-module Instagram grid), shared when Redis is set.
    cache: Cache
    # Checks X-Hub-Signature-256 over the raw bytes with the app secret (constant time).
    verify_signature: Callable[[bytes, str | None], bool]
    sync_limits: SyncLimits = field(default_factory=SyncLimits)
    # How long REST shims wait for a sync to finish before answering 202 with the run.
    sync_wait_seconds: float = 30.0
    frontend_url: str = "http://localhost:3000"
    webhook_verify_token: str = ""
    webhook_callback_url: str = ""
    # Deliver notifications to NOTIFY_WEBHOOK_URL (a job per notification) when set.
    notify: bool = False
    cron_secret: str = ""
    clock: SystemClock = field(default_factory=SystemClock)
    # When stored work counts as stuck in /api/health (the recovery settings).
    health_thresholds: Thresholds = field(default_factory=Thresholds)
    # Extra health probes (Graph circuit breakers, broker, ...) keyed by check name.
    health_probes: dict[str, Any] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.jobs, self.bus)
