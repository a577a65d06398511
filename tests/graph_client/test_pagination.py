"""Cursor pagination: follow ``paging.next``, stop when it is absent (even with cursors)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx

from graph_client.pagination import next_request_url, next_url

TOKEN = "EAAGpagingToken"
PAGE_ID = "659554973897366"
NEXT = (
    f"https://graph.facebook.com/v25.0/{PAGE_ID}/feed?access_token=EAAGleakedInNext"
    "&fields=id%2Cmessage&limit=3&after=QVFIUAFTER"
)


def test_next_url() -> None:
    assert next_url({"data": [], "paging": {"cursors": {"after": "x"}}}) is None
    assert next_url({"data": []}) is None
    assert next_url({"paging": {"next": "https://x/y"}}) == "https://x/y"


def test_next_request_url_drops_credentials_and_keeps_our_host() -> None:
    url = next_request_url(
        "https://evil.example:8443/v25.0/1/feed?access_token=T&appsecret_proof=P&after=C&limit=3",
        "https://graph.facebook.com/v25.0",
    )
    assert url.host == "graph.facebook.com"
    assert url.scheme == "https"
    assert url.port is None
    assert url.path == "/v25.0/1/feed"
    assert dict(url.params) == {"after": "C", "limit": "3"}


def test_next_request_url_keeps_a_mount_prefix() -> None:
    url = next_request_url(
        "http://testserver/sandbox/v25.0/1/conversations?after=C&access_token=T",
        "http://testserver/sandbox/v25.0",
    )
    assert str(url) == "http://testserver/sandbox/v25.0/1/conversations?after=C"


async def test_paginate_follows_next_and_stops_on_the_real_last_page(
    make_client: Callable[..., Any], payload: Callable[[str], Any]
) -> None:
    last_page = payload("graph_page_feed_last_page_no_next_real_probe_v25.json")
    first_page = {
        "data": [{"id": f"{PAGE_ID}_1", "message": "first"}],
        "paging": {"cursors": {"before": "B", "after": "QVFIUAFTER"}, "next": NEXT},
    }
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=last_page if "after" in request.url.params else first_page)

    client = make_client(handler)
    items = [
        item
        async for item in client.paginate(
            f"{PAGE_ID}/feed", TOKEN, params={"fields": "id,message", "limit": 3}
        )
    ]
    assert [i["id"] for i in items] == [f"{PAGE_ID}_1", last_page["data"][0]["id"]]
    assert len(requests) == 2  # the last page has cursors but no next: no third call
    second = requests[1]
    assert second.url.path == f"/v25.0/{PAGE_ID}/feed"
    assert second.url.params["after"] == "QVFIUAFTER"
    assert "access_token" not in second.url.params
    assert "EAAGleakedInNext" not in str(second.url)
    assert second.headers["authorization"] == f"Bearer {TOKEN}"
    assert "appsecret_proof" in second.url.params


async def test_me_accounts_single_page_with_cursors(
    make_client: Callable[..., Any], payload: Callable[[str], Any]
) -> None:
    sample = payload("graph_me_accounts_real_probe_v25.json")
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=sample)

    client = make_client(handler)
    pages = [p async for p in client.me_accounts(TOKEN)]
    assert len(requests) == 1
    assert requests[0].url.path == "/v25.0/me/accounts"
    assert set(requests[0].url.params["fields"].split(",")) >= {
        "id",
        "name",
        "access_token",
        "category",
        "tasks",
    }
    assert pages == sample["data"]
    assert pages[0]["tasks"][0] == "MANAGE"


async def test_empty_accounts(
    make_client: Callable[..., Any], payload: Callable[[str], Any]
) -> None:
    sample = payload("graph_me_accounts_empty_real_probe_v25.json")
    client = make_client(lambda request: httpx.Response(200, json=sample))
    assert [p async for p in client.me_accounts(TOKEN)] == []


async def test_follow_edge_pages_an_embedded_messages_edge(
    make_client: Callable[..., Any], payload: Callable[[str], Any], clock: Any
) -> None:
    conversation = copy.deepcopy(
        payload("graph_page_conversations_participants_messages_docs.json")["data"][0]
    )
    conversation["messages"]["paging"] = {
        "cursors": {"after": "M2"},
        "next": "https://graph.facebook.com/v25.0/t_10224/messages?access_token=X&after=M2",
    }
    older = {"data": [{"id": "m_old", "message": "older"}], "paging": {"cursors": {"after": "M3"}}}
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=older)

    client = make_client(handler)
    messages = [m async for m in client.follow_edge(conversation["messages"], TOKEN)]
    assert [m["id"] for m in messages] == ["m_MeS2...", "m_Nl1...", "m_old"]
    assert len(requests) == 1
    assert requests[0].url.path == "/v25.0/t_10224/messages"
    assert "access_token" not in requests[0].url.params


async def test_max_pages_and_a_looping_server(make_client: Callable[..., Any]) -> None:
    looping = {
        "data": [{"id": "1"}],
        "paging": {"next": "https://graph.facebook.com/v25.0/x?after=A"},
    }
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=looping)

    client = make_client(handler)
    assert len([i async for i in client.paginate("x", TOKEN, max_pages=1)]) == 1
    assert len(requests) == 1
    requests.clear()
    # The same next URL again: stop instead of looping forever.
    assert len([i async for i in client.paginate("x", TOKEN)]) == 2
    assert len(requests) == 2
