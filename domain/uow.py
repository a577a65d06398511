"""Unit of work: one session, one transaction, and an after-commit buffer.

Services never commit; the caller (a resolver, an actor) owns the unit of work. Jobs and bus
events recorded during the work are sent only after the commit succeeds and are dropped on
rollback, so a worker never sees an id whose row is not yet (or never) committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ports import EventBus, JobQueue, JSONDict

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Pending:
    jobs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, JSONDict]] = field(default_factory=list)


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        jobs: JobQueue,
        bus: EventBus,
    ) -> None:
        self._session_factory = session_factory
        self._jobs = jobs
        self._bus = bus
        self._session: AsyncSession | None = None
        self._pending = _Pending()
        # Dispatch failures after a successful commit: the data is safe, and sweepers
        # re-enqueue from the database; callers may report these.
        self.dispatch_errors: list[str] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self._pending = _Pending()
        self.dispatch_errors = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                if exc_type is None:
                    # Leaving without commit is how read-only work ends: keep what was read
                    # usable after the block (a rollback would expire every loaded row).
                    session.expunge_all()
                await self.rollback()
        finally:
            await session.close()
            self._session = None

    def enqueue(self, actor_name: str, **kwargs: Any) -> None:
        """Send a job once this unit of work commits."""
        self._pending.jobs.append((actor_name, kwargs))

    def publish(self, channel: str, event: JSONDict) -> None:
        """Publish a bus event once this unit of work commits."""
        self._pending.events.append((channel, event))

    async def commit(self) -> None:
        await self.session.commit()
        pending, self._pending = self._pending, _Pending()
        for actor_name, kwargs in pending.jobs:
            try:
                self._jobs.enqueue(actor_name, **kwargs)
            except Exception as exc:  # broker down: the row is committed, a sweeper retries
                log.warning("enqueue_after_commit_failed", actor=actor_name, error=str(exc))
                self.dispatch_errors.append(f"{actor_name}: {exc}")
        for channel, event in pending.events:
            try:
                await self._bus.publish(channel, event)
            except Exception as exc:  # live updates are best effort; state is in the DB
                log.warning("publish_after_commit_failed", channel=channel, error=str(exc))
                self.dispatch_errors.append(f"{channel}: {exc}")

    async def rollback(self) -> None:
        self._pending = _Pending()
        await self.session.rollback()
