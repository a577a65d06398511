"""Every GraphClient method against the sandbox (the fake Meta in graph_client/sandbox),
mounted at /sandbox and reached through httpx.ASGITransport, on one fake clock shared by the
client (its waits) and the sandbox (its timers and rate limits)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from graph_client import (
    GraphClient,
    GraphConfig,
    InvalidParameterError,
    MediaNotReadyError,
    ThrottledError,
    TokenInvalidError,
    token_fingerprint,
)
from graph_client.sandbox import Sandbox, SandboxConfig, create_sandbox_app

APP_ID = "1234567890123"
APP_SECRET = "sandbox-client-secret"
ROOT = "http://testserver/sandbox"


@pytest.fixture
def clock(clock: Any) -> Any:
    clock.now = 1_788_600_000.0  # the sandbox needs a realistic Unix time
    return clock


@pytest.fixture
async def sandbox(clock: Any) -> AsyncIterator[Sandbox]:
    config = SandboxConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        base_path="/sandbox",
        public_base_url="http://testserver",
        container_ready_seconds=5,
        template_review_seconds=30,
        clock=clock,
        tick_interval_seconds=0,
    )
    sb = create_sandbox_app(config)
    sb.seed_demo()
    yield sb
    await sb.aclose()


@pytest.fixture
def transport(sandbox: Sandbox) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=Starlette(routes=[Mount("/sandbox", app=sandbox)]))


@pytest.fixture
async def graph(transport: httpx.ASGITransport, clock: Any) -> AsyncIterator[GraphClient]:
    config = GraphConfig(app_id=APP_ID, app_secret=APP_SECRET, graph_url=ROOT)
    async with GraphClient(
        config, transport=transport, sleep=clock.sleep, clock=clock, rand=lambda: 0.5
    ) as client:
        yield client


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()


@pytest.fixture
def user_token(info: dict[str, Any]) -> str:
    return str(info["demo_user"]["access_token"])


@pytest.fixture
def page(info: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in info["pages"] if p["instagram_business_account"])


@pytest.fixture
def page_id(page: dict[str, Any]) -> str:
    return str(page["id"])


@pytest.fixture
def page_token(page: dict[str, Any]) -> str:
    return str(page["access_token"])


@pytest.fixture
def ig_id(page: dict[str, Any]) -> str:
    return str(page["instagram_business_account"])


@pytest.fixture
def waba(info: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = info["whatsapp_business_accounts"][0]
    return result


@pytest.fixture
def phone_id(waba: dict[str, Any]) -> str:
    return str(waba["phone_numbers"][0]["id"])


# --- login and tokens -------------------------------------------------------------------------


async def test_me_and_accounts(graph: GraphClient, user_token: str, info: dict[str, Any]) -> None:
    me = await graph.me(user_token)
    assert me == {"id": info["demo_user"]["id"], "name": info["demo_user"]["name"]}
    accounts = [a async for a in graph.me_accounts(user_token)]
    expected = {p["id"] for p in info["pages"] if p["in_me_accounts"]}
    assert {a["id"] for a in accounts} == expected
    for account in accounts:
        assert account["access_token"]
        assert "MESSAGING" in account.get("tasks", [])


async def test_debug_token(graph: GraphClient, user_token: str, sandbox: Sandbox) -> None:
    data = await graph.debug_token(user_token)
    assert data["is_valid"] is True
    assert data["type"] == "USER"
    assert data["user_id"] == sandbox.info()["demo_user"]["id"]
    assert "pages_show_list" in data["scopes"]
    granted = {s["scope"]: s.get("target_ids") for s in data["granular_scopes"]}
    assert granted["pages_show_list"]  # the reliable list of granted Pages

    sandbox.revoke_token(user_token)
    revoked = await graph.debug_token(user_token)  # not an exception: data says why
    assert revoked["is_valid"] is False
    assert revoked["error"]["code"] == 190


async def test_exchange_code_and_long_lived(
    graph: GraphClient, transport: httpx.ASGITransport, sandbox: Sandbox
) -> None:
    redirect_uri = "https://app.example/auth/meta/callback"
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as browser:
        dialog = await browser.get(
            "/v25.0/dialog/oauth",
            params={
                "client_id": APP_ID,
                "redirect_uri": redirect_uri,
                "state": "s1",
                "scope": "pages_show_list",
            },
        )
    assert dialog.status_code == 302
    code = parse_qs(urlsplit(dialog.headers["location"]).query)["code"][0]

    short = await graph.exchange_code(code, redirect_uri)
    assert short["token_type"] == "bearer"
    assert short["access_token"]
    with pytest.raises(InvalidParameterError) as used:
        await graph.exchange_code(code, redirect_uri)  # codes are single-use
    assert used.value.subcode == 36009

    long = await graph.exchange_long_lived(short["access_token"])
    assert long["access_token"] != short["access_token"]
    assert long.get("expires_in", 0) > 50 * 86400


async def test_revoked_token_raises_token_invalid_with_fingerprint(
    graph: GraphClient, sandbox: Sandbox, user_token: str
) -> None:
    sandbox.revoke_token(user_token, "password_changed")
    with pytest.raises(TokenInvalidError) as info:
        await graph.me(user_token)
    assert (info.value.code, info.value.subcode) == (190, 460)
    assert info.value.token_fingerprint == token_fingerprint(user_token)
    assert user_token not in str(info.value)


# --- pages --------------------------------------------------------------------------------------


async def test_page_read_update_and_subscriptions(
    graph: GraphClient, page_id: str, page_token: str
) -> None:
    node = await graph.get_page(page_id, page_token, ("id", "name", "about", "fan_count"))
    assert node["id"] == page_id
    assert await graph.update_page(page_id, page_token, about="Succulents and more") is True
    assert (await graph.get_page(page_id, page_token, "about"))["about"] == "Succulents and more"

    assert await graph.subscribed_apps_post(page_id, page_token, ["messages", "feed"]) is True
    apps = await graph.subscribed_apps_get(page_id, page_token)
    ours = next(a for a in apps if a["id"] == APP_ID)
    assert set(ours["subscribed_fields"]) == {"messages", "feed"}
    assert await graph.subscribed_apps_delete(page_id, page_token) is True
    assert all(a["id"] != APP_ID for a in await graph.subscribed_apps_get(page_id, page_token))


# --- conversations and messages ------------------------------------------------------------------


async def test_conversations_with_nested_messages_and_follow_edge(
    graph: GraphClient, page_id: str, page_token: str, clock: Any
) -> None:
    fields = ("participants", "updated_time", "messages.limit(3){id,message,created_time}")
    conversations = [
        c async for c in graph.conversations(page_id, page_token, fields=fields, limit=2)
    ]
    assert len(conversations) >= 3  # several pages of 2, spaced (the sandbox enforces 2/s)
    assert pytest.approx(0.6) in clock.sleeps  # 2/s per Page, with a 20 % margin
    first = conversations[0]
    assert first["id"].startswith("t_")
    inline = first["messages"]["data"]
    assert len(inline) <= 3
    messages = [m async for m in graph.follow_edge(first["messages"], page_token, page_id=page_id)]
    assert messages[: len(inline)] == inline
    assert len(messages) > len(inline)
    assert len({m["id"] for m in messages}) == len(messages)

    listed = [
        m
        async for m in graph.conversation_messages(
            first["id"], page_token, ("id", "created_time"), page_id=page_id
        )
    ]
    assert [m["id"] for m in listed] == [m["id"] for m in messages]

    detail = await graph.message(messages[0]["id"], page_token)
    assert detail["id"] == messages[0]["id"]
    assert "created_time" in detail

    customer = next(p for p in first["participants"]["data"] if p["id"] != page_id)
    profile = await graph.user_profile(customer["id"], page_token, ("first_name", "last_name"))
    assert profile["id"] == customer["id"]
    assert profile.get("first_name")


async def test_conversations_filters(graph: GraphClient, page_id: str, page_token: str) -> None:
    messenger = [c async for c in graph.conversations(page_id, page_token, fields="id")]
    instagram = [
        c
        async for c in graph.conversations(
            page_id, page_token, platform="instagram", fields="id,participants"
        )
    ]
    assert instagram
    assert {c["id"] for c in instagram}.isdisjoint({c["id"] for c in messenger})
    user = next(p for p in instagram[0]["participants"]["data"] if p["id"] != page_id)
    one = [
        c
        async for c in graph.conversations(
            page_id, page_token, platform="instagram", user_id=user["id"], fields="id"
        )
    ]
    assert [c["id"] for c in one] == [instagram[0]["id"]]


async def test_sender_action(
    graph: GraphClient, sandbox: Sandbox, page_id: str, page_token: str
) -> None:
    conversations = [
        c async for c in graph.conversations(page_id, page_token, fields="participants")
    ]
    conversation = conversations[0]
    psid = next(p["id"] for p in conversation["participants"]["data"] if p["id"] != page_id)
    result = await graph.send_sender_action(page_id, page_token, psid, "mark_seen")
    assert result["recipient_id"] == psid
    assert sandbox.sender_actions[-1]["sender_action"] == "mark_seen"


# --- posts and insights --------------------------------------------------------------------------


async def test_post_lifecycle(graph: GraphClient, page_id: str, page_token: str) -> None:
    photo = await graph.create_photo(
        page_id, page_token, url="https://img.example/a.jpg", published=False
    )
    assert set(photo) == {"id"}  # unpublished photos answer only the id
    post = await graph.create_feed_post(
        page_id, page_token, message="New arrivals", attached_media=[photo["id"]]
    )
    assert post["id"].startswith(f"{page_id}_")
    read = await graph.get_post(post["id"], page_token, ("id", "message", "is_published"))
    assert read["message"] == "New arrivals"
    assert await graph.update_post(post["id"], page_token, message="New arrivals!") is True
    assert (await graph.get_post(post["id"], page_token, "message"))["message"] == "New arrivals!"

    published = await graph.create_photo(page_id, page_token, url="https://img.example/b.jpg")
    assert "post_id" in published
    video = await graph.create_video(page_id, page_token, file_url="https://v.example/a.mp4")
    assert video["id"]

    assert await graph.delete_post(post["id"], page_token) is True
    with pytest.raises(InvalidParameterError):
        await graph.get_post(post["id"], page_token)


async def test_insights(graph: GraphClient, page_id: str, page_token: str) -> None:
    metrics = await graph.page_insights(page_id, page_token, ["page_post_engagements"], "day")
    assert metrics[0]["name"] == "page_post_engagements"
    assert metrics[0]["values"]
    with pytest.raises(InvalidParameterError):
        await graph.page_insights(page_id, page_token, ["page_fans"], "day")  # deprecated

    posts = [p async for p in graph.paginate(f"{page_id}/posts", page_token)]
    post_id = posts[0]["id"]
    reactions = await graph.post_insights(
        post_id, page_token, ["post_reactions_by_type_total"], "lifetime"
    )
    assert reactions[0]["name"] == "post_reactions_by_type_total"


# --- instagram ----------------------------------------------------------------------------------


async def test_instagram_account_and_media(graph: GraphClient, ig_id: str, page_token: str) -> None:
    user = await graph.ig_user(ig_id, page_token, ("id", "username", "media_count"))
    assert user["username"] == "luckyshrub"
    media = [m async for m in graph.ig_media(ig_id, page_token, limit=2)]
    assert len(media) == user["media_count"]
    insights = await graph.ig_media_insights(media[0]["id"], page_token, ["views", "reach"])
    assert {m["name"] for m in insights} == {"views", "reach"}


async def test_instagram_publishing(
    graph: GraphClient, ig_id: str, page_token: str, clock: Any
) -> None:
    before = await graph.ig_content_publishing_limit(ig_id, page_token)
    container = await graph.ig_create_container(
        ig_id, page_token, image_url="https://img.example/p.jpg", caption="Hello"
    )
    status = await graph.ig_container_status(container["id"], page_token)
    assert status["status_code"] == "IN_PROGRESS"
    # Not ready: retried with backoff (the waits advance the shared clock) and then raised.
    with pytest.raises(MediaNotReadyError):
        await graph.ig_media_publish(ig_id, page_token, container["id"])
    clock.now += 5
    assert (await graph.ig_container_status(container["id"], page_token))["status_code"] == (
        "FINISHED"
    )
    published = await graph.ig_media_publish(ig_id, page_token, container["id"])
    assert published["id"]
    after = await graph.ig_content_publishing_limit(ig_id, page_token)
    assert after["quota_usage"] == before["quota_usage"] + 1
    assert after["config"]["quota_duration"] == 86400


# --- whatsapp -----------------------------------------------------------------------------------


async def test_whatsapp_numbers_and_profile(
    graph: GraphClient, user_token: str, waba: dict[str, Any], phone_id: str
) -> None:
    numbers = await graph.wa_phone_numbers(waba["id"], user_token)
    assert [n["id"] for n in numbers] == [phone_id]
    number = await graph.wa_phone_number(phone_id, user_token)
    assert number["display_phone_number"] == waba["phone_numbers"][0]["display_phone_number"]
    assert number["quality_rating"] in {"GREEN", "YELLOW", "RED", "NA"}
    profile = await graph.wa_business_profile(phone_id, user_token)
    assert profile["messaging_product"] == "whatsapp"


async def test_whatsapp_templates(
    graph: GraphClient, user_token: str, waba: dict[str, Any], sandbox: Sandbox, clock: Any
) -> None:
    approved = [t async for t in graph.wa_templates(waba["id"], user_token, status="APPROVED")]
    assert approved
    assert {t["status"] for t in approved} == {"APPROVED"}

    created = await graph.wa_create_template(
        waba["id"],
        user_token,
        name="shipping_notice",
        language="en_US",
        category="utility",
        components=[
            {"type": "body", "text": "Order {{1}} shipped", "example": {"body_text": [["42"]]}}
        ],
    )
    assert created["status"] == "PENDING"
    clock.now += 31
    await sandbox.tick()
    mine = [t async for t in graph.wa_templates(waba["id"], user_token, name="shipping_notice")]
    assert mine[0]["status"] in {"APPROVED", "REJECTED"}

    edited = await graph.wa_edit_template(
        created["id"],
        user_token,
        components=[
            {"type": "BODY", "text": "Order {{1}} is on its way", "example": {"body_text": [["7"]]}}
        ],
    )
    assert edited is True
    assert await graph.wa_delete_template(waba["id"], user_token, "shipping_notice") is True
    left = [t async for t in graph.wa_templates(waba["id"], user_token, "name,status")]
    assert all(t["name"] != "shipping_notice" or t["status"] != "APPROVED" for t in left)


async def test_whatsapp_analytics(
    graph: GraphClient, user_token: str, waba: dict[str, Any], clock: Any
) -> None:
    end = int(clock.now)
    start = end - 7 * 86400
    analytics = await graph.wa_analytics(waba["id"], user_token, start, end, "DAY")
    assert analytics["granularity"] == "DAY"
    assert analytics["data_points"]
    conversations = await graph.wa_conversation_analytics(
        waba["id"],
        user_token,
        start,
        end,
        "DAILY",
        metric_types=["COST", "CONVERSATION"],
        dimensions=["CONVERSATION_CATEGORY"],
    )
    assert "data_points" in conversations["data"][0]


async def test_whatsapp_mark_as_read(
    graph: GraphClient, sandbox: Sandbox, user_token: str, phone_id: str
) -> None:
    inbound = await sandbox.simulate_inbound_message(phone_number_id=phone_id, text="Hi!")
    message_id = inbound.get("message_id") or inbound.get("id")
    assert message_id
    assert await graph.wa_mark_as_read(phone_id, user_token, message_id, typing_indicator=True)
    last = sandbox.sender_actions[-1]
    assert last.get("message_id") == message_id


async def test_sandbox_usage_headers_slow_the_client_then_hold_it(clock: Any) -> None:
    config = SandboxConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        base_path="/sandbox",
        public_base_url="http://testserver",
        clock=clock,
        tick_interval_seconds=0,
        app_calls_per_hour=10,
    )
    sandbox = create_sandbox_app(config)
    sandbox.seed_demo()
    token = sandbox.info()["demo_user"]["access_token"]
    transport = httpx.ASGITransport(app=Starlette(routes=[Mount("/sandbox", app=sandbox)]))
    graph_config = GraphConfig(app_id=APP_ID, app_secret=APP_SECRET, graph_url=ROOT)
    calls = 0

    async def call_until_held(g: GraphClient) -> None:
        nonlocal calls
        for _ in range(20):
            await g.me(token)
            calls += 1

    async with GraphClient(graph_config, transport=transport, sleep=clock.sleep, clock=clock) as g:
        with pytest.raises(ThrottledError):
            await call_until_held(g)
    await sandbox.aclose()
    assert calls == 10  # the 10th call reported 100 %: the 11th never left the client
    assert clock.sleeps  # from 80 % on, calls were slowed down
    assert all(0 < s <= 2.0 for s in clock.sleeps)


class _RecordingTransport(httpx.AsyncBaseTransport):
    """Notes when (on the shared fake clock) each Conversations-API call reached Meta, and
    every status Meta answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: Any) -> None:
        self.inner, self.clock = inner, clock
        self.conversation_calls: list[float] = []
        self.statuses: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/conversations") or "/t_" in path:
            self.conversation_calls.append(self.clock.now)
        response = await self.inner.handle_async_request(request)
        self.statuses.append(response.status_code)
        return response


async def test_paging_200_conversations_x_30_messages_with_latency_stays_at_2_per_second(
    sandbox: Sandbox, transport: httpx.ASGITransport, clock: Any
) -> None:
    info = sandbox.seed(
        {
            "pages": 1,
            "instagram_accounts": 0,
            "conversations_per_page": 200,
            "ig_conversations_per_page": 0,
            "messages_per_conversation": 30,
            "whatsapp_accounts": 0,
        }
    )
    sandbox.set_faults({"latency": {"fixed_ms": 30, "jitter_ms": 0}})
    page = info["pages"][0]
    recording = _RecordingTransport(transport, clock)
    config = GraphConfig(app_id=APP_ID, app_secret=APP_SECRET, graph_url=ROOT)
    fields = ("updated_time", "messages.limit(20){id,message,created_time}")
    async with GraphClient(
        config, transport=recording, sleep=clock.sleep, clock=clock, rand=lambda: 0.5
    ) as graph:
        total_messages = 0
        conversations = 0
        # Meta lists one folder at a time (inbox by default); all four make the whole page.
        for folder in ("inbox", "page_done", "other", "spam"):
            async for conversation in graph.conversations(
                page["id"], page["access_token"], fields=fields, folder=folder, limit=25
            ):
                conversations += 1
                messages = [
                    m
                    async for m in graph.follow_edge(
                        conversation["messages"], page["access_token"], page_id=page["id"]
                    )
                ]
                assert len(messages) == 30
                # Only the 20 most recent carry details; older ones are ids and times.
                assert sum("message" in m for m in messages) <= 20
                total_messages += len(messages)
        revoked = info["demo_user"]["access_token"]
        sandbox.revoke_token(revoked)
        with pytest.raises(TokenInvalidError) as invalid:
            await graph.me(revoked)
    assert conversations == 200
    assert total_messages == 6000
    assert invalid.value.code == 190
    # No rate-limit error ever came back...
    assert all(status < 400 for status in recording.statuses[:-1])
    # ...because no rolling second held more than 2 Conversations-API calls for the page.
    calls = recording.conversation_calls
    assert len(calls) >= 200
    for i, start in enumerate(calls):
        assert sum(1 for t in calls[i:] if t < start + 1.0) <= 2
