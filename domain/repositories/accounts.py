"""Meta logins and the social accounts reached through them (spec/social-service-architecture.md
"Social Accounts"): an organization's Pages (platform ``facebook``), Instagram accounts and
WhatsApp Business accounts, each read with the login it was connected through."""

from __future__ import annotations

import builtins
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import (
    ChannelStatus,
    ConnectionStatus,
    InstagramAccount,
    MetaConnection,
    Page,
    WhatsAppAccount,
)
from domain.pagination import Slice, SortKey
from domain.repositories.base import OrgScoped
from domain.repositories.channels import (
    InstagramAccountRepository,
    PageRepository,
    WhatsAppAccountRepository,
)

CONNECTION_ORDER = (
    SortKey(MetaConnection.created_at, False, datetime),
    SortKey(MetaConnection.id, False, uuid.UUID),
)


class MetaConnectionRepository(OrgScoped[MetaConnection]):
    model = MetaConnection

    async def list(self, *, first: int, after: str | None) -> Slice[MetaConnection]:
        return await self.list_slice(CONNECTION_ORDER, first=first, after=after)

    async def live(self) -> builtins.list[MetaConnection]:
        """Every connection not deliberately disconnected, oldest first."""
        stmt = (
            self.select()
            .where(MetaConnection.status != ConnectionStatus.DISCONNECTED.value)
            .order_by(MetaConnection.created_at, MetaConnection.id)
        )
        return list((await self.session.execute(stmt)).scalars())


class SocialPlatform(enum.StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"


AccountRow = Page | InstagramAccount | WhatsAppAccount


@dataclass(frozen=True)
class SocialAccount:
    """One account with the login (None once that is gone) and its status as the spec
    means it: what the account can do now, not just what its own row says."""

    platform: SocialPlatform
    row: AccountRow
    connection: MetaConnection | None
    status: AccountStatus

    @property
    def meta_id(self) -> str:
        row = self.row
        if isinstance(row, Page):
            return row.meta_page_id
        if isinstance(row, InstagramAccount):
            return row.meta_ig_id
        return row.waba_id

    @property
    def handle(self) -> str | None:
        """What people know the account by: Pages and WhatsApp accounts have no handle."""
        row = self.row
        return row.username if isinstance(row, InstagramAccount) else row.name

    @property
    def picture_url(self) -> str | None:
        row = self.row
        if isinstance(row, Page):
            return row.picture_url
        if isinstance(row, InstagramAccount):
            return row.profile_picture_url
        url = (row.business_profile or {}).get("profile_picture_url")
        return str(url) if url else None


def account_status(model: Any, now: datetime) -> ColumnElement[str]:
    """The account's status in SQL, so the ``status`` filter and the answer agree.

    Token health marks Pages and WhatsApp accounts when their login breaks but not Instagram
    accounts, and an expired token is only marked at the next check: the login's own state
    and expiry are read here too."""
    login_broken = MetaConnection.status.in_(
        [
            ConnectionStatus.REAUTHORIZATION_REQUIRED.value,
            ConnectionStatus.INVALID.value,
            ConnectionStatus.DISCONNECTED.value,
        ]
    )
    return case(
        (model.status == ChannelStatus.DISCONNECTED.value, AccountStatus.DISCONNECTED.value),
        (
            or_(
                MetaConnection.status == ConnectionStatus.EXPIRED.value,
                MetaConnection.expires_at <= now,
            ),
            AccountStatus.EXPIRED.value,
        ),
        (
            or_(model.status == ChannelStatus.REAUTHORIZATION_REQUIRED.value, login_broken),
            AccountStatus.REAUTHORIZATION_REQUIRED.value,
        ),
        else_=AccountStatus.ACTIVE.value,
    )


class SocialAccountRepository:
    """The organization's accounts of every platform; scoped through each platform's
    repository, so another organization's account is the same as a missing one."""

    def __init__(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        self.organization_id = organization_id
        self._repos: dict[SocialPlatform, OrgScoped[Any]] = {
            SocialPlatform.FACEBOOK: PageRepository(session, organization_id),
            SocialPlatform.INSTAGRAM: InstagramAccountRepository(session, organization_id),
            SocialPlatform.WHATSAPP: WhatsAppAccountRepository(session, organization_id),
        }

    async def list(
        self,
        *,
        now: datetime,
        platform: SocialPlatform | None = None,
        status: AccountStatus | None = None,
    ) -> list[SocialAccount]:
        """Oldest connection first; one statement per platform asked for."""
        found: list[SocialAccount] = []
        for name, repo in self._repos.items():
            if platform is None or platform == name:
                found.extend(await self._query(name, repo, now, status=status))
        return sorted(found, key=lambda a: (a.row.created_at, a.row.id))

    async def get(self, account_id: uuid.UUID, *, now: datetime) -> SocialAccount | None:
        for name, repo in self._repos.items():
            rows = await self._query(name, repo, now, where=[repo.model.id == account_id])
            if rows:
                return rows[0]
        return None

    async def _query(
        self,
        platform: SocialPlatform,
        repo: OrgScoped[Any],
        now: datetime,
        *,
        status: AccountStatus | None = None,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> builtins.list[SocialAccount]:
        model = repo.model
        status_expr = account_status(model, now)
        stmt = (
            repo.select()
            .add_columns(MetaConnection, status_expr.label("account_status"))
            .outerjoin(
                MetaConnection,
                and_(
                    MetaConnection.id == model.connection_id,
                    MetaConnection.organization_id == self.organization_id,
                    MetaConnection.deleted_at.is_(None),
                ),
            )
            .where(*where)
        )
        if status is not None:
            stmt = stmt.where(status_expr == status.value)
        result = await repo.session.execute(stmt)
        return [
            SocialAccount(platform, row, conn, AccountStatus(value))
            for row, conn, value in result.all()
        ]
