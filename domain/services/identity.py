"""Users and organizations: who a token speaks for."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from domain.errors import InvalidInputError
from domain.models import Membership, Organization, Role, User
from domain.repositories.identity import IdentityRepository
from domain.uow import UnitOfWork

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user acting within one organization."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    organization_name: str
    role: str


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInputError("email", "is not a valid email address")
    return email


async def ensure_user(uow: UnitOfWork, email: str, org_name: str | None = None) -> Principal:
    """Find or create the user and organization (and the membership between them).

    Without ``org_name`` the user's first organization is used, or one named after the email.
    Does not commit.
    """
    email = normalize_email(email)
    repo = IdentityRepository(uow.session)
    user = await repo.user_by_email(email)
    if user is None:
        user = User(id=uuid.uuid4(), email=email)
        repo.add(user)
        await uow.session.flush()
    if org_name is None:
        existing = await repo.memberships_of(user.id)
        if existing:
            found = await repo.membership(user.id, existing[0].organization_id)
            assert found is not None
            return _principal(*found)
        org_name = email
    org_name = org_name.strip()
    if not org_name or len(org_name) > 200:
        raise InvalidInputError("org", "must be 1 to 200 characters")
    org = await repo.organization_by_name(org_name)
    if org is None:
        org = Organization(id=uuid.uuid4(), name=org_name)
        repo.add(org)
        await uow.session.flush()
    found = await repo.membership(user.id, org.id)
    if found is None:
        repo.add(
            Membership(
                id=uuid.uuid4(), user_id=user.id, organization_id=org.id, role=Role.OWNER.value
            )
        )
        await uow.session.flush()
        found = await repo.membership(user.id, org.id)
        assert found is not None
    return _principal(*found)


async def load_principal(
    uow: UnitOfWork, user_id: uuid.UUID, organization_id: uuid.UUID
) -> Principal | None:
    """The principal for a token's claims, or None when the user left the organization."""
    found = await IdentityRepository(uow.session).membership(user_id, organization_id)
    return _principal(*found) if found else None


def _principal(user: User, org: Organization, membership: Membership) -> Principal:
    return Principal(
        user_id=user.id,
        organization_id=org.id,
        email=user.email,
        organization_name=org.name,
        role=membership.role,
    )
