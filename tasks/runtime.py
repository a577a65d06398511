"""What actors need at run time (database, vault, Meta, bus), installed once per process by
server.py. Actors take ids, re-load rows, and call domain services with these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.meta import MetaGateway
from domain.ports import Clock, EventBus, JobQueue
from domain.uow import UnitOfWork
from domain.vault import TokenVault


@dataclass
class WorkerContext:
    session_factory: async_sessionmaker[AsyncSession]
    jobs: JobQueue
    bus: EventBus
    vault: TokenVault
    meta: MetaGateway
    clock: Clock
    notify_webhook_url: str | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.jobs, self.bus)


_context: WorkerContext | None = None


def install(context: WorkerContext) -> None:
    global _context
    _context = context


def current() -> WorkerContext:
    if _context is None:
        raise RuntimeError("tasks.runtime.install() was not called in this process")
    return _context
