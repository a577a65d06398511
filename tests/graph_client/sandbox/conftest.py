"""Fixtures for the Meta sandbox: a seeded sandbox on a fake clock, mounted at /sandbox, with a
webhook receiver it delivers to in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import (
    APP_ID,
    APP_SECRET,
    CALLBACK,
    VERIFY_TOKEN,
    FakeClock,
    Graph,
    Receiver,
)
from starlette.applications import Starlette
from starlette.routing import Mount

from graph_client.sandbox import Sandbox, SandboxConfig, create_sandbox_app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def sandbox(clock: FakeClock, receiver: Receiver) -> AsyncIterator[Sandbox]:
    config = SandboxConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        base_path="/sandbox",
        public_base_url="http://testserver",
        container_ready_seconds=5,
        template_review_seconds=30,
        webhook_callback_url=CALLBACK,
        webhook_verify_token=VERIFY_TOKEN,
        webhook_transport=httpx.ASGITransport(app=receiver.app()),
        webhook_retry_delays=(0.001, 0.002, 0.004),
        clock=clock,
        tick_interval_seconds=0,
    )
    sb = create_sandbox_app(config)
    sb.seed_demo()
    yield sb
    await sb.aclose()


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sandbox mounted at /sandbox, as the app mounts it."""
    host = Starlette(routes=[Mount("/sandbox", app=sandbox)])
    transport = httpx.ASGITransport(app=host)
    base_url = "http://testserver/sandbox"
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()


@pytest.fixture
def graph(http: httpx.AsyncClient, info: dict[str, Any]) -> Graph:
    return Graph(http, info["demo_user"]["access_token"])


@pytest.fixture
def page(info: dict[str, Any]) -> dict[str, Any]:
    """The demo's Page with an Instagram account (in /me/accounts)."""
    return next(p for p in info["pages"] if p["instagram_business_account"])


@pytest.fixture
def page_token(page: dict[str, Any]) -> str:
    return str(page["access_token"])
