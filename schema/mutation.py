"""The root Mutation type: connecting, checking and disconnecting Meta accounts."""

from __future__ import annotations

import strawberry

from resolvers.graphql import mutation as resolvers
from schema.enums import OAuthPlatform
from schema.payloads import (
    AddMetaTokenResult,
    ConnectMetaWithCodeResult,
    ConnectPageResult,
    DisconnectAccountResult,
    RefreshMetaConnectionResult,
    StartMetaOAuthResult,
)
from schema.types import GraphInfo


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
