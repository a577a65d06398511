"""spec/meta-module-api.md sections 4-5: the Instagram grid of a mapped client (cached 300 s per
Instagram account) and an Instagram post in detail, against the sandbox.

Requests go through the app in-process (httpx.ASGITransport; the sandbox is reached the same
way), so the Graph calls a request makes are counted by ``MetaGateway.count_calls()``. Each
test gets a fresh in-memory cache on a clock it moves; the Redis test uses the runtime's own
Redis cache, as a second API process would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from domain.models import Page
from domain.tokens import seal
from graph_client.sandbox import Sandbox
from graph_client.sandbox.models import IGMedia, IGUser
from server import create_app
from tasks.cache import PREFIX, InMemoryCache, RedisCache
from tests.conftest import TEST_REDIS_URL, Tenant, requires_redis
from tests.connections.conftest import SandboxServer
from tests.rest_meta.conftest import MetaApi, _no_meta_tokens

MEDIA_KEYS = {
    "id",
    "caption",
    "media_url",
    "media_type",
    "thumbnail_url",
    "timestamp",
    "permalink",
    "media_product_type",  # additive
}
PROFILE_KEYS = {
    "followers_count",
    "follows_count",
    "media_count",
    "username",
    "profile_picture_url",
}
META_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")
NOT_MAPPED = {"detail": "Post not found or not mapped"}
TOKEN_INVALID = {"detail": "Token expired or invalid"}


class StepClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class IgApi:
    api: MetaApi
    clock: StepClock

    @property
    def sandbox(self) -> Sandbox:
        return self.api.sandbox

    def __post_init__(self) -> None:
        self._token_ids: dict[tuple[Any, str], str] = {}

    async def calls(self, path: str, tenant: Tenant | None) -> tuple[httpx.Response, int]:
        """The response, and how many Graph calls answering it took."""
        with self.api.server.runtime.services.meta.count_calls() as counter:
            response = await self.api.get(path, tenant)
        return response, counter.calls

    async def map_client(
        self, tenant: Tenant, client_id: str, page_id: str, token: str | None = None
    ) -> str:
        """Connect a Meta login (unless ``token`` is one already stored) and map the client to
        the Page through /api/meta/sync/; returns the login's user token."""
        if token is None:
            token, report = await self.api.connect(tenant)
            self._token_ids[(tenant.org_id, token)] = str(report.connection.id)
        body = {
            "client_id": client_id,
            "fb_page_id": page_id,
            "token_id": self._token_ids[(tenant.org_id, token)],
        }
        response = await self.api.post("/api/meta/sync/", tenant, body)
        assert response.status_code == 200, response.text
        return token

    def instagram_pages(self) -> list[dict[str, Any]]:
        return [p for p in self.sandbox.info()["pages"] if p["instagram_business_account"]]

    def ig_user(self, ig_id: str) -> IGUser:
        found = self.sandbox.store.get(ig_id)
        assert isinstance(found, IGUser)
        return found


@pytest.fixture
async def ig_api(sandbox_server: SandboxServer) -> AsyncIterator[IgApi]:
    runtime = sandbox_server.runtime
    clock = StepClock()
    shared_cache = runtime.services.cache
    runtime.services.cache = InMemoryCache(clock)
    app = create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
    hook = _no_meta_tokens(sandbox_server.sandbox, runtime.settings.META_APP_SECRET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=sandbox_server.base,
        event_hooks={"response": [hook]},
    ) as http:
        yield IgApi(MetaApi(sandbox_server, http), clock)
    runtime.services.cache = shared_cache  # closed with the runtime


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _answer(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _media_doc(media: IGMedia) -> dict[str, Any]:
    """What the document promises for one media item, from the sandbox's own record."""
    return {
        "id": media.id,
        "caption": media.caption,
        "media_url": media.media_url,
        "media_type": media.media_type,
        "thumbnail_url": media.thumbnail_url,
        "timestamp": datetime.fromtimestamp(media.timestamp, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S+0000"
        ),
        "permalink": media.permalink,
        "media_product_type": media.media_product_type,
    }


# --- GET /api/meta/instagram/<client_id>/ -------------------------------------------------------


async def test_instagram_grid_has_the_documented_profile_and_media(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("ig-grid")
    page = ig_api.instagram_pages()[0]
    await ig_api.map_client(tenant, "client_001", page["id"])
    ig = ig_api.ig_user(page["instagram_business_account"])

    body = _ok(await ig_api.api.get("/api/meta/instagram/client_001/", tenant))
    assert set(body) == {"profile", "media"}
    assert body["profile"] == {
        "followers_count": ig.followers_count,
        "follows_count": ig.follows_count,
        "media_count": len(ig.media),
        "username": ig.username,
        "profile_picture_url": ig.profile_picture_url,
    }
    newest_first = sorted(ig.media, key=lambda m: m.timestamp, reverse=True)
    assert body["media"] == [_media_doc(m) for m in newest_first]
    assert all(set(m) == MEDIA_KEYS and META_TIME.fullmatch(m["timestamp"]) for m in body["media"])
    by_type = {m["media_type"]: m for m in body["media"]}
    assert by_type["IMAGE"]["thumbnail_url"] is None
    assert by_type["VIDEO"]["thumbnail_url"]  # a video's cover, as documented


async def test_instagram_grid_shows_the_25_newest_media(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("ig-grid-many")
    ig_api.sandbox.seed({"ig_media_per_account": 30})
    page = ig_api.instagram_pages()[0]
    await ig_api.map_client(tenant, "c-many", page["id"])
    ig = ig_api.ig_user(page["instagram_business_account"])

    body = _ok(await ig_api.api.get("/api/meta/instagram/c-many/", tenant))
    assert body["profile"]["media_count"] == 30
    newest = sorted(ig.media, key=lambda m: m.timestamp, reverse=True)[:25]
    assert [m["id"] for m in body["media"]] == [m.id for m in newest]


async def test_instagram_grid_is_cached_300_seconds_per_instagram_account(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("ig-cache")
    page = ig_api.instagram_pages()[0]
    token = await ig_api.map_client(tenant, "client_a", page["id"])
    await ig_api.map_client(tenant, "client_b", page["id"], token=token)
    ig = ig_api.ig_user(page["instagram_business_account"])
    followers = ig.followers_count

    first, calls = await ig_api.calls("/api/meta/instagram/client_a/", tenant)
    assert calls == 2  # the profile and its media
    ig.followers_count = followers + 10  # Meta's numbers move on

    ig_api.clock.advance(299)
    again, calls = await ig_api.calls("/api/meta/instagram/client_a/", tenant)
    assert calls == 0
    assert _ok(again) == _ok(first)
    assert _ok(again)["profile"]["followers_count"] == followers
    # The key is the Instagram account's: another client of the same account hits it too.
    other, calls = await ig_api.calls("/api/meta/instagram/client_b/", tenant)
    assert (calls, _ok(other)) == (0, _ok(first))

    ig_api.clock.advance(1)  # 300 s: expired
    fresh, calls = await ig_api.calls("/api/meta/instagram/client_a/", tenant)
    assert calls == 2
    assert _ok(fresh)["profile"]["followers_count"] == followers + 10
    _, calls = await ig_api.calls("/api/meta/instagram/client_a/", tenant)
    assert calls == 0  # and cached again


async def test_no_instagram_account_linked_is_a_soft_200(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("ig-none")
    plain = next(p for p in ig_api.sandbox.info()["pages"] if not p["instagram_business_account"])
    await ig_api.map_client(tenant, "fb_only", plain["id"])

    response, calls = await ig_api.calls("/api/meta/instagram/fb_only/", tenant)
    assert _ok(response) == {"detail": "No Instagram account linked"}
    assert calls == 0


async def test_a_client_mapped_to_several_pages_answers_with_its_instagram_one(
    ig_api: IgApi,
) -> None:
    tenant = await ig_api.api.tenant("ig-several")
    plain = next(p for p in ig_api.sandbox.info()["pages"] if not p["instagram_business_account"])
    with_ig = ig_api.instagram_pages()[0]
    token = await ig_api.map_client(tenant, "both", with_ig["id"])
    await ig_api.map_client(tenant, "both", plain["id"], token=token)  # the newer mapping

    body = _ok(await ig_api.api.get("/api/meta/instagram/both/", tenant))
    assert (
        body["profile"]["username"]
        == ig_api.ig_user(with_ig["instagram_business_account"]).username
    )


async def test_instagram_grid_mapping_not_found_and_other_organizations(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("ig-404")
    other = await ig_api.api.tenant("ig-404-other")
    page = ig_api.instagram_pages()[0]
    await ig_api.map_client(other, "client_of_other", page["id"])
    assert _ok(await ig_api.api.get("/api/meta/instagram/client_of_other/", other))["profile"]

    not_found = {"detail": "Mapping not found"}
    foreign, calls = await ig_api.calls("/api/meta/instagram/client_of_other/", tenant)
    assert (_answer(foreign, 404), calls) == (not_found, 0)
    unknown = await ig_api.api.get("/api/meta/instagram/nobody/", tenant)
    assert _answer(unknown, 404) == not_found
    assert set(_answer(await ig_api.api.get("/api/meta/instagram/x/", None), 401)) == {"detail"}


async def test_instagram_grid_with_a_rejected_token_answers_400_and_marks_the_page(
    ig_api: IgApi,
) -> None:
    tenant = await ig_api.api.tenant("ig-expired")
    page = ig_api.instagram_pages()[0]
    token = await ig_api.map_client(tenant, "client_x", page["id"])
    ig_api.sandbox.revoke_token(ig_api.sandbox.store.page_tokens[(token, page["id"])])

    response = await ig_api.api.get("/api/meta/instagram/client_x/", tenant)
    assert _answer(response, 400) == TOKEN_INVALID
    [stored] = [p for p in await ig_api.api.rows(Page, tenant) if p.meta_page_id == page["id"]]
    assert stored.status == "reauthorization_required"
    assert _answer(await ig_api.api.get("/api/meta/instagram/client_x/", tenant), 400) == (
        TOKEN_INVALID
    )


async def test_without_a_stored_page_token_both_answer_400(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("ig-no-token")
    page = ig_api.instagram_pages()[0]
    await ig_api.map_client(tenant, "client_y", page["id"])
    services = ig_api.api.server.runtime.services
    [row] = [p for p in await ig_api.api.rows(Page, tenant) if p.meta_page_id == page["id"]]
    async with services.session_factory() as session:  # the Page's token dropped since
        stored = await session.get(Page, row.id)
        assert stored is not None
        seal(services.vault, stored, None)
        await session.commit()

    response, calls = await ig_api.calls("/api/meta/instagram/client_y/", tenant)
    assert (_answer(response, 400), calls) == (TOKEN_INVALID, 0)
    # Its posts cannot be read either: said the same way, not hidden behind a 404.
    media = ig_api.ig_user(page["instagram_business_account"]).media[0]
    response, calls = await ig_api.calls(f"/api/meta/post/{media.id}/", tenant)
    assert (_answer(response, 400), calls) == (TOKEN_INVALID, 0)


@requires_redis
async def test_instagram_grid_cache_is_shared_through_redis(ig_api: IgApi) -> None:
    assert TEST_REDIS_URL
    services = ig_api.api.server.runtime.services
    page = ig_api.instagram_pages()[0]
    key = f"ig_grid_{page['instagram_business_account']}"
    in_memory = services.cache
    # This API process's Redis cache, and another process's client of the same Redis.
    services.cache = this_process = RedisCache(TEST_REDIS_URL)
    other_process = RedisCache(TEST_REDIS_URL)
    raw = aioredis.from_url(TEST_REDIS_URL)
    await raw.delete(PREFIX + key)  # sandboxes share seeded ids: no grid of an earlier test
    try:
        tenant = await ig_api.api.tenant("ig-redis")
        await ig_api.map_client(tenant, "client_r", page["id"])

        filled, calls = await ig_api.calls("/api/meta/instagram/client_r/", tenant)
        assert calls == 2
        assert await other_process.get(key) == _ok(filled)
        assert 295 <= await raw.ttl(PREFIX + key) <= 300

        # What another process cached is served here without asking Meta.
        theirs = {**_ok(filled), "profile": {**_ok(filled)["profile"], "username": "elsewhere"}}
        await other_process.set(key, theirs, 300)
        served, calls = await ig_api.calls("/api/meta/instagram/client_r/", tenant)
        assert (calls, _ok(served)) == (0, theirs)
    finally:
        services.cache = in_memory
        await raw.delete(PREFIX + key)
        await raw.aclose()
        await this_process.aclose()
        await other_process.aclose()


async def test_runtime_cache_is_redis_when_configured(sandbox_server: SandboxServer) -> None:
    cache = sandbox_server.runtime.services.cache
    assert isinstance(cache, RedisCache if TEST_REDIS_URL else InMemoryCache)


# --- GET /api/meta/post/<post_id>/ -------------------------------------------------------------


async def test_post_detail_has_the_documented_fields_and_counts(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("post")
    page = ig_api.instagram_pages()[0]
    await ig_api.map_client(tenant, "client_p", page["id"])
    media = ig_api.ig_user(page["instagram_business_account"]).media[1]

    response, calls = await ig_api.calls(f"/api/meta/post/{media.id}/", tenant)
    assert _ok(response) == {
        **_media_doc(media),
        "like_count": media.like_count,
        "comments_count": media.comments_count,
    }
    assert calls == 1

    # Copied from the grid, as the document's workflow does: still one call, never cached.
    _ok(await ig_api.api.get("/api/meta/instagram/client_p/", tenant))
    media.like_count += 5
    again, calls = await ig_api.calls(f"/api/meta/post/{media.id}/", tenant)
    assert (_ok(again)["like_count"], calls) == (media.like_count, 1)


async def test_post_of_another_organization_is_not_found(ig_api: IgApi) -> None:
    ig_api.sandbox.seed({"instagram_accounts": 2})
    first, second = ig_api.instagram_pages()
    mine = await ig_api.api.tenant("post-mine")
    theirs = await ig_api.api.tenant("post-theirs")
    await ig_api.map_client(mine, "client_m", first["id"])
    await ig_api.map_client(theirs, "client_t", second["id"])
    my_post = ig_api.ig_user(first["instagram_business_account"]).media[0]
    their_post = ig_api.ig_user(second["instagram_business_account"]).media[0]

    assert _ok(await ig_api.api.get(f"/api/meta/post/{my_post.id}/", mine))["id"] == my_post.id
    assert _ok(await ig_api.api.get(f"/api/meta/post/{their_post.id}/", theirs))
    # Same Meta user behind both organizations; still, neither sees the other's post.
    assert (
        _answer(await ig_api.api.get(f"/api/meta/post/{their_post.id}/", mine), 404) == NOT_MAPPED
    )
    assert _answer(await ig_api.api.get(f"/api/meta/post/{my_post.id}/", theirs), 404) == NOT_MAPPED
    nobody = await ig_api.api.tenant("post-nobody")
    response, calls = await ig_api.calls(f"/api/meta/post/{my_post.id}/", nobody)
    assert (_answer(response, 404), calls) == (NOT_MAPPED, 0)


async def test_post_errors(ig_api: IgApi) -> None:
    tenant = await ig_api.api.tenant("post-errors")
    page = ig_api.instagram_pages()[0]
    token = await ig_api.map_client(tenant, "client_e", page["id"])
    media = ig_api.ig_user(page["instagram_business_account"]).media[0]

    assert _answer(await ig_api.api.get("/api/meta/post/17999999999999999/", tenant), 404) == (
        NOT_MAPPED
    )
    # The Page's own id: a real id this token reads, but not Instagram media.
    assert _answer(await ig_api.api.get(f"/api/meta/post/{page['id']}/", tenant), 404) == NOT_MAPPED
    bad = _answer(await ig_api.api.get("/api/meta/post/not-an-id/", tenant), 400)
    assert bad["field"] == "post_id"
    assert set(_answer(await ig_api.api.get(f"/api/meta/post/{media.id}/", None), 401)) == {
        "detail"
    }

    ig_api.sandbox.revoke_token(ig_api.sandbox.store.page_tokens[(token, page["id"])])
    assert _answer(await ig_api.api.get(f"/api/meta/post/{media.id}/", tenant), 400) == (
        TOKEN_INVALID
    )


async def test_openapi_declares_both_endpoints(ig_api: IgApi) -> None:
    spec = _ok(await ig_api.api.http.get("/openapi.json"))
    grid = spec["paths"]["/api/meta/instagram/{client_id}/"]["get"]
    post = spec["paths"]["/api/meta/post/{post_id}/"]["get"]
    assert grid["tags"] == post["tags"] == ["meta-module"]
    assert [p["name"] for p in grid["parameters"]] == ["client_id"]
    assert [p["name"] for p in post["parameters"]] == ["post_id"]
    grid_ok, no_ig = grid["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"]
    assert grid_ok["required"] == ["profile", "media"]
    assert set(grid_ok["properties"]["profile"]["required"]) == PROFILE_KEYS
    assert set(grid_ok["properties"]["media"]["items"]["properties"]) == MEDIA_KEYS
    assert no_ig["properties"]["detail"] == {"const": "No Instagram account linked"}
    post_ok = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(post_ok["required"]) == MEDIA_KEYS - {"media_product_type"} | {
        "like_count",
        "comments_count",
    }
    assert {"400", "401", "404"} <= set(grid["responses"]) & set(post["responses"])


async def test_post_of_either_mapped_account_and_the_grid_saves_the_search(ig_api: IgApi) -> None:
    ig_api.sandbox.seed({"instagram_accounts": 2})
    first, second = ig_api.instagram_pages()
    tenant = await ig_api.api.tenant("post-two")
    token = await ig_api.map_client(tenant, "client_2", second["id"])
    await ig_api.map_client(tenant, "client_1", first["id"], token=token)  # asked first
    post = ig_api.ig_user(second["instagram_business_account"]).media[2]

    # The first account's Page token cannot read it (Meta's #100), the second's can.
    response, calls = await ig_api.calls(f"/api/meta/post/{post.id}/", tenant)
    assert (_ok(response)["id"], calls) == (post.id, 2)
    # Once client_2's grid is cached, the account listing the post is asked first.
    _ok(await ig_api.api.get("/api/meta/instagram/client_2/", tenant))
    response, calls = await ig_api.calls(f"/api/meta/post/{post.id}/", tenant)
    assert (_ok(response)["comments_count"], calls) == (post.comments_count, 1)
