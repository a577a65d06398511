"""Redis (the broker) down: deliveries are still stored and acknowledged, and the sweeper
finds them once it is back."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import timedelta

import httpx
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select

from domain.models import WebhookEvent
from domain.services.webhooks.inbox import unprocessed
from server import Runtime, create_app
from tasks.actors.webhooks import register
from tasks.broker import DramatiqJobQueue
from tests.webhooks.test_receiver import signed


async def test_delivery_is_kept_when_the_broker_is_unreachable(runtime: Runtime) -> None:
    # A real Redis broker whose server is missing (nothing listens on port 1).
    dead = RedisBroker(url="redis://127.0.0.1:1/0")
    register(dead)
    broken = dataclasses.replace(
        runtime, services=dataclasses.replace(runtime.services, jobs=DramatiqJobQueue(dead))
    )
    app = create_app(broken, migrate_on_start=False, run_worker=False, run_scheduler=False)
    body = json.dumps({"object": "page", "entry": [], "n": uuid.uuid4().hex}).encode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
    ) as client:
        response = await client.post("/webhooks/meta", content=body, headers=signed(runtime, body))
    assert response.status_code == 200
    async with runtime.services.session_factory() as session:
        event = (
            await session.execute(select(WebhookEvent).where(WebhookEvent.raw_body == body))
        ).scalar_one()
    assert event.status == "received"
    async with runtime.services.uow() as uow:
        later = runtime.services.clock.now() + timedelta(minutes=1)
        assert event.id in await unprocessed(uow, later)
