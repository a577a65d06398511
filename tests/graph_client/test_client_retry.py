"""Retries: backoff with jitter for transient failures only; rate limits wait when Meta says
it is short; 190 is never retried and reaches the hook as a fingerprint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from graph_client import (
    GraphClient,
    GraphConfig,
    InvalidParameterError,
    MediaNotReadyError,
    PermissionDeniedError,
    RateLimitedError,
    ThrottledError,
    TokenInvalidError,
    TransientError,
    token_fingerprint,
)
from graph_client.retry import backoff_delay

TOKEN = "EAAGretryTestToken"
PAGE = "659554973897366"

Script = list[httpx.Response | Exception]


def scripted(script: Script, requests: list[httpx.Request]) -> Callable[..., httpx.Response]:
    """A handler answering from ``script`` in order (the last entry repeats)."""
    answers: Iterator[httpx.Response | Exception] = iter(script)
    last: list[httpx.Response | Exception] = [script[-1]]

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = next(answers, last[0])
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def ok(body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body or {"id": PAGE, "name": "Paired Socks"})


def meta_error(
    code: int, status: int = 400, headers: dict[str, str] | None = None, **extra: Any
) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"message": f"(#{code}) x", "code": code, **extra}}, headers=headers
    )


def buc(minutes: float) -> dict[str, str]:
    entry = {"type": "pages", "call_count": 100, "total_cputime": 10, "total_time": 10}
    entry["estimated_time_to_regain_access"] = minutes  # type: ignore[assignment]
    return {"X-Business-Use-Case-Usage": json.dumps({PAGE: [entry]})}


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert backoff_delay(0, 0.5, 30, rand=lambda: 0.0) == 0.25
    assert backoff_delay(0, 0.5, 30, rand=lambda: 1.0) == 0.5
    assert backoff_delay(3, 0.5, 30, rand=lambda: 0.0) == 2.0
    assert backoff_delay(3, 0.5, 30, rand=lambda: 1.0) == 4.0
    assert backoff_delay(20, 0.5, 30, rand=lambda: 1.0) == 30.0
    assert backoff_delay(20, 0.5, 30, rand=lambda: 0.0) == 15.0


async def test_transient_errors_are_retried_with_backoff(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    requests: list[httpx.Request] = []
    client = make_client(
        scripted([httpx.Response(500, text="oops"), meta_error(2, status=503), ok()], requests)
    )
    page = await client.get_page(PAGE, TOKEN)
    assert page["name"] == "Paired Socks"
    assert len(requests) == 3
    # rand = 0.5 (conftest): attempt 0 → 0.25 + 0.125, attempt 1 → 0.5 + 0.25.
    assert clock.sleeps == pytest.approx([0.375, 0.75])


async def test_retries_are_bounded(make_client: Callable[..., GraphClient], clock: Any) -> None:
    requests: list[httpx.Request] = []
    client = make_client(scripted([meta_error(1, status=500)], requests))
    with pytest.raises(TransientError) as info:
        await client.get_page(PAGE, TOKEN)
    assert info.value.code == 1
    assert len(requests) == 4  # 1 + max_retries (3)
    assert len(clock.sleeps) == 3
    assert clock.sleeps == sorted(clock.sleeps)


async def test_is_transient_flag_is_retried(make_client: Callable[..., GraphClient]) -> None:
    requests: list[httpx.Request] = []
    client = make_client(scripted([meta_error(12345, is_transient=True), ok()], requests))
    await client.get_page(PAGE, TOKEN)
    assert len(requests) == 2


@pytest.mark.parametrize(
    ("response", "cls"),
    [
        (meta_error(200, status=403), PermissionDeniedError),
        (meta_error(10, status=403), PermissionDeniedError),
        (meta_error(100), InvalidParameterError),
    ],
)
async def test_final_errors_are_not_retried(
    make_client: Callable[..., GraphClient],
    clock: Any,
    response: httpx.Response,
    cls: type[Exception],
) -> None:
    requests: list[httpx.Request] = []
    client = make_client(scripted([response, ok()], requests))
    with pytest.raises(cls):
        await client.get_page(PAGE, TOKEN)
    assert len(requests) == 1
    assert clock.sleeps == []


async def test_token_invalid_is_never_retried_and_reaches_the_hook(
    make_client: Callable[..., GraphClient], payload: Callable[[str], Any], clock: Any
) -> None:
    seen: list[tuple[str, TokenInvalidError]] = []

    async def on_token_invalid(fingerprint: str, error: TokenInvalidError) -> None:
        seen.append((fingerprint, error))

    requests: list[httpx.Request] = []
    body = payload("graph_error_190_463_session_expired_real.json")
    client = make_client(
        scripted([httpx.Response(400, json=body), ok()], requests),
        on_token_invalid=on_token_invalid,
    )
    with pytest.raises(TokenInvalidError) as info:
        await client.get_page(PAGE, TOKEN)
    assert len(requests) == 1
    assert clock.sleeps == []
    err = info.value
    assert (err.code, err.subcode) == (190, 463)
    assert err.token_fingerprint == token_fingerprint(TOKEN)
    assert seen == [(token_fingerprint(TOKEN), err)]
    for text in (str(err), repr(err), err.token_fingerprint):
        assert TOKEN not in text


async def test_a_failing_hook_does_not_hide_the_error(
    make_client: Callable[..., GraphClient],
) -> None:
    async def broken_hook(fingerprint: str, error: TokenInvalidError) -> None:
        raise RuntimeError("db down")

    client = make_client(
        scripted([meta_error(190, error_subcode=467)], []), on_token_invalid=broken_hook
    )
    with pytest.raises(TokenInvalidError):
        await client.me(TOKEN)


async def test_short_rate_limit_waits_then_retries(
    make_client: Callable[..., GraphClient], payload: Callable[[str], Any], clock: Any
) -> None:
    body = payload("graph_error_80001_page_buc_rate_limit_docs.json")
    requests: list[httpx.Request] = []
    client = make_client(
        scripted([httpx.Response(400, json=body, headers=buc(0.25)), ok()], requests)
    )
    await client.get_page(PAGE, TOKEN)
    assert len(requests) == 2
    assert clock.sleeps == pytest.approx([15])  # 0.25 min, slept once


async def test_long_rate_limit_raises_and_holds_the_page(
    make_client: Callable[..., GraphClient], payload: Callable[[str], Any], clock: Any
) -> None:
    body = payload("graph_error_80001_page_buc_rate_limit_docs.json")
    requests: list[httpx.Request] = []
    client = make_client(
        scripted([httpx.Response(400, json=body, headers=buc(19)), ok()], requests)
    )
    with pytest.raises(RateLimitedError) as info:
        await client.get_page(PAGE, TOKEN)
    assert info.value.retry_after == 19 * 60
    assert len(requests) == 1
    assert clock.sleeps == []

    # The next call to that Page does not reach Meta: our limiter holds it.
    with pytest.raises(ThrottledError) as held:
        await client.get_page(PAGE, TOKEN)
    assert held.value.retry_after == pytest.approx(19 * 60)
    assert len(requests) == 1
    # Another Page is not held.
    await client.get_page("111", TOKEN)
    assert len(requests) == 2


async def test_rate_limit_without_estimate_raises_at_once(
    make_client: Callable[..., GraphClient], payload: Callable[[str], Any]
) -> None:
    body = payload("graph_error_32_page_rate_limit_docs.json")
    requests: list[httpx.Request] = []
    client = make_client(scripted([httpx.Response(400, json=body), ok()], requests))
    with pytest.raises(RateLimitedError) as info:
        await client.get_page(PAGE, TOKEN)
    assert info.value.retry_after is None
    assert len(requests) == 1


async def test_non_idempotent_post_is_not_repeated_when_it_may_have_been_applied(
    make_client: Callable[..., GraphClient],
) -> None:
    requests: list[httpx.Request] = []
    client = make_client(scripted([httpx.Response(502, text="Bad Gateway"), ok()], requests))
    with pytest.raises(TransientError) as info:
        await client.create_feed_post(PAGE, TOKEN, message="hello")
    assert info.value.ambiguous
    assert len(requests) == 1

    requests.clear()
    timeout = httpx.ReadTimeout("read timed out")
    client = make_client(scripted([timeout, ok({"id": "1"})], requests))
    with pytest.raises(TransientError):
        await client.create_feed_post(PAGE, TOKEN, message="hello")
    assert len(requests) == 1


async def test_non_idempotent_post_is_repeated_when_it_surely_was_not_applied(
    make_client: Callable[..., GraphClient],
) -> None:
    requests: list[httpx.Request] = []
    refused = httpx.ConnectError("connection refused")
    client = make_client(
        scripted([refused, meta_error(2, status=503), ok({"id": f"{PAGE}_9"})], requests)
    )
    created = await client.create_feed_post(PAGE, TOKEN, message="hello")
    assert created["id"] == f"{PAGE}_9"
    assert len(requests) == 3


async def test_idempotent_calls_are_repeated_after_a_timeout(
    make_client: Callable[..., GraphClient],
) -> None:
    requests: list[httpx.Request] = []
    client = make_client(scripted([httpx.ReadTimeout("slow"), ok()], requests))
    await client.get_page(PAGE, TOKEN)
    assert len(requests) == 2


async def test_media_not_ready_is_retried_on_publish(
    make_client: Callable[..., GraphClient], payload: Callable[[str], Any]
) -> None:
    body = payload("ig_error_9007_2207027_media_not_ready_real.json")
    requests: list[httpx.Request] = []
    client = make_client(
        scripted([httpx.Response(400, json=body), ok({"id": "17920238422030506"})], requests)
    )
    published = await client.ig_media_publish("1784", TOKEN, "17889615691921648")
    assert published == {"id": "17920238422030506"}
    assert len(requests) == 2

    requests.clear()
    client = make_client(scripted([httpx.Response(400, json=body)], requests))
    with pytest.raises(MediaNotReadyError):
        await client.ig_media_publish("1784", TOKEN, "17889615691921648")
    assert len(requests) == 4


async def test_network_error_message_is_redacted(make_client: Callable[..., GraphClient]) -> None:
    config = GraphConfig(app_id="1", app_secret="s", max_retries=0)
    client = make_client(scripted([httpx.ConnectError("refused")], []), config=config)
    with pytest.raises(TransientError) as info:
        await client.exchange_long_lived("EAAGshortSecret")
    text = str(info.value) + repr(info.value)
    assert "EAAGshortSecret" not in text
    assert "oauth/access_token" in text
