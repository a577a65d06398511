"""Keeping WhatsApp accounts current: numbers, quality rating, limit tier, profile, and
templates (the scheduled fallback for missed webhooks)."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy import select

from domain.meta import MetaError, MetaGateway
from domain.models import ChannelStatus, WhatsAppAccount
from domain.services.whatsapp_templates import sync_templates, waba_token
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)


async def refresh_account(
    uow: UnitOfWork, meta: MetaGateway, vault: TokenVault, account_id: uuid.UUID, now: datetime
) -> None:
    """Re-read the account from Meta, then its templates."""
    async with uow:
        account = await uow.session.get(WhatsAppAccount, account_id)
        if account is None or account.deleted_at is not None:
            return
        token = await waba_token(uow, vault, account)
        waba, org = account.waba_id, account.organization_id
    info = await meta.whatsapp_account(waba, token)
    async with uow:
        account = await uow.session.get(WhatsAppAccount, account_id)
        assert account is not None
        account.phone_numbers = list(info.phone_numbers)
        account.business_profile = dict(info.business_profile) or account.business_profile
        account.quality_rating = info.quality_rating
        tiers = [
            p["messaging_limit_tier"] for p in info.phone_numbers if p.get("messaging_limit_tier")
        ]
        account.messaging_limit_tier = tiers[0] if tiers else account.messaging_limit_tier
        account.last_synced_at = now
        await uow.commit()
    await sync_templates(uow, meta, vault, organization_id=org, account_id=account_id, now=now)


async def refresh_every_account(
    uow: UnitOfWork, meta: MetaGateway, vault: TokenVault, now: datetime
) -> int:
    """Refresh each active account; one failing (token, Meta) does not stop the others."""
    async with uow:
        ids = list(
            (
                await uow.session.execute(
                    select(WhatsAppAccount.id).where(
                        WhatsAppAccount.deleted_at.is_(None),
                        WhatsAppAccount.status == ChannelStatus.ACTIVE.value,
                    )
                )
            ).scalars()
        )
    done = 0
    for account_id in ids:
        try:
            await refresh_account(uow, meta, vault, account_id, now)
            done += 1
        except MetaError as exc:
            log.warning("whatsapp_refresh_failed", account=str(account_id), error=str(exc))
    return done
