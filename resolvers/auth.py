"""Bearer JWT authentication for /graphql and /api.

HS256 with JWT_SECRET by default; the accepted algorithms are an allow-list (so ``alg: none``
and algorithm confusion fail), expiry is required, and ``aud``/``iss`` are checked when
configured. A valid token still needs a live membership: a user removed from the
organization is refused even with an unexpired token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from domain.services.identity import Principal, load_principal
from domain.uow import UnitOfWork


class AuthenticationError(Exception):
    """No token, a bad token, or a token for a user who is no longer a member."""


@dataclass(frozen=True)
class JwtCodec:
    secret: str
    algorithms: tuple[str, ...] = ("HS256",)
    issuer: str | None = None
    audience: str | None = None
    ttl: timedelta = timedelta(days=7)

    def issue(self, principal: Principal, *, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {
            "sub": str(principal.user_id),
            "org": str(principal.organization_id),
            "email": principal.email,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
        }
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self.secret, algorithm=self.algorithms[0])

    def decode(self, token: str) -> tuple[uuid.UUID, uuid.UUID]:
        """``(user id, organization id)`` from a valid token; AuthenticationError otherwise."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=list(self.algorithms),
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub", "org"]},
            )
            return uuid.UUID(str(claims["sub"])), uuid.UUID(str(claims["org"]))
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthenticationError("invalid or expired token") from exc


def bearer_token(header_value: str | None) -> str:
    if not header_value:
        raise AuthenticationError("missing Authorization header")
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization must be 'Bearer <token>'")
    return token.strip()


async def authenticate(codec: JwtCodec, uow: UnitOfWork, header_value: str | None) -> Principal:
    user_id, org_id = codec.decode(bearer_token(header_value))
    async with uow:
        principal = await load_principal(uow, user_id, org_id)
    if principal is None:
        raise AuthenticationError("user is not a member of the token's organization")
    return principal
