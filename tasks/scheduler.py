"""The scheduler: sends periodic jobs (daily token checks, the per-Page sync schedules,
sweepers) as Dramatiq messages at their times. Run exactly one (`python server.py
scheduler`); in the embedded default it runs inside the server. With Redis, a per-slot
lock makes a second scheduler harmless: each slot is sent once."""

from __future__ import annotations

import asyncio
import dataclasses
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
    # Send the window the message stands for: ``since`` (the slot last fired) and ``until``
    # (this slot), ISO strings. A job that decides per row what is due (the per-Page sync
    # schedules) then misses nothing when a tick comes late.
    window: bool = False
    # A recovery sweeper: its interval is the deployment's SWEEP_INTERVAL_SECONDS.
    sweeper: bool = False

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
            previous = self._last[job.name]
            if slot <= previous:
                continue
            self._last[job.name] = slot
            # Redis (the slot claim and the broker) down: this slot is skipped and the next
            # one tries again; the scheduler itself keeps running.
            try:
                if self._claim is not None and not await self._claim(
                    f"{job.name}:{slot.isoformat()}"
                ):
                    continue
                kwargs = dict(job.kwargs)
                if job.window:
                    kwargs.update(since=previous.isoformat(), until=slot.isoformat())
                self.queue.enqueue(job.actor_name, **kwargs)
                sent.append(job.name)
            except Exception as exc:
                if job.window:
                    # The next send covers this window too, so no Page's due sync is lost.
                    self._last[job.name] = previous
                log.warning("scheduler_enqueue_failed", job=job.name, error=str(exc))
        return sent

    async def run_forever(self) -> None:
        log.info("scheduler_started", jobs=[job.name for job in self.jobs])
        while True:
            await self.tick()
            await asyncio.sleep(self.tick_seconds)


def with_sweep_interval(jobs: list[PeriodicJob], seconds: float) -> list[PeriodicJob]:
    """The jobs with every sweeper sent each ``seconds`` (at least 1)."""
    every = timedelta(seconds=max(1, int(seconds)))
    return [dataclasses.replace(job, every=every) if job.sweeper else job for job in jobs]


def redis_slot_claim(redis_url: str) -> SlotClaim:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)

    async def claim(key: str) -> bool:
        return bool(await client.set(f"metasync:scheduler:{key}", "1", nx=True, ex=86400 * 2))

    return claim
