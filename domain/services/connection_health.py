"""How one organization's Meta connections are doing: the viewer-scoped counterpart of the
system-wide ``/api/health`` (domain/services/health.py), with the same three levels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import ConnectionStatus, MetaConnection
from domain.repositories.accounts import (
    AccountStatus,
    MetaConnectionRepository,
    SocialAccountRepository,
)
from domain.services.token_health import EXPIRY_WARNING

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class ConnectionCheck:
    connection: MetaConnection
    level: str  # ok | warning | error
    expiring_soon: bool


@dataclass(frozen=True)
class OrganizationHealth:
    status: str  # healthy | degraded | unhealthy
    connections: list[ConnectionCheck]
    accounts_needing_attention: int


def check(conn: MetaConnection, now: datetime) -> ConnectionCheck:
    """A working login is ``ok``, or a ``warning`` within a week of its token or data access
    expiring (Meta cannot extend it: a person must log in again); any other is an ``error``."""
    deadlines = [d for d in (conn.expires_at, conn.data_access_expires_at) if d is not None]
    expiring = any(d - now < EXPIRY_WARNING for d in deadlines)
    if conn.status != ConnectionStatus.ACTIVE.value:
        return ConnectionCheck(conn, ERROR, expiring)
    return ConnectionCheck(conn, WARNING if expiring else OK, expiring)


async def organization_health(
    session: AsyncSession, organization_id: uuid.UUID, now: datetime
) -> OrganizationHealth:
    """``unhealthy`` when no login works (none connected counts: nothing can sync),
    ``degraded`` when something needs a person, ``healthy`` otherwise. Logins disconnected
    on purpose are left out."""
    logins = await MetaConnectionRepository(session, organization_id).live()
    checks = [check(c, now) for c in logins]
    accounts = await SocialAccountRepository(session, organization_id).list(now=now)
    troubled = sum(
        a.status in (AccountStatus.EXPIRED, AccountStatus.REAUTHORIZATION_REQUIRED)
        for a in accounts
    )
    if not any(c.level != ERROR for c in checks):
        status = "unhealthy"
    elif troubled or any(c.level != OK for c in checks):
        status = "degraded"
    else:
        status = "healthy"
    return OrganizationHealth(status, checks, troubled)
