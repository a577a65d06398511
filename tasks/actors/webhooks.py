"""Webhook processing: apply a stored delivery; sweep deliveries never processed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import dramatiq
import structlog

from domain.services.webhook_config import resubscribe_dropped
from domain.services.webhooks.apply import DEFERRED, ApplyContext, process_event
from domain.services.webhooks.inbox import PROCESS_ACTOR, requeue_stale
from tasks.broker import actor_registrar
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

log = structlog.get_logger(__name__)

SWEEP = "sweep_webhook_inbox"

periodic(PeriodicJob("webhook-sweeper", SWEEP, every=timedelta(minutes=1), sweeper=True))


class WaitingForEarlierEvent(dramatiq.Retry):
    """Raised so Dramatiq tries the delivery again after its backoff (an expected retry, not
    logged as an error): part of it is about a message not stored yet (the delivery
    overtook the one carrying that message)."""


async def process_webhook_event(event_id: str) -> None:
    ctx = current()
    apply = ApplyContext(ctx.uow, ctx.meta, ctx.vault, ctx.clock, ctx.recovery.webhook_defer)
    if await process_event(apply, uuid.UUID(event_id)) == DEFERRED:
        raise WaitingForEarlierEvent(event_id)


async def sweep_webhook_inbox() -> None:
    ctx = current()
    async with ctx.uow() as uow:
        # Still "received" long after it was queued: never sent (Redis was down), lost
        # (Redis restarted), or its worker died.
        stale = await requeue_stale(uow, ctx.clock.now(), ctx.recovery.webhook_retry_after)
        await uow.commit()
    if stale:
        log.info("webhook_inbox_swept", requeued=len(stale))


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    dramatiq.actor(
        actor_name=PROCESS_ACTOR, broker=broker, max_retries=10, min_backoff=500, max_backoff=60_000
    )(process_webhook_event)
    dramatiq.actor(actor_name=SWEEP, broker=broker, max_retries=0)(sweep_webhook_inbox)


SUBSCRIPTIONS = "check_webhook_subscriptions"
periodic(PeriodicJob("webhook-subscriptions-hourly", SUBSCRIPTIONS, every=timedelta(hours=1)))


async def check_webhook_subscriptions() -> None:
    """Meta unsubscribes a Page after about an hour of failed deliveries: subscribe again."""
    ctx = current()
    checked, resubscribed = await resubscribe_dropped(ctx.uow(), ctx.meta, ctx.vault)
    log.info("webhook_subscriptions_checked", checked=checked, resubscribed=resubscribed)


@actor_registrar
def register_subscriptions(broker: dramatiq.Broker) -> None:
    dramatiq.actor(actor_name=SUBSCRIPTIONS, broker=broker, max_retries=2)(
        check_webhook_subscriptions
    )
