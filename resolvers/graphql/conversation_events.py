"""Live conversation events of a Page (``Subscription.conversationEvents``).

Workers publish an event on the bus after each applied webhook event commits; each is sent
with the conversation (and message) as they are in the database then, read per event so a
long-lived subscription never serves stale rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

from domain.errors import NotFoundError
from domain.repositories.channels import PageRepository
from domain.repositories.messaging import ConversationRepository, MessageRepository
from domain.services.webhooks.handlers import events_channel
from resolvers.graphql.ids import id_of
from schema.types import Conversation, ConversationEvent, GraphInfo, Message


async def conversation_events(
    info: GraphInfo, page_id: str
) -> AsyncGenerator[ConversationEvent, None]:
    services = info.context.services
    org = info.context.viewer.organization_id
    page = id_of(page_id, "Page", field="pageId")
    async with services.session_factory() as session:
        if await PageRepository(session, org).get(page) is None:
            raise NotFoundError("Page")
    async with services.bus.subscribe(events_channel(page)) as events:
        async for event in events:
            conversation_id = id_of_row(event.get("conversation_id"))
            message_id = id_of_row(event.get("message_id"))
            async with services.session_factory() as session:
                conversation = (
                    await ConversationRepository(session, org).get(conversation_id)
                    if conversation_id
                    else None
                )
                message = (
                    await MessageRepository(session, org).get(message_id) if message_id else None
                )
            if conversation is None:
                continue  # gone since (or never this organization's)
            yield ConversationEvent(
                type=str(event.get("type")),
                conversation=Conversation.from_domain(conversation),
                message=Message.from_domain(message) if message else None,
            )


def id_of_row(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
