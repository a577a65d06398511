"""WhatsApp templates in GraphQL: mutations on the domain services and the live status
stream (``Subscription.templateStatus``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any

from domain.repositories.templates import TemplateRepository
from domain.services import whatsapp_templates as service
from domain.services.permissions import Action
from resolvers.graphql.access import require
from resolvers.graphql.errors import errors_as_data
from resolvers.graphql.ids import id_of
from schema.templates import (
    Template,
    TemplateInput,
    TemplatesDeleted,
    TemplatesSynced,
    TemplateSuccess,
    TemplateUpdateInput,
)
from schema.types import GraphInfo


@errors_as_data
async def create_template(info: GraphInfo, waba_id: str, input: TemplateInput) -> TemplateSuccess:
    require(info, Action.MANAGE_TEMPLATES)
    services = info.context.services
    body: dict[str, Any] = {
        "name": input.name,
        "language": input.language,
        "category": input.category,
        "components": input.components,
    }
    row = await service.create_template(
        services.uow(), services.meta, services.vault,
        organization_id=info.context.viewer.organization_id, waba_id=waba_id, body=body,
        now=services.clock.now(),
    )  # fmt: skip
    return TemplateSuccess(template=Template.from_domain(row))


@errors_as_data
async def update_template(info: GraphInfo, id: str, input: TemplateUpdateInput) -> TemplateSuccess:
    require(info, Action.MANAGE_TEMPLATES)
    services = info.context.services
    body: dict[str, Any] = {}
    if input.components is not None:
        body["components"] = input.components
    if input.category is not None:
        body["category"] = input.category
    row = await service.edit_template(
        services.uow(), services.meta, services.vault,
        organization_id=info.context.viewer.organization_id,
        template_id=id_of(id, "Template"), body=body, now=services.clock.now(),
    )  # fmt: skip
    return TemplateSuccess(template=Template.from_domain(row))


@errors_as_data
async def delete_template(info: GraphInfo, id: str, all_languages: bool) -> TemplatesDeleted:
    require(info, Action.MANAGE_TEMPLATES)
    services = info.context.services
    rows = await service.delete_template(
        services.uow(), services.meta, services.vault,
        organization_id=info.context.viewer.organization_id,
        template_id=id_of(id, "Template"), all_languages=all_languages, now=services.clock.now(),
    )  # fmt: skip
    return TemplatesDeleted(deleted=[Template.from_domain(r) for r in rows])


@errors_as_data
async def sync_templates(info: GraphInfo, waba_id: str) -> TemplatesSynced:
    services = info.context.services
    org = info.context.viewer.organization_id
    async with services.uow() as uow:
        account = await service.find_account(uow, org, waba_id)
        account_id = account.id
    report = await service.sync_templates(
        services.uow(), services.meta, services.vault,
        organization_id=org, account_id=account_id, now=services.clock.now(),
    )  # fmt: skip
    return TemplatesSynced(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=report.removed,
    )


async def template_status(info: GraphInfo, waba_id: str) -> AsyncGenerator[Template, None]:
    """The account's templates as they are now, then each status change as Meta reviews."""
    services = info.context.services
    org = info.context.viewer.organization_id
    async with services.uow() as uow:
        account = await service.find_account(uow, org, waba_id)
        account_id = account.id
    async with services.bus.subscribe(service.template_channel(account_id)) as events:
        async with services.session_factory() as session:
            current = await TemplateRepository(session, org).of_account(account_id)
        for row in current:
            yield Template.from_domain(row)
        async for event in events:
            async with services.session_factory() as session:
                changed = await TemplateRepository(session, org).get(
                    id_of_event(event.get("template_id"))
                )
            if changed is not None:
                yield Template.from_domain(changed)


def id_of_event(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)  # matches no row
