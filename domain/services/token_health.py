"""Keeping connections alive: the daily (and on-demand) token check, and the immediate
reaction to Meta rejecting a token on any call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFoundError
from domain.meta import MetaGateway
from domain.models import (
    ChannelStatus,
    ConnectionStatus,
    MetaConnection,
    Notification,
    Page,
    WhatsAppAccount,
)
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

# Reauthorize a week ahead: Meta cannot extend a long-lived user token, a person must.
EXPIRY_WARNING = timedelta(days=7)
NOTIFY_ACTOR = "deliver_notification"


@dataclass(frozen=True)
class CheckResult:
    connection_id: uuid.UUID
    status: str
    reason: str | None
    changed: bool


def assess(
    conn: MetaConnection,
    scopes: list[str],
    expires_at: datetime | None,
    data_access_expires_at: datetime | None,
    now: datetime,
) -> tuple[str, str | None]:
    """The status a valid token deserves, and why."""
    lost = sorted(set(conn.scopes or []) - set(scopes))
    if lost:
        return (
            ConnectionStatus.REAUTHORIZATION_REQUIRED.value,
            f"permissions removed: {', '.join(lost)}",
        )
    if expires_at is not None and expires_at - now < EXPIRY_WARNING:
        return (
            ConnectionStatus.REAUTHORIZATION_REQUIRED.value,
            f"token expires {expires_at.isoformat()}",
        )
    if data_access_expires_at is not None and data_access_expires_at - now < EXPIRY_WARNING:
        return (
            ConnectionStatus.REAUTHORIZATION_REQUIRED.value,
            f"data access expires {data_access_expires_at.isoformat()}",
        )
    return ConnectionStatus.ACTIVE.value, None


async def check_connection(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    conn: MetaConnection,
    now: datetime,
    *,
    notify: bool,
) -> CheckResult:
    """Ask Meta about the token (debug_token) and set the connection's status. Does not
    commit; a status change creates a notification (and its delivery job when ``notify``)."""
    token = unseal(vault, conn)
    if token is None:
        return CheckResult(conn.id, conn.status, conn.status_reason, False)
    info = await gateway.inspect(token)
    if not info.is_valid:
        expired = info.expires_at is not None and info.expires_at <= now
        status = ConnectionStatus.EXPIRED.value if expired else ConnectionStatus.INVALID.value
        reason: str | None = info.error or ("token expired" if expired else "token invalid")
    else:
        status, reason = assess(
            conn, info.scopes, info.expires_at, info.data_access_expires_at, now
        )
        conn.expires_at = info.expires_at
        conn.data_access_expires_at = info.data_access_expires_at
    changed = status != conn.status
    conn.status, conn.status_reason, conn.last_checked_at = status, reason, now
    if changed and status != ConnectionStatus.ACTIVE.value:
        record_notification(
            uow, conn, f"Meta connection '{conn.label}' needs attention: {reason}", notify=notify
        )
    await _cascade_to_channels(uow.session, conn.id, status)
    return CheckResult(conn.id, status, reason, changed)


def record_notification(
    uow: UnitOfWork, conn: MetaConnection, message: str, *, notify: bool
) -> None:
    note = Notification(
        id=uuid.uuid4(),
        organization_id=conn.organization_id,
        kind="meta_connection_status",
        subject_type="meta_connection",
        subject_id=conn.id,
        message=message,
        payload={"connection_id": str(conn.id), "status": conn.status, "label": conn.label},
    )
    uow.session.add(note)
    if notify:
        uow.enqueue(NOTIFY_ACTOR, notification_id=str(note.id))


async def _cascade_to_channels(
    session: AsyncSession, connection_id: uuid.UUID, status: str
) -> None:
    """Pages and WhatsApp accounts reached through a dead connection need it reauthorized
    too; a healthy connection restores those it had marked."""
    channel_status = (
        ChannelStatus.ACTIVE.value
        if status == ConnectionStatus.ACTIVE.value
        else ChannelStatus.REAUTHORIZATION_REQUIRED.value
    )
    for model in (Page, WhatsAppAccount):
        await session.execute(
            update(model)
            .where(
                model.connection_id == connection_id,
                model.status != ChannelStatus.DISCONNECTED.value,
            )
            .values(status=channel_status)
        )


async def mark_token_invalid(
    uow: UnitOfWork, fingerprint: str, reason: str, *, notify: bool
) -> int:
    """Meta answered 190 to a call made with the token of this fingerprint: whatever holds
    that token needs reauthorizing, now. Returns the rows flipped. Commits."""
    flipped = 0
    session = uow.session
    connections = (
        (
            await session.execute(
                select(MetaConnection).where(
                    MetaConnection.token_fingerprint == fingerprint,
                    MetaConnection.status == ConnectionStatus.ACTIVE.value,
                )
            )
        )
        .scalars()
        .all()
    )
    for conn in connections:
        conn.status = ConnectionStatus.REAUTHORIZATION_REQUIRED.value
        conn.status_reason = reason
        record_notification(
            uow, conn, f"Meta rejected the token of '{conn.label}': {reason}", notify=notify
        )
        await _cascade_to_channels(session, conn.id, conn.status)
        flipped += 1
    for model in (Page, WhatsAppAccount):
        result = await session.execute(
            update(model)
            .where(
                model.token_fingerprint == fingerprint, model.status == ChannelStatus.ACTIVE.value
            )
            .values(status=ChannelStatus.REAUTHORIZATION_REQUIRED.value)
        )
        flipped += int(getattr(result, "rowcount", 0) or 0)
    await uow.commit()
    return flipped


async def active_connection_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every stored connection with a token, across organizations (the daily job)."""
    stmt = select(MetaConnection.id).where(
        MetaConnection.deleted_at.is_(None),
        MetaConnection.token_encrypted.is_not(None),
        MetaConnection.status != ConnectionStatus.DISCONNECTED.value,
    )
    return list((await session.execute(stmt)).scalars())


async def refresh_connection(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    connection_id: uuid.UUID,
    now: datetime,
    notify: bool,
) -> tuple[MetaConnection, CheckResult]:
    """On demand: re-check one connection of the organization with Meta and record what it
    says. Meta cannot extend a long-lived user token, so a token near expiry comes back
    ``reauthorization_required`` (the person must log in again), never silently extended."""
    async with uow:
        conn = await uow.session.get(MetaConnection, connection_id)
        if conn is None or conn.organization_id != organization_id or conn.deleted_at:
            raise NotFoundError("Meta connection")
        result = await check_connection(uow, gateway, vault, conn, now, notify=notify)
        conn.last_refreshed_at = now
        await uow.commit()
    return conn, result
