"""The root Mutation type: connecting, checking and disconnecting Meta accounts; syncing
from Meta; and changes metasync makes on Facebook or keeps for itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.services.sync.fields import known_fields
from resolvers.graphql import facebook_actions, sync
from resolvers.graphql import mutation as resolvers
from resolvers.graphql import posts as post_resolvers
from resolvers.graphql import schedules as schedule_resolvers
from resolvers.graphql import templates as template_resolvers
from resolvers.graphql import webhooks as webhook_resolvers
from schema.enums import ConversationSyncScope, OAuthPlatform, SyncScope
from schema.inputs import UpdateContactInput, UpdatePageOnFacebookInput
from schema.payloads import (
    AddMetaTokenResult,
    ArchiveConversationResult,
    AutoConnectPagesResult,
    ConnectMetaWithCodeResult,
    ConnectPageResult,
    DisconnectAccountResult,
    MarkConversationReadResult,
    MuteConversationResult,
    RefreshMetaConnectionResult,
    StartMetaOAuthResult,
    SyncConversationResult,
    SyncPageResult,
    UpdateContactResult,
    UpdatePageOnFacebookResult,
)
from schema.posts import (
    CreatePostInput,
    CreatePostResult,
    DeletePostResult,
    RefreshAnalyticsResult,
    RetryPostResult,
)
from schema.schedules import SyncScheduleInput, UpdateSyncScheduleResult
from schema.templates import (
    CreateTemplateResult,
    DeleteTemplateResult,
    SyncTemplatesResult,
    TemplateInput,
    TemplateUpdateInput,
    UpdateTemplateResult,
)
from schema.types import GraphInfo
from schema.webhooks import ReplayWebhookEventsResult, WebhookEventStatus

SELECTIVE_FIELDS = strawberry.argument(
    description="Selective sync: only these fields are read from Meta and written; the "
    "others keep their values (null: every field). Names: "
    + ", ".join(known_fields())
    + ". An unknown name, or one this scope does not read, is a ValidationError on `fields`."
)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        name="startMetaOAuth",
        description="Meta's login dialog URL for connecting accounts of a platform; the "
        "dialog returns to metasync, which stores what was granted.",
    )
    async def start_meta_oauth(
        self, info: GraphInfo, platform: OAuthPlatform
    ) -> StartMetaOAuthResult:
        return await resolvers.start_meta_oauth(info, platform)

    @strawberry.mutation(
        description="Connect with a code the frontend got from Meta's dialog itself."
    )
    async def connect_meta_with_code(
        self, info: GraphInfo, code: str, redirect_uri: str
    ) -> ConnectMetaWithCodeResult:
        return await resolvers.connect_meta_with_code(info, code, redirect_uri)

    @strawberry.mutation(
        description="Store a Meta token someone pasted (a system-user token, say) under a "
        "label, and connect what it reaches. The token is never returned."
    )
    async def add_meta_token(self, info: GraphInfo, label: str, token: str) -> AddMetaTokenResult:
        return await resolvers.add_meta_token(info, label, token)

    @strawberry.mutation(
        description="(Re)connect one Page a stored login reaches: fresh Page token, webhooks "
        "subscribed."
    )
    async def connect_page(self, info: GraphInfo, meta_page_id: str) -> ConnectPageResult:
        return await resolvers.connect_page(info, meta_page_id)

    @strawberry.mutation(
        description="Ask Meta about a login now and record its real status and expiry."
    )
    async def refresh_meta_connection(
        self, info: GraphInfo, id: strawberry.ID
    ) -> RefreshMetaConnectionResult:
        return await resolvers.refresh_meta_connection(info, id)

    @strawberry.mutation(
        description="Disconnect a Page, Instagram or WhatsApp account: webhooks unsubscribed "
        "where Meta allows, tokens dropped, history kept."
    )
    async def disconnect_account(
        self, info: GraphInfo, id: strawberry.ID
    ) -> DisconnectAccountResult:
        return await resolvers.disconnect_account(info, id)

    @strawberry.mutation(
        description="Queue a sync of a Page from Meta; the run comes back at once. A full "
        "sync runs at most once per 5 minutes per Page, other syncs at most 10 per minute "
        "(RateLimitedError says how long to wait)."
    )
    async def sync_page(
        self,
        info: GraphInfo,
        page_id: strawberry.ID,
        scope: SyncScope,
        fields: Annotated[list[str] | None, SELECTIVE_FIELDS] = None,
    ) -> SyncPageResult:
        return await sync.sync_page(info, page_id, scope, fields)

    @strawberry.mutation(
        description="Queue a sync of one conversation from Meta (its messages or its status); "
        "the run comes back at once. Counts toward its Page's limit of 10 per minute."
    )
    async def sync_conversation(
        self,
        info: GraphInfo,
        conversation_id: strawberry.ID,
        scope: ConversationSyncScope,
        fields: Annotated[list[str] | None, SELECTIVE_FIELDS] = None,
    ) -> SyncConversationResult:
        return await sync.sync_conversation(info, conversation_id, scope, fields)

    @strawberry.mutation(
        description="Change when the scheduler syncs a Page, and what (owners and admins); "
        "settings left out are kept. Bad settings are a ValidationError naming each."
    )
    async def update_sync_schedule(
        self, info: GraphInfo, page_id: strawberry.ID, input: SyncScheduleInput
    ) -> UpdateSyncScheduleResult:
        return await schedule_resolvers.update_sync_schedule(info, page_id, input)

    @strawberry.mutation(
        description="Change a Page's about, phone or website on Facebook (owners and admins). "
        "Only changed fields are sent; Meta refusing stores nothing."
    )
    async def update_page_on_facebook(
        self, info: GraphInfo, page_id: strawberry.ID, input: UpdatePageOnFacebookInput
    ) -> UpdatePageOnFacebookResult:
        return await facebook_actions.update_page_on_facebook(info, page_id, input)

    @strawberry.mutation(
        description="Archive (or unarchive) a conversation in metasync. Meta has no API for "
        "it: metaEffect.appliedOnMeta is false."
    )
    async def archive_conversation(
        self, info: GraphInfo, conversation_id: strawberry.ID, archived: bool | None = True
    ) -> ArchiveConversationResult:
        return await facebook_actions.archive_conversation(info, conversation_id, archived)

    @strawberry.mutation(
        description="Mute a conversation in metasync until a Unix timestamp (as a string) or "
        "PERMANENTLY; null unmutes. Meta has no API for it: metaEffect.appliedOnMeta is false."
    )
    async def mute_conversation(
        self, info: GraphInfo, conversation_id: strawberry.ID, mute_until: str | None = None
    ) -> MuteConversationResult:
        return await facebook_actions.mute_conversation(info, conversation_id, mute_until)

    @strawberry.mutation(
        description="Zero the unread count in metasync and send Messenger's mark_seen to the "
        "person (Meta has no API to mark a Page conversation read)."
    )
    async def mark_conversation_read(
        self, info: GraphInfo, conversation_id: strawberry.ID
    ) -> MarkConversationReadResult:
        return await facebook_actions.mark_conversation_read(info, conversation_id)

    @strawberry.mutation(
        description="Edit a contact in metasync (Meta has no API to edit a person). A name "
        "edited here is kept against later syncs."
    )
    async def update_contact(
        self, info: GraphInfo, contact_id: strawberry.ID, input: UpdateContactInput
    ) -> UpdateContactResult:
        return await facebook_actions.update_contact(info, contact_id, input)

    @strawberry.mutation(
        description="Connect every Page the organization's stored Facebook logins reach and "
        "queue each a first sync of its most recent conversations (owners and admins). "
        "Answers at once; follow each run with Subscription.syncProgress."
    )
    async def auto_connect_pages(self, info: GraphInfo) -> AutoConnectPagesResult:
        return await sync.auto_connect_pages(info)

    @strawberry.mutation(
        description="Queue the organization's webhook deliveries (failed ones by default) to "
        "be applied again; idempotent (owners and admins)."
    )
    async def replay_webhook_events(
        self,
        info: GraphInfo,
        status: WebhookEventStatus | None = None,
        since: datetime | None = None,
    ) -> ReplayWebhookEventsResult:
        return await webhook_resolvers.replay_webhook_events(info, status, since)

    @strawberry.mutation(description="Submit a template to Meta's review (owners and admins).")
    async def create_template(
        self, info: GraphInfo, waba_id: str, input: TemplateInput
    ) -> CreateTemplateResult:
        return await template_resolvers.create_template(info, waba_id, input)

    @strawberry.mutation(
        description="Change an APPROVED, REJECTED or PAUSED template; it goes back to review."
    )
    async def update_template(
        self, info: GraphInfo, id: strawberry.ID, input: TemplateUpdateInput
    ) -> UpdateTemplateResult:
        return await template_resolvers.update_template(info, id, input)

    @strawberry.mutation(
        description="Delete a template (one language, or every language of its name); Meta "
        "blocks the name for 30 days."
    )
    async def delete_template(
        self, info: GraphInfo, id: strawberry.ID, all_languages: bool = False
    ) -> DeleteTemplateResult:
        return await template_resolvers.delete_template(info, id, all_languages)

    @strawberry.mutation(description="Make the stored templates match Meta's now.")
    async def sync_templates(self, info: GraphInfo, waba_id: str) -> SyncTemplatesResult:
        return await template_resolvers.sync_templates(info, waba_id)

    @strawberry.mutation(
        description="Create a post: answered at once (QUEUED or SCHEDULED); the post queue "
        "publishes it, at most one post every 2 s per account. Follow it with postStatus."
    )
    async def create_post(self, info: GraphInfo, input: CreatePostInput) -> CreatePostResult:
        return await post_resolvers.create_post(info, input)

    @strawberry.mutation(description="Delete a post; a published one is deleted on Meta too.")
    async def delete_post(self, info: GraphInfo, id: strawberry.ID) -> DeletePostResult:
        return await post_resolvers.delete_post(info, id)

    @strawberry.mutation(
        description="Queue a FAILED post again with fresh attempts; if it ever reached Meta, "
        "Meta is read first so it is never published twice."
    )
    async def retry_post(self, info: GraphInfo, id: strawberry.ID) -> RetryPostResult:
        return await post_resolvers.retry_post(info, id)

    @strawberry.mutation(
        description="Read a Page's or Instagram account's posts and insights from Meta now "
        "(otherwise daily at 03:00 UTC)."
    )
    async def refresh_analytics(
        self, info: GraphInfo, account_id: strawberry.ID
    ) -> RefreshAnalyticsResult:
        return await post_resolvers.refresh_analytics(info, account_id)
