"""The scheduler: sends periodic jobs (daily token checks, the 30-minute cron sync, sweepers)
as Dramatiq messages at their times. Run exactly one (`python server.py scheduler`); in the
embedded default it runs inside the server. With Redis, a per-slot lock makes a second
scheduler harmless: each slot is sent once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from domain.ports import JobQueue

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    actor_name: str
    every: timedelta | None = None  # fixed interval, aligned to the epoch
    daily_at: tuple[int, int] | None = None  # (hour, minute) UTC
    kwargs: tuple[tuple[str, Any], ...] = ()

    def slot(self, now: datetime) -> datetime:
        """The start of the current slot: a job fires once per slot."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)
        assert self.daily_at is not None
        hour, minute = self.daily_at
        today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return today if now >= today else today - timedelta(days=1)


PERIODIC_JOBS: list[PeriodicJob] = []


def periodic(job: PeriodicJob) -> PeriodicJob:
    PERIODIC_JOBS.append(job)
    return job


SlotClaim = Callable[[str], Awaitable[bool]]


class Scheduler:
    def __init__(
        self,
        jobs: list[PeriodicJob],
        queue: JobQueue,
        *,
        claim: SlotClaim | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick_seconds: float = 5.0,
    ) -> None:
        self.jobs = jobs
        self.queue = queue
        self._claim = claim
        self._now = now
        self.tick_seconds = tick_seconds
        # Slots already seen at start are not fired: a restart does not resend them.
        start = now()
        self._last: dict[str, datetime] = {job.name: job.slot(start) for job in jobs}

    async def tick(self) -> list[str]:
        """Send every job whose slot has begun since it last fired; returns their names."""
        now = self._now()
        sent = []
        for job in self.jobs:
            slot = job.slot(now)
            if slot <= self._last[job.name]:
                continue
            self._last[job.name] = slot
            if self._claim is not None and not await self._claim(f"{job.name}:{slot.isoformat()}"):
                continue
            try:
                self.queue.enqueue(job.actor_name, **dict(job.kwargs))
                sent.append(job.name)
            except Exception as exc:  # broker down: next slot will try again
                log.warning("scheduler_enqueue_failed", job=job.name, error=str(exc))
        return sent

    async def run_forever(self) -> None:
        log.info("scheduler_started", jobs=[job.name for job in self.jobs])
        while True:
            await self.tick()
            await asyncio.sleep(self.tick_seconds)


def redis_slot_claim(redis_url: str) -> SlotClaim:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)

    async def claim(key: str) -> bool:
        return bool(await client.set(f"metasync:scheduler:{key}", "1", nx=True, ex=86400 * 2))

    return claim
