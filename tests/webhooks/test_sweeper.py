"""The inbox sweeper re-sends what was lost, without multiplying a backlog.

Found by the webhook loss benchmark: re-sending every delivery older than 30 s on every
sweep put 13,500 duplicate jobs in front of 800 deliveries while workers were catching up.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from domain.models import WebhookEvent
from domain.services.webhooks.inbox import requeue_stale
from server import Runtime

RETRY_AFTER = timedelta(seconds=30)


async def _event(runtime: Runtime, *, age: timedelta, attempts: int, queued: bool) -> uuid.UUID:
    now = runtime.services.clock.now()
    event = WebhookEvent(
        id=uuid.uuid4(), object="page", raw_body=b"{}", body_sha256=uuid.uuid4().hex * 2,
        status="received", attempts=attempts, received_at=now - age,
        queued_at=now - age if queued else None,
    )  # fmt: skip
    async with runtime.services.uow() as uow:
        uow.session.add(event)
        await uow.commit()
    return event.id


async def _sweep(runtime: Runtime, at: timedelta = timedelta(0)) -> set[uuid.UUID]:
    async with runtime.services.uow() as uow:
        due = await requeue_stale(uow, runtime.services.clock.now() + at, RETRY_AFTER)
        await uow.commit()  # the jobs are sent now
    return set(due)


async def test_lost_deliveries_are_sent_again_once_and_then_less_often(runtime: Runtime) -> None:
    never_sent = await _event(runtime, age=timedelta(minutes=5), attempts=0, queued=False)
    worker_died = await _event(runtime, age=timedelta(seconds=70), attempts=1, queued=True)
    still_queued = await _event(runtime, age=timedelta(seconds=10), attempts=0, queued=True)
    retried_often = await _event(runtime, age=timedelta(minutes=2), attempts=4, queued=True)

    due = await _sweep(runtime)
    assert {never_sent, worker_died} <= due
    assert still_queued not in due  # waited less than 30 s since it was queued
    assert retried_often not in due  # 4 attempts: left alone 30 s x 16 = 8 min

    # The next sweep (seconds later) does not send them again: they were just queued.
    again = await _sweep(runtime, timedelta(seconds=5))
    assert not again & {never_sent, worker_died, still_queued, retried_often}
    later = await _sweep(runtime, timedelta(seconds=31))
    assert {never_sent, still_queued} <= later
    assert worker_died not in later  # 1 attempt: 60 s since it was queued again
    async with runtime.services.session_factory() as session:
        queued_at = (
            await session.execute(
                select(WebhookEvent.queued_at).where(WebhookEvent.id == never_sent)
            )
        ).scalar_one()
    assert queued_at is not None
