"""GraphQL object types, each built from a domain model with ``from_domain``.

Nested lists resolve through ``info.context.loaders`` only, so a query costs a constant
number of SQL statements however many parents it lists.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry.types import Info

from domain import models
from domain.pagination import clamp_first
from domain.services.identity import Principal
from domain.services.sync.schedules import Schedule
from schema.connections import Connection
from schema.context import Context
from schema.enums import ChannelStatus, MessageDirection, MessageStatus, Platform
from schema.inputs import ConversationFilterInput
from schema.scalars import JSON, encode_global_id

if TYPE_CHECKING:
    from schema.posts import Post, PostFilterInput
    from schema.schedules import SyncSchedule
    from schema.sync import PageSyncStatus

GraphInfo = Info[Context, None]


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID
    database_id: strawberry.ID = strawberry.field(
        description="The id the REST shims use in their paths."
    )


def node_ids(type_name: str, row_id: uuid.UUID) -> dict[str, Any]:
    return {"id": encode_global_id(type_name, row_id), "database_id": strawberry.ID(str(row_id))}


@strawberry.type
class Organization(Node):
    name: str

    @classmethod
    def from_domain(cls, org_id: uuid.UUID, name: str) -> Self:
        return cls(**node_ids("Organization", org_id), name=name)


@strawberry.type
class Viewer(Node):
    email: str
    organization: Organization

    @classmethod
    def from_principal(cls, principal: Principal) -> Self:
        return cls(
            **node_ids("User", principal.user_id),
            email=principal.email,
            organization=Organization.from_domain(
                principal.organization_id, principal.organization_name
            ),
        )


@strawberry.type
class Contact(Node):
    platform: Platform
    platform_user_id: str
    name: str | None
    email: str | None
    phone: str | None
    tags: list[str]
    custom_fields: JSON
    notes: str | None
    picture_url: str | None
    meta_name: str | None = strawberry.field(
        description="The name Meta gives; differs from `name` when edited in metasync."
    )
    meta_picture_url: str | None
    locally_edited: list[str] = strawberry.field(
        description="Meta-owned fields edited in metasync: syncs keep these, not Meta's."
    )

    @classmethod
    def from_domain(cls, row: models.Contact) -> Self:
        return cls(
            **node_ids("Contact", row.id),
            meta_name=row.meta_name,
            meta_picture_url=row.meta_picture_url,
            locally_edited=list(row.locally_edited or []),
            platform=Platform(row.platform),
            platform_user_id=row.platform_user_id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            tags=list(row.tags),
            custom_fields=JSON(dict(row.custom_fields)),
            notes=row.notes,
            picture_url=row.picture_url,
        )


@strawberry.type
class Message(Node):
    meta_message_id: str
    direction: MessageDirection
    text: str | None
    attachments: JSON
    created_time: datetime
    status: MessageStatus

    @classmethod
    def from_domain(cls, row: models.Message) -> Self:
        return cls(
            **node_ids("Message", row.id),
            meta_message_id=row.meta_message_id,
            direction=MessageDirection(row.direction),
            text=row.text,
            attachments=JSON(list(row.attachments)),
            created_time=row.created_time,
            status=MessageStatus(row.status),
        )


@strawberry.type
class Conversation(Node):
    meta_conversation_id: str
    platform: Platform
    unread_count: int
    archived: bool
    muted_until: datetime | None
    updated_time: datetime
    snippet: str | None
    contact_id: strawberry.Private[uuid.UUID | None]
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_domain(cls, row: models.Conversation) -> Self:
        return cls(
            **node_ids("Conversation", row.id),
            meta_conversation_id=row.meta_conversation_id,
            platform=Platform(row.platform),
            unread_count=row.unread_count,
            archived=row.archived,
            muted_until=row.muted_until,
            updated_time=row.updated_time,
            snippet=row.snippet,
            contact_id=row.contact_id,
            row_id=row.id,
        )

    @strawberry.field
    async def contact(self, info: GraphInfo) -> Contact | None:
        if self.contact_id is None:
            return None
        row = await info.context.loaders.contact.load(self.contact_id)
        return Contact.from_domain(row) if row else None

    @strawberry.field
    async def messages(
        self, info: GraphInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[Message]:
        loaders = info.context.loaders
        size = clamp_first(first)
        page = await loaders.messages_of_conversation.load((self.row_id, size, after))
        return Connection[Message].from_slice(
            page,
            Message.from_domain,
            lambda: loaders.message_count_of_conversation.load(self.row_id),
            has_previous=after is not None,
        )


@strawberry.type
class Page(Node):
    meta_page_id: str
    name: str
    category: str | None
    about: str | None
    phone: str | None
    website: str | None
    fan_count: int | None
    followers_count: int | None
    picture_url: str | None
    status: ChannelStatus
    last_synced_at: datetime | None
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_domain(cls, row: models.Page) -> Self:
        return cls(
            **node_ids("Page", row.id),
            meta_page_id=row.meta_page_id,
            name=row.name,
            category=row.category,
            about=row.about,
            phone=row.phone,
            website=row.website,
            fan_count=row.fan_count,
            followers_count=row.followers_count,
            picture_url=row.picture_url,
            status=ChannelStatus(row.status),
            last_synced_at=row.last_synced_at,
            row_id=row.id,
        )

    @strawberry.field(description="What metasync holds of the Page and how its syncs are going.")
    def sync_status(self) -> Annotated[PageSyncStatus, strawberry.lazy("schema.sync")]:
        # schema.sync builds on this module (SyncRun links back to Page), hence the late import.
        from schema.sync import PageSyncStatus

        return PageSyncStatus(last_synced_at=self.last_synced_at, page_id=self.row_id)

    @strawberry.field(description="When the scheduler syncs this Page, and what.")
    async def sync_schedule(
        self, info: GraphInfo
    ) -> Annotated[SyncSchedule, strawberry.lazy("schema.schedules")]:
        # schema.schedules is imported late like schema.sync (it builds on schema.errors).
        from schema.schedules import SyncSchedule

        row = await info.context.loaders.sync_schedule_of_page.load(self.row_id)
        return SyncSchedule.from_domain(Schedule.of(self.row_id, row))

    @strawberry.field(description="The Instagram professional account linked to this Page.")
    async def instagram_account(self, info: GraphInfo) -> InstagramAccount | None:
        row = await info.context.loaders.instagram_account_of_page.load(self.row_id)
        return InstagramAccount.from_domain(row) if row else None

    @strawberry.field
    async def conversations(
        self,
        info: GraphInfo,
        first: int | None = 20,
        after: str | None = None,
        filter: ConversationFilterInput | None = None,
    ) -> Connection[Conversation]:
        loaders = info.context.loaders
        size = clamp_first(first)
        criteria = (filter or ConversationFilterInput()).to_domain()
        page = await loaders.conversations_of_page.load((self.row_id, size, after, criteria))
        return Connection[Conversation].from_slice(
            page,
            Conversation.from_domain,
            lambda: loaders.conversation_count_of_page.load((self.row_id, criteria)),
            has_previous=after is not None,
        )

    @strawberry.field
    async def contacts(
        self,
        info: GraphInfo,
        first: int | None = 20,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Contact]:
        loaders = info.context.loaders
        size = clamp_first(first)
        page = await loaders.contacts_of_page.load((self.row_id, size, after, search))
        return Connection[Contact].from_slice(
            page,
            Contact.from_domain,
            lambda: loaders.contact_count_of_page.load((self.row_id, search)),
            has_previous=after is not None,
        )

    @strawberry.field(
        description="The Page's own posts, newest first: published through metasync or read "
        "from Meta by the insights job."
    )
    async def posts(
        self,
        info: GraphInfo,
        first: int | None = 20,
        after: str | None = None,
        filter: Annotated[PostFilterInput, strawberry.lazy("schema.posts")] | None = None,
    ) -> Connection[Annotated[Post, strawberry.lazy("schema.posts")]]:
        from schema.posts import post_connection

        loaders = info.context.loaders
        return await post_connection(
            loaders.posts_of_page, loaders.post_count_of_page, self.row_id, first, after, filter
        )


@strawberry.type
class InstagramAccount(Node):
    meta_ig_id: str
    username: str | None
    name: str | None
    profile_picture_url: str | None
    followers_count: int | None
    media_count: int | None
    status: ChannelStatus
    page_id: strawberry.Private[uuid.UUID | None]
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_domain(cls, row: models.InstagramAccount) -> Self:
        return cls(
            **node_ids("InstagramAccount", row.id),
            meta_ig_id=row.meta_ig_id,
            username=row.username,
            name=row.name,
            profile_picture_url=row.profile_picture_url,
            followers_count=row.followers_count,
            media_count=row.media_count,
            status=ChannelStatus(row.status),
            page_id=row.page_id,
            row_id=row.id,
        )

    @strawberry.field(description="The Facebook Page the account is connected through.")
    async def page(self, info: GraphInfo) -> Page | None:
        if self.page_id is None:
            return None
        row = await info.context.loaders.page.load(self.page_id)
        return Page.from_domain(row) if row else None

    @strawberry.field(description="The account's media, newest first.")
    async def media(
        self,
        info: GraphInfo,
        first: int | None = 20,
        after: str | None = None,
        filter: Annotated[PostFilterInput, strawberry.lazy("schema.posts")] | None = None,
    ) -> Connection[Annotated[Post, strawberry.lazy("schema.posts")]]:
        from schema.posts import post_connection

        loaders = info.context.loaders
        return await post_connection(
            loaders.media_of_instagram,
            loaders.media_count_of_instagram,
            self.row_id,
            first,
            after,
            filter,
        )


@strawberry.type(description="A message or conversation change, as it is applied.")
class ConversationEvent:
    type: str = strawberry.field(description="message, delivery or read")
    conversation: Conversation
    message: Message | None
