"""WhatsApp message templates: create, edit, delete and sync with Meta, under Meta's rules.

Templates are checked (``template_rules``) before Meta sees them; Meta's review then moves
them PENDING → APPROVED / REJECTED, reported by the ``message_template_status_update``
webhook (``webhooks.handlers.on_template``) with ``sync_templates`` as the fallback. Every
status change is published on ``template_channel`` for ``Subscription.templateStatus``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.errors import InvalidInputError, NotFoundError
from domain.meta import MetaGateway, MetaTemplate, MetaTokenInvalid
from domain.models import MetaConnection, Template, TemplateStatus, WhatsAppAccount
from domain.repositories.channels import WhatsAppAccountRepository
from domain.repositories.templates import TemplateRepository
from domain.services import template_rules as rules
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault


def template_channel(account_id: uuid.UUID) -> str:
    """Status changes of a WhatsApp account's templates (GraphQL ``templateStatus``)."""
    return f"template_status:{account_id}"


def publish_status(uow: UnitOfWork, row: Template) -> None:
    uow.publish(
        template_channel(row.whatsapp_account_id),
        {"template_id": str(row.id), "status": row.status},
    )


async def find_account(
    uow: UnitOfWork, organization_id: uuid.UUID, waba_id: str | None
) -> WhatsAppAccount:
    """The named WABA, or the organization's first one when none is named."""
    repo = WhatsAppAccountRepository(uow.session, organization_id)
    account = await (repo.by_waba_id(waba_id) if waba_id else repo.first())
    if account is None:
        raise NotFoundError("WhatsApp account")
    return account


async def find_template(
    uow: UnitOfWork, organization_id: uuid.UUID, template_id: uuid.UUID
) -> Template:
    row = await TemplateRepository(uow.session, organization_id).get(template_id)
    if row is None:
        raise NotFoundError("Template")
    return row


async def waba_token(uow: UnitOfWork, vault: TokenVault, account: WhatsAppAccount) -> str:
    """The WABA's own system-user token, else its connection's user token."""
    token = unseal(vault, account)
    if token is None and account.connection_id is not None:
        conn = await uow.session.get(MetaConnection, account.connection_id)
        token = unseal(vault, conn) if conn is not None else None
    if token is None:
        raise MetaTokenInvalid("No token is stored for this WhatsApp account")
    return token


def _stamp(now: datetime) -> str:
    return now.isoformat()


def _edits(row: Template) -> list[datetime]:
    return [datetime.fromisoformat(t) for t in row.edit_history or []]


async def create_template(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    waba_id: str | None,
    body: dict[str, Any],
    now: datetime,
) -> Template:
    name = rules.check_name(body.get("name"))
    language = rules.check_language(body.get("language"))
    category = rules.check_category(body.get("category"))
    checked = rules.check_components(body.get("components"))
    async with uow:
        account = await find_account(uow, organization_id, waba_id)
        await _check_name_free(uow, organization_id, account.id, name, language, now)
        token = await waba_token(uow, vault, account)
        account_id, meta_waba_id = account.id, account.waba_id
    submitted = await meta.create_whatsapp_template(
        meta_waba_id,
        token,
        name=name,
        language=language,
        category=category,
        components=checked.components,
        parameter_format=checked.parameter_format,
    )
    async with uow:
        repo = TemplateRepository(uow.session, organization_id)
        # A row deleted more than 30 days ago keeps the (account, name, language) key:
        # reuse it rather than collide with it.
        stale = [r for r in await repo.any_state(account_id, name) if r.language == language]
        row = stale[0] if stale else Template(id=uuid.uuid4(), whatsapp_account_id=account_id)
        row.name, row.language, row.deleted_at = name, language, None
        row.meta_template_id = submitted.meta_template_id
        row.category = submitted.category
        row.status = submitted.status
        row.components = checked.components
        row.rejected_reason, row.quality_score, row.edit_history = None, None, []
        if not stale:
            repo.add(row)
        publish_status(uow, row)
        await uow.commit()
    return row


async def _check_name_free(
    uow: UnitOfWork,
    organization_id: uuid.UUID,
    account_id: uuid.UUID,
    name: str,
    language: str,
    now: datetime,
) -> None:
    for row in await TemplateRepository(uow.session, organization_id).any_state(account_id, name):
        if row.deleted_at is None and row.language == language:
            raise InvalidInputError(
                "name", f"a template {name} in {language} already exists on this account"
            )
        if row.deleted_at is not None and now - row.deleted_at < rules.NAME_REUSE_BLOCK:
            until = (row.deleted_at + rules.NAME_REUSE_BLOCK).date().isoformat()
            raise InvalidInputError(
                "name",
                f"{name} was deleted on {row.deleted_at.date().isoformat()}; Meta blocks a "
                f"deleted template name for 30 days (until {until}): choose another name",
            )


async def edit_template(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    template_id: uuid.UUID,
    body: dict[str, Any],
    now: datetime,
) -> Template:
    """Send new components and/or category to Meta; the template goes back to review."""
    category = rules.check_category(body["category"]) if "category" in body else None
    checked = rules.check_components(body["components"]) if "components" in body else None
    if category is None and checked is None:
        raise InvalidInputError("components", "give components and/or category to change")
    async with uow:
        row = await find_template(uow, organization_id, template_id)
        for field in ("name", "language"):
            if field in body and body[field] != getattr(row, field):
                raise InvalidInputError(
                    field, "cannot be changed: Meta fixes a template's name and language"
                )
        rules.check_editable(row.status, _edits(row), now)
        account = await uow.session.get(WhatsAppAccount, row.whatsapp_account_id)
        assert account is not None  # the foreign key cascades
        token = await waba_token(uow, vault, account)
        meta_id = row.meta_template_id
    if meta_id is None:
        raise InvalidInputError("id", "the template was never accepted by Meta")
    await meta.edit_whatsapp_template(
        meta_id, token, components=checked.components if checked else None, category=category
    )
    async with uow:
        row = await find_template(uow, organization_id, template_id)
        if checked is not None:
            row.components = checked.components
        if category is not None:
            row.category = category
        row.status = TemplateStatus.PENDING.value
        row.rejected_reason = None
        row.edit_history = [*(row.edit_history or []), _stamp(now)]
        publish_status(uow, row)
        await uow.commit()
    return row


async def delete_template(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    template_id: uuid.UUID,
    all_languages: bool,
    now: datetime,
) -> list[Template]:
    """Delete one language (Meta's ``hsm_id``) or, by name, every language. Returns the rows
    deleted; the name is then blocked for 30 days (checked by ``create_template``)."""
    async with uow:
        row = await find_template(uow, organization_id, template_id)
        account = await uow.session.get(WhatsAppAccount, row.whatsapp_account_id)
        assert account is not None
        token = await waba_token(uow, vault, account)
        name, meta_id, waba, account_id = (
            row.name,
            row.meta_template_id,
            account.waba_id,
            account.id,
        )
    await meta.delete_whatsapp_template(waba, token, name, None if all_languages else meta_id)
    async with uow:
        repo = TemplateRepository(uow.session, organization_id)
        doomed = [
            r
            for r in await repo.any_state(account_id, name)
            if r.deleted_at is None and (all_languages or r.id == template_id)
        ]
        for r in doomed:
            r.status, r.deleted_at = TemplateStatus.DELETED.value, now
            publish_status(uow, r)
        await uow.commit()
    return doomed


@dataclass(frozen=True)
class TemplateSyncReport:
    created: int
    updated: int
    unchanged: int
    removed: int


async def sync_templates(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    account_id: uuid.UUID,
    now: datetime,
) -> TemplateSyncReport:
    """Make the stored templates match Meta's (all pages); idempotent. Rows Meta no longer
    lists are marked deleted; status changes are published like webhook ones."""
    async with uow:
        account = await WhatsAppAccountRepository(uow.session, organization_id).get(account_id)
        if account is None:
            raise NotFoundError("WhatsApp account")
        token = await waba_token(uow, vault, account)
        waba = account.waba_id
    remote = await meta.whatsapp_templates(waba, token)
    created = updated = unchanged = removed = 0
    async with uow:
        rows = (
            await uow.session.execute(
                select(Template).where(Template.whatsapp_account_id == account_id)
            )
        ).scalars()
        by_key = {(r.name, r.language): r for r in rows}
        listed: set[tuple[str, str]] = set()
        for item in remote:
            listed.add((item.name, item.language))
            row = by_key.get((item.name, item.language))
            if row is None:
                row = Template(id=uuid.uuid4(), whatsapp_account_id=account_id)
                TemplateRepository(uow.session, organization_id).add(row)
            status_before = row.status if row.meta_template_id else None
            if not _apply(row, item):
                unchanged += 1
                continue
            if status_before is None:
                created += 1
            else:
                updated += 1
            if row.status != status_before:
                publish_status(uow, row)
        for key, row in by_key.items():
            if key not in listed and row.deleted_at is None and row.meta_template_id:
                row.status, row.deleted_at = TemplateStatus.DELETED.value, now
                publish_status(uow, row)
                removed += 1
        await uow.commit()
    return TemplateSyncReport(created, updated, unchanged, removed)


def _apply(row: Template, item: MetaTemplate) -> bool:
    """Copy Meta's view onto ``row``; False when nothing differed."""
    values: dict[str, Any] = {
        "meta_template_id": item.meta_template_id,
        "name": item.name,
        "language": item.language,
        "category": item.category,
        "status": item.status,
        "components": item.components,
        "rejected_reason": item.rejected_reason if item.status == "REJECTED" else None,
        "quality_score": item.quality_score,
        "deleted_at": None,
    }
    changed = False
    for key, value in values.items():
        if getattr(row, key, None) != value:
            setattr(row, key, value)
            changed = True
    return changed
