"""Mutation results: one union per mutation of its success type and the error types."""

from __future__ import annotations

import uuid
from typing import Annotated, Self

import strawberry

from domain.services.auto_connect import PageOutcome, SyncReport
from domain.services.connections import ConnectReport
from domain.services.facebook_actions import Effect
from schema.accounts import MetaConnection, WhatsAppAccount
from schema.enums import MetaEffect
from schema.errors import AnyError
from schema.sync import SyncRun
from schema.types import Contact, Conversation, GraphInfo, InstagramAccount, Node, Page


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


@strawberry.type(
    description="What of a change reached Meta (DESIGN.md §8): metasync always applies it to "
    "its own state; Meta has no API to archive, mute or mark read a Page conversation."
)
class MetaEffectReport:
    applied_on_meta: bool
    note: str | None = strawberry.field(description="What Meta was (or could not be) told.")

    @classmethod
    def from_effect(cls, effect: Effect) -> Self:
        return cls(applied_on_meta=effect.applied_on_meta, note=effect.meta_note)


@strawberry.type(
    description="The sync is queued (a worker runs it): follow it with "
    "Subscription.syncProgress, or read it again by id."
)
class SyncStarted:
    run: SyncRun
    created: bool = strawberry.field(
        description="False when the same sync was already queued or running: that run is "
        "returned instead of a second one."
    )


@strawberry.type
class UpdatePageOnFacebookSuccess:
    page: Page
    updated_fields: list[str] = strawberry.field(
        description="The fields that changed; only these were sent to Meta."
    )
    meta_effect: MetaEffectReport


@strawberry.type
class ConversationUpdated:
    conversation: Conversation
    meta_effect: MetaEffectReport


@strawberry.type
class UpdateContactSuccess:
    contact: Contact
    meta_effect: MetaEffectReport


@strawberry.type(description="One Page auto-connect reached, and its first sync.")
class AutoConnectedPage:
    page_id: strawberry.Private[uuid.UUID]
    run: SyncRun | None = strawberry.field(
        description="Its first sync, queued: follow it with Subscription.syncProgress."
    )
    problem: str | None = strawberry.field(description="Why the Page cannot be synced.")

    @strawberry.field
    async def page(self, info: GraphInfo) -> Page | None:
        row = await info.context.loaders.page.load(self.page_id)
        return Page.from_domain(row) if row else None

    @classmethod
    def from_outcome(cls, outcome: PageOutcome) -> Self:
        run = SyncRun.from_domain(outcome.run) if outcome.run is not None else None
        return cls(page_id=outcome.page_id, run=run, problem=outcome.problem)


@strawberry.type(
    description="Every Page the organization's stored Facebook logins reach, connected, each "
    "with a first sync of its most recent conversations queued."
)
class AutoConnectPagesSuccess:
    pages_found: int
    pages: list[AutoConnectedPage]
    warnings: list[str] = strawberry.field(
        description="What could not be done on Meta (a login that no longer works, say)."
    )

    @classmethod
    def from_report(cls, report: SyncReport) -> Self:
        return cls(
            pages_found=report.pages_found,
            pages=[AutoConnectedPage.from_outcome(o) for o in report.outcomes],
            warnings=list(report.warnings),
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
SyncPageResult = Annotated[SyncStarted | AnyError, strawberry.union("SyncPageResult")]
SyncConversationResult = Annotated[
    SyncStarted | AnyError, strawberry.union("SyncConversationResult")
]
UpdatePageOnFacebookResult = Annotated[
    UpdatePageOnFacebookSuccess | AnyError, strawberry.union("UpdatePageOnFacebookResult")
]
ArchiveConversationResult = Annotated[
    ConversationUpdated | AnyError, strawberry.union("ArchiveConversationResult")
]
MuteConversationResult = Annotated[
    ConversationUpdated | AnyError, strawberry.union("MuteConversationResult")
]
MarkConversationReadResult = Annotated[
    ConversationUpdated | AnyError, strawberry.union("MarkConversationReadResult")
]
UpdateContactResult = Annotated[
    UpdateContactSuccess | AnyError, strawberry.union("UpdateContactResult")
]
AutoConnectPagesResult = Annotated[
    AutoConnectPagesSuccess | AnyError, strawberry.union("AutoConnectPagesResult")
]
