"""Fixtures for the Graph client tests: payload samples, a fake clock, MockTransport clients.

Tests get everything through fixtures (no ``from conftest import``: another conftest lives in
``sandbox/`` and module names would collide).

Only Meta is faked (by ``httpx.MockTransport`` replaying the real samples in
``shared/meta-payloads``); the client, limiter, breaker and retry code run for real.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_client import GraphClient, GraphConfig
from graph_client.limiter import Limiter

PAYLOADS = Path(__file__).resolve().parents[2].parent / "shared" / "meta-payloads"

APP_ID = "1234567890"
APP_SECRET = "test-app-secret"

PayloadLoader = Callable[[str], Any]


class FakeClock:
    """A clock and a sleep that advances it, so waits are instant and measurable."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def payload() -> PayloadLoader:
    """``payload("graph_error_....json")``: a sample from shared/meta-payloads, decoded."""

    def load(name: str) -> Any:
        return json.loads((PAYLOADS / name).read_text())

    return load


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def graph_config() -> GraphConfig:
    return GraphConfig(app_id=APP_ID, app_secret=APP_SECRET)


Handler = Callable[[httpx.Request], httpx.Response]
ClientFactory = Callable[..., GraphClient]


@pytest.fixture
async def make_client(graph_config: GraphConfig, clock: FakeClock) -> AsyncIterator[ClientFactory]:
    """``make_client(handler, config=..., limiter=..., **kwargs)``: a GraphClient over a
    MockTransport, on the fake clock, closed after the test."""
    clients: list[GraphClient] = []

    def factory(
        handler: Handler,
        *,
        config: GraphConfig | None = None,
        limiter: Limiter | None = None,
        **kwargs: Any,
    ) -> GraphClient:
        kwargs.setdefault("rand", lambda: 0.5)
        client = GraphClient(
            config or graph_config,
            transport=httpx.MockTransport(handler),
            limiter=limiter,
            sleep=clock.sleep,
            clock=clock,
            **kwargs,
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
