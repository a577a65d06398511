"""Mutation results: one union per mutation of its success type and the error types."""

from __future__ import annotations

from typing import Annotated, Self

import strawberry

from domain.services.connections import ConnectReport
from schema.accounts import MetaConnection, WhatsAppAccount
from schema.enums import MetaEffect
from schema.errors import AnyError
from schema.types import InstagramAccount, Node, Page


@strawberry.type
class StartMetaOAuthSuccess:
    auth_url: str = strawberry.field(
        description="Meta's login dialog; it comes back to metasync's callback within 10 minutes."
    )


@strawberry.type(description="A Meta login stored, with every asset it reaches.")
class MetaConnectSuccess:
    connection: MetaConnection
    created: bool = strawberry.field(description="False when an existing login was renewed.")
    pages: list[Page]
    instagram_accounts: list[InstagramAccount]
    whatsapp_accounts: list[WhatsAppAccount]
    warnings: list[str] = strawberry.field(
        description="What could not be done on Meta (a webhook subscription, an asset read)."
    )

    @classmethod
    def from_report(cls, report: ConnectReport) -> Self:
        return cls(
            connection=MetaConnection.from_domain(report.connection),
            created=report.created,
            pages=[Page.from_domain(p) for p in report.pages],
            instagram_accounts=[InstagramAccount.from_domain(a) for a in report.instagram_accounts],
            whatsapp_accounts=[WhatsAppAccount.from_domain(a) for a in report.whatsapp_accounts],
            warnings=list(report.warnings),
        )


@strawberry.type(description="The Page with a fresh Page token and webhooks subscribed.")
class ConnectPageSuccess:
    page: Page


@strawberry.type(
    description="What Meta says of the login now. Meta cannot extend a long-lived user token: "
    "one near its end comes back REAUTHORIZATION_REQUIRED with its real expiresAt, and only "
    "logging in again renews it."
)
class RefreshMetaConnectionSuccess:
    connection: MetaConnection
    status_changed: bool


@strawberry.type(description="The account disconnected: tokens dropped, its history kept.")
class DisconnectAccountSuccess:
    account: Node = strawberry.field(description="The Page, InstagramAccount or WhatsAppAccount.")
    meta_effect: MetaEffect = strawberry.field(
        description="APPLIED when Meta confirmed the webhook unsubscription; LOCAL_ONLY when "
        "there was none to remove or Meta refused (metasync stops using the account anyway)."
    )


StartMetaOAuthResult = Annotated[
    StartMetaOAuthSuccess | AnyError, strawberry.union("StartMetaOAuthResult")
]
ConnectMetaWithCodeResult = Annotated[
    MetaConnectSuccess | AnyError, strawberry.union("ConnectMetaWithCodeResult")
]
AddMetaTokenResult = Annotated[
    MetaConnectSuccess | AnyError, strawberry.union("AddMetaTokenResult")
]
ConnectPageResult = Annotated[ConnectPageSuccess | AnyError, strawberry.union("ConnectPageResult")]
RefreshMetaConnectionResult = Annotated[
    RefreshMetaConnectionSuccess | AnyError, strawberry.union("RefreshMetaConnectionResult")
]
DisconnectAccountResult = Annotated[
    DisconnectAccountSuccess | AnyError, strawberry.union("DisconnectAccountResult")
]
