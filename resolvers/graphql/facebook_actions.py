"""metasync → Facebook over GraphQL: a Page's details, conversation state, contact edits.

Each success says what reached Meta (DESIGN.md §8): archive and mute are metasync's own
state (Meta has no API for them), mark-read also sends Messenger's ``mark_seen``, a contact
edit stays in metasync, and a Page update sends only the fields that changed.
"""

from __future__ import annotations

import uuid

from domain.errors import InvalidInputError
from domain.models import Conversation as ConversationRow
from domain.services import facebook_actions as actions
from domain.services.facebook_actions import Effect
from domain.services.permissions import Action
from resolvers.graphql.access import require
from resolvers.graphql.errors import errors_as_data
from resolvers.graphql.ids import id_of
from schema.inputs import UpdateContactInput, UpdatePageOnFacebookInput
from schema.payloads import (
    ConversationUpdated,
    MetaEffectReport,
    UpdateContactSuccess,
    UpdatePageOnFacebookSuccess,
)
from schema.types import Contact, Conversation, GraphInfo, Page

CONTACT_EFFECT = Effect(False, "Contact details are kept in metasync; Meta has no API to edit them")


@errors_as_data
async def update_page_on_facebook(
    info: GraphInfo, page_id: str, input: UpdatePageOnFacebookInput
) -> UpdatePageOnFacebookSuccess:
    require(info, Action.UPDATE_PAGE_ON_META)
    services = info.context.services
    page, changed = await actions.update_page_on_facebook(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=info.context.viewer.organization_id,
        page_id=id_of(page_id, "Page", field="pageId"),
        fields=input.to_fields(),
    )
    effect = Effect(True) if changed else Effect(False, "Nothing changed: Meta was not called")
    return UpdatePageOnFacebookSuccess(
        page=Page.from_domain(page),
        updated_fields=changed,
        meta_effect=MetaEffectReport.from_effect(effect),
    )


@errors_as_data
async def archive_conversation(
    info: GraphInfo, conversation_id: str, archived: bool | None
) -> ConversationUpdated:
    if archived is None:  # the argument is nullable (the API's contract); null says nothing
        raise InvalidInputError("archived", "must be true or false")
    row, effect = await actions.archive_conversation(
        info.context.services.uow(),
        organization_id=info.context.viewer.organization_id,
        conversation_id=_conversation_id(conversation_id),
        archived=archived,
    )
    return _conversation_updated(row, effect)


@errors_as_data
async def mute_conversation(
    info: GraphInfo, conversation_id: str, mute_until: str | None
) -> ConversationUpdated:
    services = info.context.services
    row, effect = await actions.mute_conversation(
        services.uow(),
        organization_id=info.context.viewer.organization_id,
        conversation_id=_conversation_id(conversation_id),
        mute_until=mute_until,
        now=services.clock.now(),
    )
    return _conversation_updated(row, effect)


@errors_as_data
async def mark_conversation_read(info: GraphInfo, conversation_id: str) -> ConversationUpdated:
    services = info.context.services
    row, effect = await actions.mark_conversation_read(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=info.context.viewer.organization_id,
        conversation_id=_conversation_id(conversation_id),
        now=services.clock.now(),
    )
    return _conversation_updated(row, effect)


@errors_as_data
async def update_contact(
    info: GraphInfo, contact_id: str, input: UpdateContactInput
) -> UpdateContactSuccess:
    contact = await actions.update_contact(
        info.context.services.uow(),
        organization_id=info.context.viewer.organization_id,
        contact_id=id_of(contact_id, "Contact", field="contactId"),
        fields=input.to_fields(),
    )
    return UpdateContactSuccess(
        contact=Contact.from_domain(contact),
        meta_effect=MetaEffectReport.from_effect(CONTACT_EFFECT),
    )


def _conversation_id(global_id: str) -> uuid.UUID:
    return id_of(global_id, "Conversation", field="conversationId")


def _conversation_updated(row: ConversationRow, effect: Effect) -> ConversationUpdated:
    return ConversationUpdated(
        conversation=Conversation.from_domain(row), meta_effect=MetaEffectReport.from_effect(effect)
    )
