"""Mutation resolvers for connecting Meta accounts; each returns its success type, and
``errors_as_data`` turns domain errors into the result union's error types."""

from __future__ import annotations

from domain.errors import InvalidInputError
from domain.models import InstagramAccount as InstagramRow
from domain.models import Page as PageRow
from domain.services import connections, oauth, token_health
from resolvers.graphql.errors import errors_as_data
from resolvers.graphql.ids import id_of
from schema.accounts import MetaConnection, WhatsAppAccount
from schema.enums import MetaEffect, OAuthPlatform
from schema.payloads import (
    ConnectPageSuccess,
    DisconnectAccountSuccess,
    MetaConnectSuccess,
    RefreshMetaConnectionSuccess,
    StartMetaOAuthSuccess,
)
from schema.types import GraphInfo, InstagramAccount, Node, Page

ACCOUNT_TYPES = ("Page", "InstagramAccount", "WhatsAppAccount")


@errors_as_data
async def start_meta_oauth(info: GraphInfo, platform: OAuthPlatform) -> StartMetaOAuthSuccess:
    services = info.context.services
    url = await oauth.start_oauth(
        services.state_store, services.oauth, platform=platform.value, principal=info.context.viewer
    )
    return StartMetaOAuthSuccess(auth_url=url)


@errors_as_data
async def connect_meta_with_code(
    info: GraphInfo, code: str, redirect_uri: str
) -> MetaConnectSuccess:
    services, viewer = info.context.services, info.context.viewer
    report = await connections.connect_with_code(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=viewer.organization_id,
        user_id=viewer.user_id,
        code=code,
        redirect_uri=redirect_uri,
        now=services.clock.now(),
    )
    return MetaConnectSuccess.from_report(report)


@errors_as_data
async def add_meta_token(info: GraphInfo, label: str, token: str) -> MetaConnectSuccess:
    services, viewer = info.context.services, info.context.viewer
    report = await connections.add_meta_token(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=viewer.organization_id,
        user_id=viewer.user_id,
        label=label,
        token=token,
        now=services.clock.now(),
    )
    return MetaConnectSuccess.from_report(report)


@errors_as_data
async def connect_page(info: GraphInfo, meta_page_id: str) -> ConnectPageSuccess:
    if not meta_page_id.strip():
        raise InvalidInputError("metaPageId", "is required")
    services = info.context.services
    page = await connections.connect_page(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=info.context.viewer.organization_id,
        meta_page_id=meta_page_id.strip(),
    )
    return ConnectPageSuccess(page=Page.from_domain(page))


@errors_as_data
async def refresh_meta_connection(info: GraphInfo, id: str) -> RefreshMetaConnectionSuccess:
    services = info.context.services
    conn, result = await token_health.refresh_connection(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=info.context.viewer.organization_id,
        connection_id=id_of(id, "MetaConnection"),
        now=services.clock.now(),
        notify=services.notify,
    )
    return RefreshMetaConnectionSuccess(
        connection=MetaConnection.from_domain(conn), status_changed=result.changed
    )


@errors_as_data
async def disconnect_account(info: GraphInfo, id: str) -> DisconnectAccountSuccess:
    services = info.context.services
    async with services.uow() as uow:
        row, applied_on_meta = await connections.disconnect_account(
            uow,
            services.meta,
            services.vault,
            info.context.viewer.organization_id,
            id_of(id, *ACCOUNT_TYPES),
        )
        await uow.commit()
    account: Node
    if isinstance(row, PageRow):
        account = Page.from_domain(row)
    elif isinstance(row, InstagramRow):
        account = InstagramAccount.from_domain(row)
    else:
        account = WhatsAppAccount.from_domain(row)
    return DisconnectAccountSuccess(
        account=account,
        meta_effect=MetaEffect.APPLIED if applied_on_meta else MetaEffect.LOCAL_ONLY,
    )
