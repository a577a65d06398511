"""Connecting Meta accounts: discover what a user token can reach, store it, disconnect.

Meta is read first (``discover``) and the database written after (``apply_discovery``), so no
transaction is held open across network calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy import select

from domain.errors import InvalidInputError, NotFoundError
from domain.meta import (
    InstagramInfo,
    MetaError,
    MetaGateway,
    MetaPageInfo,
    TokenInfo,
    WhatsAppInfo,
)
from domain.models import (
    ChannelStatus,
    ConnectionStatus,
    InstagramAccount,
    MetaConnection,
    Page,
    WhatsAppAccount,
)
from domain.repositories.accounts import AccountRow
from domain.tokens import seal, unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)

PAGE_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
    "pages_messaging",
)
WHATSAPP_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging")


@dataclass
class DiscoveredPage:
    info: MetaPageInfo
    subscribed: bool
    instagram: InstagramInfo | None


@dataclass
class Discovery:
    """What one user token reaches on Meta, read before anything is written."""

    meta_user_id: str
    meta_user_name: str | None
    token: str = field(repr=False)
    token_info: TokenInfo
    pages: list[DiscoveredPage] = field(default_factory=list)
    whatsapp: list[WhatsAppInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ConnectReport:
    connection: MetaConnection
    created: bool
    pages: list[Page]
    instagram_accounts: list[InstagramAccount]
    whatsapp_accounts: list[WhatsAppAccount]
    warnings: list[str]


async def discover(
    gateway: MetaGateway,
    token: str,
    *,
    subscribe: bool = True,
    expires_at: datetime | None = None,
) -> Discovery:
    info = await gateway.inspect(token)
    if not info.is_valid:
        raise InvalidInputError(
            "token", f"Meta does not accept this token: {info.error or 'invalid'}"
        )
    if expires_at is not None and info.expires_at is None:
        info = _with_expiry(info, expires_at)
    meta_user_id, name = await gateway.me(token)
    found = Discovery(meta_user_id=meta_user_id, meta_user_name=name, token=token, token_info=info)
    for page in await gateway.pages(token, info.targets(*PAGE_SCOPES)):
        subscribed = False
        instagram = None
        if page.access_token:
            if subscribe:
                try:
                    await gateway.subscribe_page(page.meta_page_id, page.access_token)
                    subscribed = True
                except MetaError as exc:
                    found.warnings.append(
                        f"page {page.meta_page_id}: webhooks not subscribed: {exc}"
                    )
            if page.instagram_id:
                try:
                    instagram = await gateway.instagram_account(
                        page.instagram_id, page.access_token
                    )
                except MetaError as exc:
                    found.warnings.append(f"instagram {page.instagram_id}: {exc}")
        found.pages.append(DiscoveredPage(page, subscribed, instagram))
    for waba_id in sorted(info.targets(*WHATSAPP_SCOPES)):
        try:
            found.whatsapp.append(await gateway.whatsapp_account(waba_id, token))
            if subscribe:
                await gateway.subscribe_whatsapp(waba_id, token)
        except MetaError as exc:
            found.warnings.append(f"whatsapp {waba_id}: {exc}")
    return found


def _with_expiry(info: TokenInfo, expires_at: datetime) -> TokenInfo:
    return TokenInfo(
        is_valid=info.is_valid,
        meta_user_id=info.meta_user_id,
        token_type=info.token_type,
        scopes=info.scopes,
        granular_scopes=info.granular_scopes,
        expires_at=expires_at,
        data_access_expires_at=info.data_access_expires_at,
        error=info.error,
    )


async def apply_discovery(
    uow: UnitOfWork,
    vault: TokenVault,
    discovery: Discovery,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID | None,
    label: str,
    now: datetime,
    token_kind: str = "user",  # noqa: S107 - a kind of token, not a secret
) -> ConnectReport:
    """Upsert the connection and every asset it reaches. Does not commit."""
    session = uow.session
    conn = (
        await session.execute(
            select(MetaConnection).where(
                MetaConnection.organization_id == organization_id,
                MetaConnection.meta_user_id == discovery.meta_user_id,
                MetaConnection.label == label,
            )
        )
    ).scalar_one_or_none()
    created = conn is None
    if conn is None:
        conn = MetaConnection(
            id=uuid.uuid4(),
            organization_id=organization_id,
            meta_user_id=discovery.meta_user_id,
            label=label,
        )
        session.add(conn)
    info = discovery.token_info
    conn.user_id = conn.user_id or user_id
    conn.meta_user_name = discovery.meta_user_name
    conn.token_kind = token_kind
    conn.scopes = list(info.scopes)
    conn.granular_scopes = [
        {"scope": scope, "target_ids": targets} for scope, targets in info.granular_scopes.items()
    ]
    conn.expires_at = info.expires_at
    conn.data_access_expires_at = info.data_access_expires_at
    conn.status = ConnectionStatus.ACTIVE.value
    conn.status_reason = None
    conn.last_checked_at = now
    conn.last_refreshed_at = now
    conn.deleted_at = None
    seal(vault, conn, discovery.token)
    await session.flush()

    pages: list[Page] = []
    instagram: list[InstagramAccount] = []
    for found in discovery.pages:
        page = await upsert_page(uow, vault, organization_id, conn.id, found.info)
        page.webhook_subscribed = found.subscribed or page.webhook_subscribed
        pages.append(page)
        if found.instagram is not None:
            instagram.append(
                await upsert_instagram(uow, organization_id, conn.id, page.id, found.instagram)
            )
    whatsapp = [
        await upsert_whatsapp(uow, organization_id, conn.id, wa) for wa in discovery.whatsapp
    ]
    await session.flush()
    return ConnectReport(conn, created, pages, instagram, whatsapp, discovery.warnings)


Asset = TypeVar("Asset", Page, InstagramAccount, WhatsAppAccount)


async def _find_or_add(
    uow: UnitOfWork, model: type[Asset], organization_id: uuid.UUID, **meta_key: str
) -> Asset:
    """The organization's row for a Meta asset (by its Meta id), or a new one added."""
    ((column, value),) = meta_key.items()
    row = (
        await uow.session.execute(
            select(model).where(
                model.organization_id == organization_id, getattr(model, column) == value
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = model(id=uuid.uuid4(), organization_id=organization_id, **meta_key)
        uow.session.add(row)
    return row


async def upsert_page(
    uow: UnitOfWork,
    vault: TokenVault,
    organization_id: uuid.UUID,
    connection_id: uuid.UUID,
    info: MetaPageInfo,
) -> Page:
    page = await _find_or_add(uow, Page, organization_id, meta_page_id=info.meta_page_id)
    page.connection_id = connection_id
    page.name = info.name or page.name
    page.category = info.category
    page.picture_url = info.picture_url
    page.fan_count = info.fan_count
    page.followers_count = info.followers_count
    for attr in ("about", "phone", "website"):
        value = getattr(info, attr)
        if value is not None:
            setattr(page, attr, value)
    page.status = ChannelStatus.ACTIVE.value
    page.deleted_at = None
    if info.access_token:
        seal(vault, page, info.access_token)
    # No ORM relationships: flush so rows that point at this page insert after it.
    await uow.session.flush()
    return page


async def upsert_instagram(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    connection_id: uuid.UUID,
    page_id: uuid.UUID,
    info: InstagramInfo,
) -> InstagramAccount:
    account = await _find_or_add(uow, InstagramAccount, organization_id, meta_ig_id=info.meta_ig_id)
    account.page_id = page_id
    account.connection_id = connection_id
    for attr in (
        "username",
        "name",
        "profile_picture_url",
        "biography",
        "website",
        "followers_count",
        "follows_count",
        "media_count",
    ):
        setattr(account, attr, getattr(info, attr))
    account.status = ChannelStatus.ACTIVE.value
    account.deleted_at = None
    return account


async def upsert_whatsapp(
    uow: UnitOfWork, organization_id: uuid.UUID, connection_id: uuid.UUID, info: WhatsAppInfo
) -> WhatsAppAccount:
    account = await _find_or_add(uow, WhatsAppAccount, organization_id, waba_id=info.waba_id)
    account.connection_id = connection_id
    account.name = info.name or account.name
    account.phone_numbers = list(info.phone_numbers)
    account.business_profile = dict(info.business_profile)
    account.quality_rating = info.quality_rating
    tiers = [
        p.get("messaging_limit_tier") for p in info.phone_numbers if p.get("messaging_limit_tier")
    ]
    account.messaging_limit_tier = tiers[0] if tiers else account.messaging_limit_tier
    account.status = ChannelStatus.ACTIVE.value
    account.deleted_at = None
    return account


async def find_account(
    uow: UnitOfWork, organization_id: uuid.UUID, account_id: uuid.UUID
) -> AccountRow:
    """A connected account of any platform by its id (404 for another organization's)."""
    session = uow.session
    candidates: list[AccountRow | None] = [
        await session.get(Page, account_id),
        await session.get(InstagramAccount, account_id),
        await session.get(WhatsAppAccount, account_id),
    ]
    for row in candidates:
        if row is not None and row.organization_id == organization_id and row.deleted_at is None:
            return row
    raise NotFoundError("Account")


async def disconnect_account(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    organization_id: uuid.UUID,
    account_id: uuid.UUID,
) -> tuple[AccountRow, bool]:
    """Unsubscribe webhooks, drop tokens, keep the history. Returns the account and whether
    Meta confirmed the webhook unsubscription (False when there was nothing to unsubscribe
    or Meta refused: the tokens are dropped either way). Does not commit."""
    account = await find_account(uow, organization_id, account_id)
    applied_on_meta = False
    if isinstance(account, Page):
        token = unseal(vault, account)
        if token and account.webhook_subscribed:
            try:
                await gateway.unsubscribe_page(account.meta_page_id, token)
                applied_on_meta = True
            except MetaError as exc:
                log.warning("unsubscribe_failed", page=account.meta_page_id, error=str(exc))
        account.webhook_subscribed = False
        seal(vault, account, None)
        linked = (
            await uow.session.execute(
                select(InstagramAccount).where(InstagramAccount.page_id == account.id)
            )
        ).scalars()
        for ig in linked:
            ig.status = ChannelStatus.DISCONNECTED.value
    elif isinstance(account, WhatsAppAccount):
        seal(vault, account, None)
    account.status = ChannelStatus.DISCONNECTED.value
    return account, applied_on_meta


async def connection_tokens(
    uow: UnitOfWork, vault: TokenVault, organization_id: uuid.UUID
) -> list[tuple[MetaConnection, str]]:
    """The organization's active connections with their tokens, newest first."""
    rows = (
        await uow.session.execute(
            select(MetaConnection)
            .where(
                MetaConnection.organization_id == organization_id,
                MetaConnection.deleted_at.is_(None),
                MetaConnection.status == ConnectionStatus.ACTIVE.value,
                MetaConnection.token_encrypted.is_not(None),
            )
            .order_by(MetaConnection.updated_at.desc())
        )
    ).scalars()
    out = []
    for conn in rows:
        token = unseal(vault, conn)
        if token:
            out.append((conn, token))
    return out


async def add_meta_token(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID | None,
    label: str,
    token: str,
    now: datetime,
) -> ConnectReport:
    """Store a labelled Meta token someone pasted (a system-user token, say) and connect
    what it reaches. Meta is asked first; a token it rejects is a 400 naming ``token``."""
    label = label.strip()
    if not label or len(label) > 200:
        raise InvalidInputError("label", "must be 1 to 200 characters")
    token = token.strip()
    if not token:
        raise InvalidInputError("token", "is required")
    found = await discover(gateway, token)
    system_user = found.token_info.token_type == "SYSTEM_USER"  # noqa: S105 - a token type
    async with uow:
        report = await apply_discovery(
            uow,
            vault,
            found,
            organization_id=organization_id,
            user_id=user_id,
            label=label,
            now=now,
            token_kind="system_user" if system_user else "user",
        )
        await uow.commit()
    return report


async def connect_with_code(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    code: str,
    redirect_uri: str,
    now: datetime,
) -> ConnectReport:
    """spec/meta-business-api.md ``POST /api/meta/auth/connect``: a code the frontend got
    from Meta's dialog itself. Meta errors come back as MetaError (nothing stored)."""
    if not code.strip():
        raise InvalidInputError("code", "is required")
    if not redirect_uri.strip():
        raise InvalidInputError("redirectUri", "is required")
    short = await gateway.exchange_code(code.strip(), redirect_uri.strip())
    token, expires_at = await gateway.long_lived(short)
    found = await discover(gateway, token, expires_at=expires_at)
    async with uow:
        report = await apply_discovery(
            uow,
            vault,
            found,
            organization_id=organization_id,
            user_id=user_id,
            label="oauth",
            now=now,
        )
        await uow.commit()
    return report


async def connect_page(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    meta_page_id: str,
) -> Page:
    """(Re)connect one Page the organization's stored Meta logins can reach: fresh Page
    token, webhooks subscribed. A Page none of them reaches is NotFound."""
    async with uow:
        # Ids only: leaving the read-only unit of work rolls back, expiring its rows.
        logins = [(c.id, t) for c, t in await connection_tokens(uow, vault, organization_id)]
    for connection_id, token in logins:
        info = await gateway.inspect(token)
        candidates = await gateway.pages(token, info.targets(*PAGE_SCOPES) & {meta_page_id})
        match = next((p for p in candidates if p.meta_page_id == meta_page_id), None)
        if match is None or not match.access_token:
            continue
        await gateway.subscribe_page(match.meta_page_id, match.access_token)
        instagram = (
            await gateway.instagram_account(match.instagram_id, match.access_token)
            if match.instagram_id
            else None
        )
        async with uow:
            page = await upsert_page(uow, vault, organization_id, connection_id, match)
            page.webhook_subscribed = True
            if instagram is not None:
                await upsert_instagram(uow, organization_id, connection_id, page.id, instagram)
            await uow.commit()
        return page
    raise NotFoundError("Page")
