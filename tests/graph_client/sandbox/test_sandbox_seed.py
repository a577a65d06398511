"""Deterministic datasets of any size, and paging through them."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sandbox_helpers import APP_ID, APP_SECRET, FakeClock, Graph

from graph_client.sandbox import Sandbox, SandboxConfig, SeedSpec, create_sandbox_app


def _fresh(clock: FakeClock) -> Sandbox:
    return create_sandbox_app(
        SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, clock=clock, tick_interval_seconds=0)
    )


def _ids(sandbox: Sandbox) -> list[str]:
    return sorted(sandbox.store.objects)


async def test_same_seed_same_ids_tokens_and_texts(clock: FakeClock) -> None:
    first, second, other = _fresh(clock), _fresh(clock), _fresh(clock)
    spec = SeedSpec(seed=7, pages=3, conversations_per_page=5)
    info_a, info_b = first.seed(spec), second.seed(spec)
    assert _ids(first) == _ids(second)
    assert info_a["demo_user"] == info_b["demo_user"]
    assert info_a["pages"] == info_b["pages"]
    conv_a = first.store.pages()[0].conversations[0]
    conv_b = second.store.pages()[0].conversations[0]
    texts_a = [m.text for m in first.store.messages_of(conv_a)]
    assert texts_a == [m.text for m in second.store.messages_of(conv_b)]
    other.seed(SeedSpec(seed=8, pages=3, conversations_per_page=5))
    assert not set(_ids(first)) & set(_ids(other)) - {APP_ID}


def test_demo_dataset(sandbox: Sandbox, info: dict[str, Any]) -> None:
    assert len(info["pages"]) >= 2
    assert any(p["instagram_business_account"] for p in info["pages"])
    assert any(p["business_owned"] and not p["in_me_accounts"] for p in info["pages"])
    statuses = {t["status"] for w in info["whatsapp_business_accounts"] for t in w["templates"]}
    assert {"APPROVED", "PENDING"} <= statuses
    assert info["whatsapp_business_accounts"][0]["phone_numbers"]
    counts = [c.seeded_count for p in sandbox.store.pages() for c in p.conversations]
    assert any(n > 20 for n in counts)
    people = [
        sandbox.store.person(c.person_id) for p in sandbox.store.pages() for c in p.conversations
    ]
    assert {p.platform for p in people if p} == {"messenger", "instagram"}
    assert all(p and " " in p.name for p in people)
    assert info["demo_user"]["access_token"].startswith("EAA")
    assert info["dialog_url"] == "http://testserver/sandbox/v25.0/dialog/oauth"


async def test_big_datasets_are_cheap_and_lazy(clock: FakeClock) -> None:
    sandbox = _fresh(clock)
    started = time.perf_counter()
    info = sandbox.seed(
        SeedSpec(
            pages=2,
            instagram_accounts=0,
            conversations_per_page=1000,
            messages_per_conversation=25,
            posts_per_page=200,
        )
    )
    assert time.perf_counter() - started < 2.0
    assert info["counts"]["conversations"] == 2000
    assert info["counts"]["messages"] == 50_000
    assert all(c.messages is None for p in sandbox.store.pages() for c in p.conversations)
    page = info["pages"][0]
    token = page["access_token"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox), base_url="http://t"
    ) as c:
        graph = Graph(c, token)
        response = await graph.get(
            f"/v25.0/{page['id']}/conversations",
            fields="messages.limit(20){message}",
            folder="inbox",
            limit=25,
        )
    assert len(response.json()["data"]) == 25
    materialized = sum(
        1 for p in sandbox.store.pages() for c in p.conversations if c.messages is not None
    )
    assert materialized == 25  # only the conversations that were read


async def test_paging_to_the_last_page(
    sandbox: Sandbox, http: httpx.AsyncClient, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    first = await graph.get(f"/v25.0/{page['id']}/feed", token=page_token, limit=4, fields="id")
    body = first.json()
    seen = [p["id"] for p in body["data"]]
    assert "previous" not in body["paging"]
    cursor = body["paging"]["cursors"]["after"]
    assert cursor.startswith("QVFI")  # opaque base64, like Meta's
    while "next" in body["paging"]:
        next_url = body["paging"]["next"]
        assert next_url.startswith("http://testserver/sandbox/v25.0/")
        assert "access_token=" in next_url
        # The next URL repeats the token (not the proof): a server-side app adds its proof.
        unproved = await http.get(next_url)
        assert unproved.json()["error"]["code"] == 100
        url = httpx.URL(next_url)
        params = {k: v for k, v in url.params.items() if k != "access_token"}
        response = await graph.get(url.path.removeprefix("/sandbox"), token=page_token, **params)
        body = response.json()
        seen.extend(p["id"] for p in body["data"])
        assert "cursors" in body["paging"]
    assert len(seen) == len(set(seen)) == page["posts"]
    assert "previous" in body["paging"]


async def test_invalid_cursor(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    response = await graph.get(f"/v25.0/{page['id']}/feed", token=page_token, after="garbage")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
