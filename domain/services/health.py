"""The checks behind ``/api/health`` (shape of spec/auto-connect.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import (
    ChannelStatus,
    ConnectionStatus,
    Conversation,
    MetaConnection,
    Page,
    SyncRun,
    SyncStatus,
    WebhookEvent,
    WebhookEventStatus,
    WhatsAppAccount,
)

TOKEN_WARNING_WINDOW = timedelta(days=7)
SYNC_STALE_AFTER = timedelta(hours=2)


@dataclass
class HealthReport:
    status: str  # healthy | degraded | unhealthy
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)


def _worst(statuses: list[str]) -> str:
    if "error" in statuses:
        return "unhealthy"
    if "warning" in statuses:
        return "degraded"
    return "healthy"


async def _whatsapp_check(session: AsyncSession) -> dict[str, Any]:
    """Additive: a RED quality rating risks the number's messaging limit, and an account
    without a connected number cannot send at all."""
    rows = (
        await session.execute(
            select(WhatsAppAccount.quality_rating, WhatsAppAccount.phone_numbers).where(
                WhatsAppAccount.deleted_at.is_(None),
                WhatsAppAccount.status == ChannelStatus.ACTIVE.value,
            )
        )
    ).all()
    red = sum(1 for rating, _ in rows if rating == "RED")
    lost = sum(
        1
        for _, numbers in rows
        if not numbers or any(n.get("status") not in (None, "CONNECTED") for n in numbers)
    )
    return {
        "status": "warning" if red or lost else "ok",
        "accounts": len(rows),
        "redQuality": red,
        "numbersLost": lost,
    }


@dataclass(frozen=True)
class Thresholds:
    """When stored work counts as stuck (the deployment's recovery settings)."""

    webhook_retry_after: timedelta = timedelta(seconds=30)
    sync_lease: timedelta = timedelta(seconds=60)


async def check_health(
    session: AsyncSession, now: datetime, thresholds: Thresholds = Thresholds()
) -> HealthReport:
    # Any database failure (unreachable, or reachable but not migrated) makes metasync
    # unhealthy; the message names the exception type only, never connection details.
    try:
        await session.execute(text("SELECT 1"))
        return await _checks(session, now, thresholds)
    except Exception as exc:
        return HealthReport(
            status="unhealthy",
            checks={"database": {"status": "error", "message": type(exc).__name__}},
        )


async def _checks(session: AsyncSession, now: datetime, thresholds: Thresholds) -> HealthReport:
    checks: dict[str, dict[str, Any]] = {"database": {"status": "ok"}}

    live_pages = Page.deleted_at.is_(None)
    page_total = await _scalar(session, select(func.count()).where(live_pages))
    pages_needing_auth = await _scalar(
        session,
        select(func.count()).where(
            live_pages, Page.status == ChannelStatus.REAUTHORIZATION_REQUIRED.value
        ),
    )
    pages_check: dict[str, Any] = {"status": "ok", "count": page_total}
    if pages_needing_auth:
        pages_check.update(status="warning", reauthorizationRequired=pages_needing_auth)
    checks["facebookPages"] = pages_check

    live_conn = MetaConnection.deleted_at.is_(None)
    expiring = await _scalar(
        session,
        select(func.count()).where(
            live_conn,
            MetaConnection.status == ConnectionStatus.ACTIVE.value,
            MetaConnection.expires_at.is_not(None),
            MetaConnection.expires_at < now + TOKEN_WARNING_WINDOW,
        ),
    )
    broken = await _scalar(
        session,
        select(func.count()).where(
            live_conn,
            MetaConnection.status.in_(
                [
                    ConnectionStatus.REAUTHORIZATION_REQUIRED.value,
                    ConnectionStatus.EXPIRED.value,
                    ConnectionStatus.INVALID.value,
                ]
            ),
        ),
    )
    token_check: dict[str, Any] = {"status": "ok"}
    if expiring or broken:
        token_check = {
            "status": "warning",
            "expiringSoon": expiring,
            "reauthorizationRequired": broken,
        }
    checks["tokenExpiration"] = token_check

    unsubscribed = await _scalar(
        session,
        select(func.count()).where(
            live_pages,
            Page.status == ChannelStatus.ACTIVE.value,
            Page.webhook_subscribed.is_(False),
        ),
    )
    subscribed = await _scalar(
        session,
        select(func.count()).where(live_pages, Page.webhook_subscribed.is_(True)),
    )
    # Additive to the spec's checks: a Page without the app's webhook subscription gets no
    # real-time messages, only what the periodic sync brings.
    checks["webhooks"] = {
        "status": "warning" if unsubscribed else "ok",
        "subscribedPages": subscribed,
        "unsubscribedPages": unsubscribed,
    }

    checks["whatsapp"] = await _whatsapp_check(session)

    conversations = await _scalar(
        session, select(func.count()).where(Conversation.deleted_at.is_(None))
    )
    checks["conversations"] = {"status": "ok", "count": conversations}

    failed_recently = await _scalar(
        session,
        select(func.count()).where(
            SyncRun.status == SyncStatus.FAILED.value,
            SyncRun.created_at > now - SYNC_STALE_AFTER,
        ),
    )
    stale = await _scalar(
        session,
        select(func.count()).where(
            live_pages,
            Page.status == ChannelStatus.ACTIVE.value,
            Page.last_synced_at.is_not(None),
            Page.last_synced_at < now - SYNC_STALE_AFTER,
        ),
    )
    # Additive: runs whose worker stopped beating (the sweeper fails and re-queues them).
    lost = await _scalar(
        session,
        select(func.count()).where(
            SyncRun.status == SyncStatus.RUNNING.value,
            func.coalesce(SyncRun.heartbeat_at, SyncRun.started_at, SyncRun.created_at)
            < now - thresholds.sync_lease,
        ),
    )
    sync_check: dict[str, Any] = {"status": "ok"}
    if failed_recently or stale or lost:
        sync_check = {
            "status": "warning",
            "failedRecently": failed_recently,
            "stalePages": stale,
            "lostRuns": lost,
        }
    checks["sync"] = sync_check
    checks["webhookInbox"] = await _inbox_check(session, now, thresholds)

    return HealthReport(status=_worst([c["status"] for c in checks.values()]), checks=checks)


async def _inbox_check(session: AsyncSession, now: datetime, t: Thresholds) -> dict[str, Any]:
    """Additive: deliveries stored but not applied after the sweeper's delay mean workers
    or the broker are not keeping up (or are down); they are kept and applied later."""
    waiting = await _scalar(
        session,
        select(func.count()).where(
            WebhookEvent.status == WebhookEventStatus.RECEIVED.value,
            WebhookEvent.received_at < now - t.webhook_retry_after,
        ),
    )
    return {"status": "warning" if waiting else "ok", "waiting": waiting}


async def _scalar(session: AsyncSession, stmt: Any) -> int:
    return int((await session.execute(stmt)).scalar_one())
