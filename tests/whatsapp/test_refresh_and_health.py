"""The scheduled refresh keeps accounts and templates current; /api/health reports a RED
quality rating or a lost number."""

from __future__ import annotations

from sqlalchemy import update

from domain.models import WhatsAppAccount
from domain.services.whatsapp_sync import refresh_every_account
from tests.whatsapp.conftest import WhatsAppApi
from tests.whatsapp.test_templates_rest import _data


async def test_refresh_syncs_templates_and_health_reports_red(wa: WhatsAppApi) -> None:
    services = wa.server.runtime.services
    assert (
        await refresh_every_account(
            services.uow(), services.meta, services.vault, services.clock.now()
        )
        >= 1
    )
    listed = _data(await wa.call("GET", "/api/meta/whatsapp/templates?limit=100"))
    assert listed["pagination"]["total"] >= 1
    account = await wa.account()
    assert account.last_synced_at is not None
    assert account.phone_numbers

    health = (await wa.http.get("/api/health")).json()
    assert health["checks"]["whatsapp"]["redQuality"] == 0
    async with services.session_factory() as session:
        await session.execute(
            update(WhatsAppAccount)
            .where(WhatsAppAccount.id == account.id)
            .values(quality_rating="RED")
        )
        await session.commit()
    check = (await wa.http.get("/api/health")).json()["checks"]["whatsapp"]
    assert check["status"] == "warning"
    assert check["redQuality"] == 1
