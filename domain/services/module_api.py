"""Small use cases behind the meta-business and meta-module REST shims: what the stored Meta
logins reach, (re)connecting an Instagram account through its Page, mapping a client of the
business's own system to a Page, and read models of what is stored.

Meta is always read first and the database written after, so no transaction stays open across
network calls; a login is copied out of its session (``Login``) before the session closes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from domain.errors import DomainError, InvalidInputError, NotFoundError
from domain.meta import (
    MetaError,
    MetaGateway,
    MetaPageInfo,
    MetaTokenInvalid,
    token_fingerprint,
)
from domain.models import (
    ChannelStatus,
    ClientPageMapping,
    ConnectionStatus,
    InstagramAccount,
    MetaConnection,
    Page,
    WhatsAppAccount,
)
from domain.repositories.channels import InstagramAccountRepository, PageRepository
from domain.services.connections import (
    PAGE_SCOPES,
    connect_page,
    connection_tokens,
    upsert_page,
)
from domain.services.token_health import mark_token_invalid
from domain.uow import UnitOfWork
from domain.vault import TokenVault

# Meta calls these "user" tokens; Page and app tokens cannot list or grant Pages.
USER_TOKEN_TYPES = ("USER", "SYSTEM_USER")


class LoginUnavailable(DomainError):
    """The stored login is missing, another organization's, or no longer active."""

    def __init__(self) -> None:
        super().__init__("Token not found or inactive")


@dataclass(frozen=True)
class Login:
    """A stored Meta login (a MetaConnection and its token), usable after its session closed."""

    connection_id: uuid.UUID
    label: str
    token: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return token_fingerprint(self.token)


@dataclass(frozen=True)
class VerifiedUser:
    meta_user_id: str
    name: str | None
    token_type: str | None
    scopes: list[str]
    expires_at: datetime | None


@dataclass(frozen=True)
class ReachablePage:
    login: Login
    page: MetaPageInfo


@dataclass(frozen=True)
class SkippedLogin:
    """A login whose Pages could not be listed; ``error`` says why (a rejected token is a
    MetaTokenInvalid, and its rows are already marked)."""

    login: Login
    error: MetaError


@dataclass(frozen=True)
class ClientMapping:
    mapping: ClientPageMapping
    created: bool


@dataclass(frozen=True)
class ConnectionOverview:
    """The organization's main Meta login and which platforms have an active account."""

    primary: MetaConnection | None
    facebook: bool
    instagram: bool
    whatsapp: bool


def _detach(uow: UnitOfWork) -> None:
    """Rows read to answer with outlive the unit of work: closing it rolls back, which
    expires whatever the session still holds, so they leave the session first."""
    uow.session.expunge_all()


async def verify_user_token(gateway: MetaGateway, token: str) -> VerifiedUser:
    """Who a user token belongs to, asked of Meta; nothing is stored."""
    info = await gateway.inspect(token)
    if not info.is_valid:
        raise MetaTokenInvalid(info.error or "token invalid")
    if info.token_type not in USER_TOKEN_TYPES:
        raise InvalidInputError(
            "access_token", f"is a {info.token_type or 'non-user'} token; a user token is needed"
        )
    meta_user_id, name = await gateway.me(token)
    return VerifiedUser(meta_user_id, name, info.token_type, list(info.scopes), info.expires_at)


async def active_logins(
    uow: UnitOfWork, vault: TokenVault, organization_id: uuid.UUID
) -> list[Login]:
    async with uow:
        return [
            Login(conn.id, conn.label, token)
            for conn, token in await connection_tokens(uow, vault, organization_id)
        ]


async def login_pages(
    uow: UnitOfWork,
    gateway: MetaGateway,
    login: Login,
    *,
    notify: bool,
    only: set[str] | None = None,
) -> list[MetaPageInfo]:
    """The Pages a login reaches, business-owned ones included (facts §0.3), optionally only
    those named. A token Meta no longer accepts is marked reauthorization_required and raises
    MetaTokenInvalid (a 190 on the Graph call itself is marked by the Graph client's hook)."""
    info = await gateway.inspect(login.token)
    if not info.is_valid:
        reason = info.error or "token invalid"
        async with uow:
            await mark_token_invalid(uow, login.fingerprint, reason, notify=notify)
        raise MetaTokenInvalid(reason)
    extra = info.targets(*PAGE_SCOPES)
    if only is not None:
        extra &= only
    return await gateway.pages(login.token, extra)


async def reachable_pages(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    notify: bool,
) -> tuple[list[ReachablePage], list[SkippedLogin]]:
    """Every Page each active login of the organization reaches; a login Meta fails for is
    skipped (and named) so the others still answer."""
    found: list[ReachablePage] = []
    skipped: list[SkippedLogin] = []
    for login in await active_logins(uow, vault, organization_id):
        try:
            pages = await login_pages(uow, gateway, login, notify=notify)
        except MetaError as exc:
            skipped.append(SkippedLogin(login, exc))
            continue
        found.extend(ReachablePage(login, page) for page in pages)
    return found, skipped


async def connect_instagram(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    meta_ig_id: str,
    notify: bool,
) -> tuple[InstagramAccount, Page]:
    """(Re)connect an Instagram account through the Page Meta says it is linked to (fresh
    Page token, webhooks subscribed, the account re-read). NotFound when no login reaches
    such a Page; when some login could not be asked (Meta failed or rejected its token),
    that failure is raised instead, since the account may be behind it."""
    found, skipped = await reachable_pages(
        uow, gateway, vault, organization_id=organization_id, notify=notify
    )
    meta_page_id = next(
        (r.page.meta_page_id for r in found if r.page.instagram_id == meta_ig_id), None
    )
    if meta_page_id is None:
        if skipped:
            raise skipped[0].error
        raise NotFoundError("Instagram account")
    page = await connect_page(
        uow, gateway, vault, organization_id=organization_id, meta_page_id=meta_page_id
    )
    async with uow:
        account = (
            await uow.session.execute(
                InstagramAccountRepository(uow.session, organization_id)
                .select()
                .where(InstagramAccount.meta_ig_id == meta_ig_id)
            )
        ).scalar_one_or_none()
        _detach(uow)
    if account is None:  # unlinked between the two reads
        raise NotFoundError("Instagram account")
    return account, page


async def map_client_page(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    connection_id: uuid.UUID,
    client_id: str,
    fb_page_id: str,
    ig_account_id: str | None,
    notify: bool,
) -> ClientMapping:
    """spec/meta-module-api.md ``POST /api/meta/sync/``: fetch the Page's token through the
    given login, store it encrypted on the Page, detect its Instagram account, and upsert the
    (client id, Page) mapping."""
    login = next(
        (
            login
            for login in await active_logins(uow, vault, organization_id)
            if login.connection_id == connection_id
        ),
        None,
    )
    if login is None:
        raise LoginUnavailable()
    pages = await login_pages(uow, gateway, login, notify=notify, only={fb_page_id})
    info = next((p for p in pages if p.meta_page_id == fb_page_id and p.access_token), None)
    if info is None:
        raise NotFoundError("Page")
    if ig_account_id is not None and ig_account_id != info.instagram_id:
        raise InvalidInputError("ig_account_id", "is not the Instagram account of this Page")
    async with uow:
        page = await upsert_page(uow, vault, organization_id, login.connection_id, info)
        mapping = (
            await uow.session.execute(
                select(ClientPageMapping).where(
                    ClientPageMapping.organization_id == organization_id,
                    ClientPageMapping.client_id == client_id,
                    ClientPageMapping.fb_page_id == fb_page_id,
                )
            )
        ).scalar_one_or_none()
        created = mapping is None
        if mapping is None:
            mapping = ClientPageMapping(
                id=uuid.uuid4(),
                organization_id=organization_id,
                client_id=client_id,
                fb_page_id=fb_page_id,
            )
            uow.session.add(mapping)
        mapping.page_id = page.id
        mapping.connection_id = login.connection_id
        mapping.ig_account_id = info.instagram_id
        await uow.commit()
    return ClientMapping(mapping, created)


async def find_instagram_account(
    uow: UnitOfWork, organization_id: uuid.UUID, account_id: uuid.UUID
) -> InstagramAccount:
    async with uow:
        account = await InstagramAccountRepository(uow.session, organization_id).get(account_id)
        _detach(uow)
    if account is None:
        raise NotFoundError("Instagram account")
    return account


async def stored_pages(uow: UnitOfWork, organization_id: uuid.UUID) -> list[Page]:
    async with uow:
        repo = PageRepository(uow.session, organization_id)
        stmt = repo.select().order_by(Page.name, Page.id)
        pages = list((await uow.session.execute(stmt)).scalars())
        _detach(uow)
    return pages


async def stored_instagram_accounts(
    uow: UnitOfWork, organization_id: uuid.UUID
) -> list[InstagramAccount]:
    async with uow:
        repo = InstagramAccountRepository(uow.session, organization_id)
        stmt = repo.select().order_by(InstagramAccount.username, InstagramAccount.id)
        accounts = list((await uow.session.execute(stmt)).scalars())
        _detach(uow)
    return accounts


async def connection_overview(uow: UnitOfWork, organization_id: uuid.UUID) -> ConnectionOverview:
    """The primary login is the most recently updated active one, else the most recently
    updated one not disconnected (so a login needing reauthorization is shown)."""
    async with uow:
        session = uow.session
        primary = (
            await session.execute(
                select(MetaConnection)
                .where(
                    MetaConnection.organization_id == organization_id,
                    MetaConnection.deleted_at.is_(None),
                    MetaConnection.status != ConnectionStatus.DISCONNECTED.value,
                )
                .order_by(
                    (MetaConnection.status == ConnectionStatus.ACTIVE.value).desc(),
                    MetaConnection.updated_at.desc(),
                )
                .limit(1)
            )
        ).scalar_one_or_none()
        platforms = []
        for model in (Page, InstagramAccount, WhatsAppAccount):
            stmt = (
                select(model.id)
                .where(
                    model.organization_id == organization_id,
                    model.deleted_at.is_(None),
                    model.status == ChannelStatus.ACTIVE.value,
                )
                .limit(1)
            )
            platforms.append((await session.execute(stmt)).first() is not None)
        _detach(uow)
    facebook, instagram, whatsapp = platforms
    return ConnectionOverview(primary, facebook, instagram, whatsapp)
