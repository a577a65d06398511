"""Webhook configuration (spec/meta-business-api.md) and keeping Pages subscribed.

Meta sends every app's webhooks to one callback URL with one verify token, both set for the
whole deployment (``PUBLIC_URL``/webhooks/meta and ``WEBHOOK_VERIFY_TOKEN``). What an
organization chooses is which fields its Pages are subscribed to; configuring applies them
on Meta, and a periodic check re-subscribes Pages whose subscription Meta dropped (it does,
after about an hour of failed deliveries).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select

from domain.errors import InvalidInputError
from domain.meta import MetaError, MetaGateway
from domain.models import ChannelStatus, Page, WebhookConfig
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)

# The Page webhook fields metasync applies (facts §7).
PAGE_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "message_echoes",
    "message_reactions",
    "feed",
)


@dataclass(frozen=True)
class ConfigView:
    config: WebhookConfig | None
    fields: dict[str, bool]
    pages_subscribed: int
    pages_total: int


async def _pages(uow: UnitOfWork, organization_id: uuid.UUID) -> list[Page]:
    rows = await uow.session.execute(
        select(Page).where(
            Page.organization_id == organization_id,
            Page.deleted_at.is_(None),
            Page.status == ChannelStatus.ACTIVE.value,
        )
    )
    return list(rows.scalars())


async def get_config(uow: UnitOfWork, organization_id: uuid.UUID) -> ConfigView:
    async with uow:
        config = (
            await uow.session.execute(
                select(WebhookConfig).where(WebhookConfig.organization_id == organization_id)
            )
        ).scalar_one_or_none()
        pages = await _pages(uow, organization_id)
    chosen = set(config.fields) if config and config.fields else set(PAGE_FIELDS)
    return ConfigView(
        config=config,
        fields={name: name in chosen for name in PAGE_FIELDS},
        pages_subscribed=sum(p.webhook_subscribed for p in pages),
        pages_total=len(pages),
    )


def validate_fields(fields: Any) -> list[str]:
    if not isinstance(fields, dict) or not fields:
        raise InvalidInputError("fields", "must be an object of field names to true/false")
    unknown = sorted(set(fields) - set(PAGE_FIELDS))
    if unknown:
        raise InvalidInputError(f"fields.{unknown[0]}", f"is not one of {', '.join(PAGE_FIELDS)}")
    bad = sorted(k for k, v in fields.items() if not isinstance(v, bool))
    if bad:
        raise InvalidInputError(f"fields.{bad[0]}", "must be true or false")
    chosen = [name for name in PAGE_FIELDS if fields.get(name)]
    if "messages" not in chosen:
        raise InvalidInputError("fields.messages", "metasync cannot work without messages")
    return chosen


async def configure(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    verify_token: str | None,
    expected_verify_token: str,
    fields: Any,
    callback_url: str,
) -> tuple[WebhookConfig, int, int]:
    """Store the chosen fields and subscribe every active Page to them on Meta. Returns the
    config and how many Pages Meta confirmed out of how many were tried."""
    if verify_token is not None and not hmac.compare_digest(
        verify_token.encode(), expected_verify_token.encode()
    ):
        raise InvalidInputError(
            "verifyToken",
            "does not match this deployment's WEBHOOK_VERIFY_TOKEN (one token serves every "
            "organization: Meta calls one callback URL per app)",
        )
    chosen = validate_fields(fields)
    async with uow:
        pages = [
            (p.id, p.meta_page_id, unseal(vault, p)) for p in await _pages(uow, organization_id)
        ]
    confirmed: set[uuid.UUID] = set()
    for page_id, meta_page_id, token in pages:
        if token is None:
            continue
        try:
            await meta.subscribe_page(meta_page_id, token, chosen)
            confirmed.add(page_id)
        except MetaError as exc:
            log.warning("webhook_subscribe_failed", page=meta_page_id, error=str(exc))
    async with uow:
        config = (
            await uow.session.execute(
                select(WebhookConfig).where(WebhookConfig.organization_id == organization_id)
            )
        ).scalar_one_or_none()
        if config is None:
            config = WebhookConfig(id=uuid.uuid4(), organization_id=organization_id)
            uow.session.add(config)
        config.fields, config.objects, config.active = chosen, ["page"], True
        config.callback_url = callback_url
        for page in await _pages(uow, organization_id):
            page.webhook_subscribed = page.id in confirmed
        await uow.commit()
    return config, len(confirmed), len(pages)


async def resubscribe_dropped(
    uow: UnitOfWork, meta: MetaGateway, vault: TokenVault
) -> tuple[int, int]:
    """Ask Meta which active Pages still have this app subscribed; subscribe again those it
    dropped. Returns (checked, resubscribed)."""
    async with uow:
        rows = (
            await uow.session.execute(
                select(Page, WebhookConfig.fields)
                .outerjoin(WebhookConfig, WebhookConfig.organization_id == Page.organization_id)
                .where(Page.deleted_at.is_(None), Page.status == ChannelStatus.ACTIVE.value)
            )
        ).all()
        pages = [(p.id, p.meta_page_id, unseal(vault, p), fields) for p, fields in rows]
    checked = resubscribed = 0
    states: dict[uuid.UUID, bool] = {}
    for page_id, meta_page_id, token, fields in pages:
        if token is None:
            continue
        checked += 1
        try:
            current = await meta.page_subscribed_fields(meta_page_id, token)
            if current is None:
                await meta.subscribe_page(meta_page_id, token, fields or None)
                resubscribed += 1
            states[page_id] = True
        except MetaError as exc:
            log.warning("webhook_subscription_check_failed", page=meta_page_id, error=str(exc))
            states[page_id] = False
    async with uow:
        for page_id, subscribed in states.items():
            page = await uow.session.get(Page, page_id)
            if page is not None:
                page.webhook_subscribed = subscribed
        await uow.commit()
    return checked, resubscribed
