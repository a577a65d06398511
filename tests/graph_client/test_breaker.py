"""Circuit breaker per host: closed → open after N transient failures → half-open after the
reset time → closed on a successful trial (or open again on a failed one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from graph_client import CircuitBreaker, CircuitOpenError, GraphConfig, TransientError
from graph_client.errors import InvalidParameterError

TOKEN = "EAAGbreakerToken"


def test_opens_after_threshold_consecutive_failures(clock: Any) -> None:
    breaker = CircuitBreaker("graph.facebook.com", threshold=3, reset_seconds=30, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.before_call()
    breaker.record_success()  # a success resets the count
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError) as info:
        breaker.before_call()
    assert info.value.retry_after == pytest.approx(30)
    assert info.value.host == "graph.facebook.com"


def test_half_open_allows_one_trial(clock: Any) -> None:
    breaker = CircuitBreaker("h", threshold=1, reset_seconds=30, clock=clock)
    breaker.record_failure()
    clock.now += 29.9
    assert breaker.state == "open"
    clock.now += 0.1
    assert breaker.state == "half_open"
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # a second caller while the trial is in flight
    breaker.record_failure()
    assert breaker.state == "open"  # failed trial: open again for a full period
    clock.now += 30
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"
    breaker.before_call()


def test_released_trial_can_be_retaken(clock: Any) -> None:
    breaker = CircuitBreaker("h", threshold=1, reset_seconds=1, clock=clock)
    breaker.record_failure()
    clock.now += 1
    breaker.before_call()
    breaker.release()
    breaker.before_call()


async def test_client_breaker_opens_and_stops_calling(
    make_client: Callable[..., Any], clock: Any
) -> None:
    calls: list[httpx.Request] = []
    status = {"code": 503}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if status["code"] == 200:
            return httpx.Response(200, json={"id": "1", "name": "Paired Socks"})
        return httpx.Response(status["code"], text="unavailable")

    config = GraphConfig(app_id="1", app_secret="s", max_retries=0, breaker_failure_threshold=3)
    client = make_client(handler, config=config)
    assert client.breaker_states() == {}
    for _ in range(3):
        with pytest.raises(TransientError):
            await client.get_page("1", TOKEN)
    assert client.breaker_states() == {"graph.facebook.com": "open"}

    with pytest.raises(CircuitOpenError):
        await client.get_page("1", TOKEN)
    assert len(calls) == 3  # no request while open

    clock.now += config.breaker_reset_seconds
    assert client.breaker_states() == {"graph.facebook.com": "half_open"}
    status["code"] = 200
    assert (await client.get_page("1", TOKEN))["name"] == "Paired Socks"
    assert client.breaker_states() == {"graph.facebook.com": "closed"}


async def test_client_errors_do_not_open_the_breaker(make_client: Callable[..., Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "(#100) bad", "code": 100}})

    config = GraphConfig(app_id="1", app_secret="s", breaker_failure_threshold=2)
    client = make_client(handler, config=config)
    for _ in range(5):
        with pytest.raises(InvalidParameterError):
            await client.get_page("1", TOKEN)
    assert client.breaker_states() == {"graph.facebook.com": "closed"}


async def test_network_errors_count_as_failures(make_client: Callable[..., Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    config = GraphConfig(app_id="1", app_secret="s", max_retries=0, breaker_failure_threshold=2)
    client = make_client(handler, config=config)
    for _ in range(2):
        with pytest.raises(TransientError):
            await client.me(TOKEN)
    with pytest.raises(CircuitOpenError):
        await client.me(TOKEN)
