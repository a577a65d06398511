"""The post queue: publish one post (retried with backoff while the service asks), and the
sweeper that catches scheduled posts whose time came and jobs that were lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

import dramatiq
import structlog

from domain.services.publishing import PUBLISH_ACTOR, SWEEP_ACTOR, Publisher, due_posts
from tasks.broker import actor_registrar
from tasks.rate_gate import InMemoryRateGate
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

log = structlog.get_logger(__name__)

periodic(PeriodicJob("post-sweeper", SWEEP_ACTOR, every=timedelta(minutes=1)))
_fallback_gate = InMemoryRateGate()


class PublishAgain(Exception):
    """Raised so Dramatiq runs the job again after its exponential backoff."""


async def publish_post(post_id: str) -> None:
    ctx = current()
    publisher = Publisher(ctx.uow, ctx.meta, ctx.vault, ctx.clock, ctx.rate_gate or _fallback_gate)
    if await publisher.run(uuid.UUID(post_id)):
        raise PublishAgain(post_id)


async def sweep_posts() -> None:
    ctx = current()
    async with ctx.uow() as uow:
        ids = await due_posts(uow, ctx.clock.now())
        await uow.commit()
    if ids:
        log.info("posts_swept", posts=len(ids))


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    # Attempts are counted on the post (at most 3); Dramatiq's retries only pace them, and
    # an unconfirmed post's reconciliation needs a run of its own.
    dramatiq.actor(
        actor_name=PUBLISH_ACTOR,
        broker=broker,
        max_retries=5,
        min_backoff=1_000,
        max_backoff=60_000,
        retry_when=lambda retries, exc: isinstance(exc, PublishAgain) and retries < 5,
    )(publish_post)
    dramatiq.actor(actor_name=SWEEP_ACTOR, broker=broker, max_retries=0)(sweep_posts)
