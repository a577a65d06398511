"""The OAuth flow with Meta's dialog: a single-use state bound to who started it, then the
code exchange and discovery of what the user granted."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from domain.errors import InvalidInputError
from domain.meta import MetaError, MetaGateway, StateStore
from domain.models import User
from domain.repositories.identity import IdentityRepository
from domain.services.connections import ConnectReport, apply_discovery, discover
from domain.services.identity import Principal, ensure_user
from domain.uow import UnitOfWork
from domain.vault import TokenVault

STATE_TTL_SECONDS = 600

BASE_SCOPES = ["public_profile", "business_management"]
PLATFORM_SCOPES: dict[str, list[str]] = {
    "facebook": [
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_metadata",
        "pages_manage_posts",
        "pages_messaging",
        "read_insights",
    ],
    "instagram": [
        "pages_show_list",
        "pages_read_engagement",
        "instagram_basic",
        "instagram_manage_messages",
        "instagram_content_publish",
        "instagram_manage_insights",
        "instagram_manage_comments",
    ],
    "whatsapp": ["whatsapp_business_management", "whatsapp_business_messaging"],
}
Intent = Literal["connect", "login"]


@dataclass(frozen=True)
class OAuthConfig:
    app_id: str
    dialog_url: str  # https://www.facebook.com, or the sandbox's root
    graph_version: str
    callback_url: str  # PUBLIC_URL + /auth/meta/callback


@dataclass(frozen=True)
class OAuthOutcome:
    """How a callback ended: ``error`` set (nothing stored), or the stored connection; a
    login also names the signed-in principal."""

    intent: Intent
    error: str | None = None
    principal: Principal | None = None
    report: ConnectReport | None = None


async def start_oauth(
    store: StateStore,
    config: OAuthConfig,
    *,
    platform: str,
    principal: Principal | None,
    intent: Intent = "connect",
) -> str:
    """The dialog URL to send the user to; its state is remembered for 10 minutes."""
    if platform not in PLATFORM_SCOPES:
        raise InvalidInputError("platform", f"must be one of {', '.join(PLATFORM_SCOPES)}")
    if intent == "connect" and principal is None:
        raise InvalidInputError("intent", "connecting accounts needs a signed-in user")
    state = secrets.token_urlsafe(32)
    await store.put(
        f"oauth:{state}",
        {
            "intent": intent,
            "platform": platform,
            "user_id": str(principal.user_id) if principal else None,
            "organization_id": str(principal.organization_id) if principal else None,
        },
        STATE_TTL_SECONDS,
    )
    scopes = sorted({*BASE_SCOPES, *PLATFORM_SCOPES[platform], *PLATFORM_SCOPES["facebook"]})
    query = urlencode(
        {
            "client_id": config.app_id,
            "redirect_uri": config.callback_url,
            "state": state,
            "scope": ",".join(scopes),
            "response_type": "code",
        }
    )
    return f"{config.dialog_url.rstrip('/')}/{config.graph_version}/dialog/oauth?{query}"


async def complete_oauth(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    store: StateStore,
    config: OAuthConfig,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    now: datetime,
) -> OAuthOutcome:
    """Handle Meta's redirect. The state is consumed first, so a replayed callback (or a
    second tab) finds nothing; on any failure nothing is stored."""
    payload = await store.take(f"oauth:{state}") if state else None
    if payload is None:
        return OAuthOutcome(intent="connect", error="invalid_state")
    intent: Intent = "login" if payload.get("intent") == "login" else "connect"
    if error:
        return OAuthOutcome(intent=intent, error="access_denied")
    if not code:
        return OAuthOutcome(intent=intent, error="missing_code")
    try:
        short = await gateway.exchange_code(code, config.callback_url)
        token, expires_at = await gateway.long_lived(short)
        found = await discover(gateway, token, expires_at=expires_at)
    except (MetaError, InvalidInputError):
        return OAuthOutcome(intent=intent, error="meta_error")

    async with uow:
        principal: Principal | None = None
        if intent == "login":
            principal = await _login_user(uow, found.meta_user_id, found.meta_user_name)
            organization_id, user_id = principal.organization_id, principal.user_id
        else:
            organization_id = uuid.UUID(payload["organization_id"])
            user_id = uuid.UUID(payload["user_id"])
        report = await apply_discovery(
            uow,
            vault,
            found,
            organization_id=organization_id,
            user_id=user_id,
            label="facebook-login" if intent == "login" else "oauth",
            now=now,
        )
        await uow.commit()
    return OAuthOutcome(intent=intent, principal=principal, report=report)


async def _login_user(uow: UnitOfWork, meta_user_id: str, name: str | None) -> Principal:
    """Find the metasync user of this Meta user, or create one with its own organization."""
    repo = IdentityRepository(uow.session)
    user = await repo.user_by_meta_id(meta_user_id)
    if user is None:
        # Meta does not share an email without the email permission; the placeholder is
        # unique and marks the account as Facebook-created.
        principal = await ensure_user(
            uow, f"fb-{meta_user_id}@users.metasync.invalid", name or f"Meta user {meta_user_id}"
        )
        created = await uow.session.get(User, principal.user_id)
        assert created is not None
        created.meta_user_id = meta_user_id
        created.name = name
        return principal
    return await ensure_user(uow, user.email)
