"""The client driven by usage headers: slow down from 80 %, wait or refuse at 100 %, keep the
conversations API at 2 calls/s per Page; shared between clients through Redis."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from graph_client import GraphClient, GraphConfig, RedisLimiter, ThrottledError
from graph_client.limiter import InProcessLimiter, LimiterPolicy, limiter_from_config

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
TOKEN = "EAAGlimitsToken"
PAGE = "659554973897366"


def usage_headers(
    app: float = 0, page_buc: float | None = None, regain: float = 0
) -> dict[str, str]:
    headers = {"X-App-Usage": json.dumps({"call_count": app, "total_time": 1, "total_cputime": 1})}
    if page_buc is not None:
        entry = {
            "type": "pages",
            "call_count": page_buc,
            "total_time": 1,
            "total_cputime": 1,
            "estimated_time_to_regain_access": regain,
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps({PAGE: [entry]})
    return headers


class Meta:
    """Answers every call with the configured usage headers and records when it was called."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.headers: dict[str, str] = {}
        self.calls: list[tuple[float, httpx.Request]] = []
        self.pages: dict[str, dict[str, Any]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((self.clock.now, request))
        body = self.pages.get(request.url.params.get("after", ""), {"id": PAGE, "data": []})
        return httpx.Response(200, json=body, headers=self.headers)


async def test_slows_down_proportionally_from_80_percent(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    meta = Meta(clock)
    client = make_client(meta)
    meta.headers = usage_headers(app=70)
    await client.me(TOKEN)
    await client.me(TOKEN)
    assert clock.sleeps == []
    meta.headers = usage_headers(app=90)
    await client.me(TOKEN)
    await client.me(TOKEN)
    # default: up to 2 s at 100 %, so 90 % → 1 s before the next call
    assert clock.sleeps == pytest.approx([1.0])


async def test_full_usage_refuses_without_calling_when_the_wait_is_long(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    meta = Meta(clock)
    client = make_client(meta)  # rate_limit_max_wait_seconds 30 < block 60
    meta.headers = usage_headers(app=100)
    await client.me(TOKEN)
    with pytest.raises(ThrottledError) as info:
        await client.me(TOKEN)
    assert info.value.retry_after == pytest.approx(60)
    assert len(meta.calls) == 1


async def test_full_usage_waits_when_the_wait_is_short(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    meta = Meta(clock)
    config = GraphConfig(app_id="1", app_secret="s", rate_limit_max_wait_seconds=120)
    client = make_client(meta, config=config)
    meta.headers = usage_headers(app=100)
    await client.me(TOKEN)
    meta.headers = usage_headers(app=10)
    await client.me(TOKEN)
    assert clock.sleeps == pytest.approx([60])
    assert meta.calls[1][0] - meta.calls[0][0] == pytest.approx(60)


async def test_buc_regain_time_holds_only_that_page(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    meta = Meta(clock)
    config = GraphConfig(app_id="1", app_secret="s", rate_limit_max_wait_seconds=600)
    client = make_client(meta, config=config)
    meta.headers = usage_headers(app=5, page_buc=100, regain=2)
    await client.get_page(PAGE, TOKEN)
    meta.headers = {}
    await client.get_page("other-page", TOKEN)
    assert clock.sleeps == []
    await client.get_page(PAGE, TOKEN)
    assert clock.sleeps == pytest.approx([120])


async def test_conversations_are_spaced_to_two_calls_per_second_per_page(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    meta = Meta(clock)
    base = f"https://graph.facebook.com/v25.0/{PAGE}/conversations"
    meta.pages = {
        "": {"data": [{"id": "t_1"}], "paging": {"next": f"{base}?after=2&access_token=X"}},
        "2": {"data": [{"id": "t_2"}], "paging": {"next": f"{base}?after=3"}},
        "3": {"data": [{"id": "t_3"}], "paging": {"cursors": {"after": "3"}}},
    }
    client = make_client(meta)
    ids = [c["id"] async for c in client.conversations(PAGE, TOKEN)]
    assert ids == ["t_1", "t_2", "t_3"]
    ids = [c["id"] async for c in client.conversations(PAGE, TOKEN, folder="page_done")]
    times = [t for t, _ in meta.calls]
    assert len(times) == 6
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.5 - 1e-9 for gap in gaps), gaps
    # 2 calls/s with the 20 % arrival-jitter margin: one call per 0.6 s.
    assert times[-1] - times[0] == pytest.approx(5 * 0.6)

    # Another Page's conversations and other endpoints are not held back by this Page.
    meta.pages = {}
    before = clock.now
    await client.get_page(PAGE, TOKEN)
    [c async for c in client.conversations("another-page", TOKEN)]
    assert clock.now == before


async def test_a_conversations_613_waits_one_window_and_holds_only_that_edge(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    """Jitter can bunch spaced calls on arrival: Meta's per-second 613 is then waited out
    (one rolling second) and the call retried, without holding the Page for a minute."""
    meta = Meta(clock)
    rate_limited = {"error": {"message": "(#613) Calls to this api have exceeded the rate limit.",
                              "type": "OAuthException", "code": 613}}  # fmt: skip
    answers = iter([httpx.Response(400, json=rate_limited)])

    def handler(request: httpx.Request) -> httpx.Response:
        if "/conversations" in request.url.path:
            answer = next(answers, None)
            if answer is not None:
                meta.calls.append((clock.now, request))
                return answer
        return meta(request)

    client = make_client(handler)
    meta.pages = {"": {"data": [{"id": "t_1"}], "paging": {"cursors": {"after": "1"}}}}
    ids = [c["id"] async for c in client.conversations(PAGE, TOKEN)]
    assert ids == ["t_1"]
    [first, retried] = [t for t, _ in meta.calls]
    assert retried - first == pytest.approx(1.6)  # one second plus the 0.6 s spacing

    before = clock.now
    await client.get_page(PAGE, TOKEN)  # the Page's other calls were never held
    assert clock.now == before


async def test_clients_sharing_a_limiter_share_holds(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    shared = InProcessLimiter(LimiterPolicy(), clock=clock)
    meta_a, meta_b = Meta(clock), Meta(clock)
    a = make_client(meta_a, limiter=shared)
    b = make_client(meta_b, limiter=shared)
    meta_a.headers = usage_headers(app=100)
    await a.me(TOKEN)
    with pytest.raises(ThrottledError):
        await b.me(TOKEN)
    assert meta_b.calls == []


@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set; needs a real Redis")
async def test_redis_limiter_shares_usage_and_spacing_between_clients(
    make_client: Callable[..., GraphClient], clock: Any
) -> None:
    assert TEST_REDIS_URL is not None
    prefix = f"metasync:graph:test:{uuid.uuid4().hex}"
    limiters = [
        RedisLimiter.from_url(TEST_REDIS_URL, LimiterPolicy(), clock=clock, prefix=prefix)
        for _ in range(2)
    ]
    try:
        meta_a, meta_b = Meta(clock), Meta(clock)
        a = make_client(meta_a, limiter=limiters[0])
        b = make_client(meta_b, limiter=limiters[1])
        # Spacing: "two processes" reading the same Page's conversations take turns.
        [c async for c in a.conversations(PAGE, TOKEN)]
        [c async for c in b.conversations(PAGE, TOKEN)]
        assert meta_b.calls[0][0] - meta_a.calls[0][0] == pytest.approx(0.6)
        # Usage: a full reading seen by one holds the other.
        meta_a.headers = usage_headers(app=100)
        await a.me(TOKEN)
        with pytest.raises(ThrottledError):
            await b.me(TOKEN)
        keys = [k async for k in limiters[0]._redis.scan_iter(match=f"{prefix}:*")]
        assert f"{prefix}:usage:app" in keys
    finally:
        keys = [k async for k in limiters[0]._redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await limiters[0]._redis.delete(*keys)
        for limiter in limiters:
            await limiter.aclose()


async def test_limiter_from_config() -> None:
    local = limiter_from_config(GraphConfig(app_id="1", app_secret="s"))
    assert isinstance(local, InProcessLimiter)
    shared = limiter_from_config(
        GraphConfig(app_id="1", app_secret="s", redis_url="redis://127.0.0.1:6379/15")
    )
    assert isinstance(shared, RedisLimiter)
    await shared.aclose()
