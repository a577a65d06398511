"""The scheduled WhatsApp refresh: accounts and templates, the webhooks' fallback."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from domain.services.whatsapp_sync import refresh_every_account
from tasks.broker import actor_registrar
from tasks.runtime import current
from tasks.scheduler import PeriodicJob, periodic

REFRESH_ALL = "refresh_whatsapp_accounts"

periodic(PeriodicJob("whatsapp-6h", REFRESH_ALL, every=timedelta(hours=6)))


async def refresh_whatsapp_accounts() -> None:
    ctx = current()
    await refresh_every_account(ctx.uow(), ctx.meta, ctx.vault, ctx.clock.now())


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    dramatiq.actor(actor_name=REFRESH_ALL, broker=broker, max_retries=3)(refresh_whatsapp_accounts)
