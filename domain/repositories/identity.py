"""Organizations, users and memberships: the only queries not scoped by one organization,
because they are how a request finds its organization in the first place."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import Membership, Organization, User


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_by_email(self, email: str) -> User | None:
        stmt = select(User).where(User.email == email.strip().lower())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def user_by_meta_id(self, meta_user_id: str) -> User | None:
        stmt = select(User).where(User.meta_user_id == meta_user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def organization_by_name(self, name: str) -> Organization | None:
        stmt = select(Organization).where(Organization.name == name)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def single_organization(self, name: str | None) -> Organization | None:
        """The organization called ``name``, or, without a name, the only one there is."""
        if name is not None:
            return await self.organization_by_name(name)
        rows = (await self.session.execute(select(Organization).limit(2))).scalars().all()
        return rows[0] if len(rows) == 1 else None

    async def membership(
        self, user_id: uuid.UUID, organization_id: uuid.UUID
    ) -> tuple[User, Organization, Membership] | None:
        stmt = (
            select(User, Organization, Membership)
            .join(Membership, Membership.user_id == User.id)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(User.id == user_id, Organization.id == organization_id)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1], row[2]) if row else None

    async def memberships_of(self, user_id: uuid.UUID) -> list[Membership]:
        stmt = (
            select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    def add(self, row: User | Organization | Membership) -> None:
        self.session.add(row)
