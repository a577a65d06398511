"""What actors need at run time (database, vault, Meta, bus), built per event loop.

Async actors run on Dramatiq's own event-loop thread, never on the API's loop, and engines,
Redis clients and HTTP pools belong to the loop that made them. So server.py installs a
*factory*, and each loop that runs actors gets its own context from it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.meta import MetaGateway
from domain.ports import Clock, EventBus, JobQueue, RateGate
from domain.services.sync.runs import SyncLimits
from domain.uow import UnitOfWork
from domain.vault import TokenVault


@dataclass(frozen=True)
class Recovery:
    webhook_retry_after: timedelta = timedelta(seconds=30)
    webhook_defer: timedelta = timedelta(seconds=300)
    sync_lease: timedelta = timedelta(seconds=60)


@dataclass
class WorkerContext:
    session_factory: async_sessionmaker[AsyncSession]
    jobs: JobQueue
    bus: EventBus
    vault: TokenVault
    meta: MetaGateway
    clock: Clock
    notify_webhook_url: str | None = None
    # Limits shared with the API (e.g. the post queue's spacing per account).
    rate_gate: RateGate | None = None
    # The spec's sync limits, which scheduled syncs honour too.
    sync_limits: SyncLimits = field(default_factory=SyncLimits)
    # Recovery timings (settings.py explains each).
    recovery: Recovery = field(default_factory=lambda: Recovery())

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.jobs, self.bus)


ContextFactory = Callable[[], WorkerContext]

_factory: ContextFactory | None = None
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WorkerContext] = (
    weakref.WeakKeyDictionary()
)


def install(factory: ContextFactory) -> None:
    """Set how contexts are built (once per process, by server.py)."""
    global _factory
    _factory = factory
    _per_loop.clear()


def current() -> WorkerContext:
    if _factory is None:
        raise RuntimeError("tasks.runtime.install() was not called in this process")
    loop = asyncio.get_running_loop()
    context = _per_loop.get(loop)
    if context is None:
        context = _per_loop[loop] = _factory()
    return context
