"""Connection upkeep: the daily token check, one connection's check, notification delivery."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import dramatiq
import httpx
import structlog

from domain.models import MetaConnection, Notification
from domain.services.token_health import NOTIFY_ACTOR, active_connection_ids, check_connection
from tasks.broker import actor_registrar
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

log = structlog.get_logger(__name__)

CHECK_ALL = "check_all_connections"
CHECK_ONE = "check_connection"

periodic(PeriodicJob("daily-token-check", CHECK_ALL, daily_at=(2, 0)))


async def check_all_connections() -> None:
    ctx = current()
    async with ctx.session_factory() as session:
        ids = await active_connection_ids(session)
    for connection_id in ids:
        ctx.jobs.enqueue(CHECK_ONE, connection_id=str(connection_id))
    log.info("token_check_scheduled", connections=len(ids))


async def check_one_connection(connection_id: str) -> None:
    ctx = current()
    async with ctx.uow() as uow:
        conn = await uow.session.get(MetaConnection, uuid.UUID(connection_id))
        if conn is None or conn.deleted_at is not None:
            return
        result = await check_connection(
            uow, ctx.meta, ctx.vault, conn, ctx.clock.now(), notify=bool(ctx.notify_webhook_url)
        )
        await uow.commit()
    log.info("token_checked", connection_id=connection_id, status=result.status)


async def deliver_notification(notification_id: str) -> None:
    """POST the notification to NOTIFY_WEBHOOK_URL; a non-2xx raises so Dramatiq retries."""
    ctx = current()
    if not ctx.notify_webhook_url:
        return
    async with ctx.uow() as uow:
        note = await uow.session.get(Notification, uuid.UUID(notification_id))
        if note is None or note.delivered_at is not None:
            return
        body = {
            "id": str(note.id),
            "kind": note.kind,
            "organizationId": str(note.organization_id),
            "message": note.message,
            "payload": note.payload,
            "createdAt": note.created_at.isoformat(),
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(ctx.notify_webhook_url, json=body)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            note.delivery_error = f"{type(exc).__name__}: {exc}"[:1000]
            await uow.commit()
            raise
        note.delivered_at = ctx.clock.now()
        note.delivery_error = None
        await uow.commit()


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    retry: dict[str, Any] = {
        "max_retries": 5,
        "min_backoff": 1_000,
        "max_backoff": int(timedelta(minutes=10).total_seconds() * 1000),
    }
    dramatiq.actor(actor_name=CHECK_ALL, broker=broker, max_retries=0)(check_all_connections)
    dramatiq.actor(actor_name=CHECK_ONE, broker=broker, **retry)(check_one_connection)
    dramatiq.actor(actor_name=NOTIFY_ACTOR, broker=broker, **retry)(deliver_notification)
