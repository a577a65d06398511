"""Insights: posts and media read from Meta with their counts, snapshots over time, account
analytics over REST (`/api/social/analytics/:accountId`) and GraphQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from domain.meta import MetaError
from domain.models import AccountSnapshot, Page, Post, PostSnapshot
from domain.services.post_insights import (
    FB_POST_METRICS,
    SYNC_ALL_ACTOR,
    AccountRef,
    InsightsSync,
    accounts_to_sync,
    read_metrics,
)
from domain.tokens import unseal
from schema.scalars import encode_global_id
from server import Runtime
from tasks.scheduler import PERIODIC_JOBS
from tests.conftest import Tenant
from tests.connections.conftest import SandboxServer
from tests.publishing.conftest import instagram_of
from tests.rest_sync.conftest import running_worker
from tests.sync.test_engine import connected

ANALYTICS_QUERY = """
query($id: ID!, $start: Date, $end: Date) {
  accountAnalytics(accountId: $id, startDate: $start, endDate: $end) {
    totalPosts totalEngagement averageEngagementRate totalReach totalViews totalImpressions
    followers topPost { id message } topPostEngagementRate
    engagementTrend { date engagement }
  }
}
"""


async def _read_insights(
    server: SandboxServer, tenant: Tenant, account: AccountRef, days_later: int = 0
) -> int:
    services = server.runtime.services
    now = services.clock.now() + timedelta(days=days_later)
    sync = InsightsSync(services.uow, services.meta, services.vault, now)
    return await sync.run(tenant.org_id, account)


async def _rows(server: SandboxServer, model: Any, org: uuid.UUID) -> list[Any]:
    async with server.runtime.services.session_factory() as session:
        stmt = select(model).where(model.organization_id == org)
        return list((await session.execute(stmt)).scalars())


async def test_page_posts_are_read_with_their_counts_and_snapshotted_each_time(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "insights-page")
    meta_posts = sandbox_server.sandbox.store.get(page.meta_page_id).posts
    read = await _read_insights(sandbox_server, tenant, AccountRef("facebook", page.id))
    assert read == len(meta_posts) > 0

    posts = {p.meta_post_id: p for p in await _rows(sandbox_server, Post, tenant.org_id)}
    assert set(posts) == {p.id for p in meta_posts}
    snapshots = {s.post_id: s for s in await _rows(sandbox_server, PostSnapshot, tenant.org_id)}
    for meta_post in meta_posts:
        row = posts[meta_post.id]
        assert row.status == "published"
        assert row.platform == "facebook"
        assert row.message == meta_post.message
        metrics = snapshots[row.id].metrics
        assert metrics["likes"] == sum(meta_post.reactions.values())
        assert metrics["shares"] == meta_post.shares
        assert metrics["comments"] == len(meta_post.comments)
        assert metrics["engagement"] == (metrics["likes"] + metrics["comments"] + metrics["shares"])
        assert isinstance(metrics["clicks"], int)
        # Only metrics Meta still serves were asked for: nothing was refused.
        assert "refused" not in metrics
    (account,) = await _rows(sandbox_server, AccountSnapshot, tenant.org_id)
    assert account.page_id == page.id
    assert (
        account.metrics["followers"]
        == sandbox_server.sandbox.store.get(page.meta_page_id).followers_count
    )
    assert "refused" not in account.metrics

    # Read again a day later: the same posts (none recorded twice), a second snapshot each.
    await _read_insights(sandbox_server, tenant, AccountRef("facebook", page.id), days_later=1)
    assert len(await _rows(sandbox_server, Post, tenant.org_id)) == len(meta_posts)
    assert len(await _rows(sandbox_server, PostSnapshot, tenant.org_id)) == 2 * len(meta_posts)


async def test_instagram_media_are_read_with_views_reach_and_saves(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "insights-ig")
    ig = await instagram_of(sandbox_server, page)
    media = sandbox_server.sandbox.store.get(ig.meta_ig_id).media
    await _read_insights(sandbox_server, tenant, AccountRef("instagram", ig.id))

    posts = {p.meta_post_id: p for p in await _rows(sandbox_server, Post, tenant.org_id)}
    assert set(posts) == {m.id for m in media}
    snapshots = {s.post_id: s for s in await _rows(sandbox_server, PostSnapshot, tenant.org_id)}
    for item in media:
        row = posts[item.id]
        assert row.platform == "instagram"
        assert row.instagram_account_id == ig.id
        assert row.type == {"REELS": "reel"}.get(item.media_product_type) or row.type in (
            "image",
            "carousel",
        )
        metrics = snapshots[row.id].metrics
        assert metrics["likes"] == item.like_count
        assert metrics["comments"] == item.comments_count
        for name in ("views", "reach", "saved", "total_interactions"):
            assert isinstance(metrics[name], int), name
        assert metrics["engagement"] == metrics["total_interactions"]
        assert "impressions" not in metrics
        assert "plays" not in metrics
    (account,) = await _rows(sandbox_server, AccountSnapshot, tenant.org_id)
    assert account.instagram_account_id == ig.id
    assert account.metrics["followers"] == ig.followers_count


async def test_a_metric_meta_refuses_is_dropped_and_the_rest_still_read(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _tenant, page = await connected(sandbox_server, runtime, "insights-refused")
    services = sandbox_server.runtime.services
    async with services.session_factory() as session:
        row = await session.get(Page, page.id)
        assert row is not None
        token = unseal(services.vault, row)
    assert token is not None
    post_id = sandbox_server.sandbox.store.get(page.meta_page_id).posts[0].id
    # post_engaged_users is gone from Meta: asking for it fails the whole call with #100.
    with pytest.raises(MetaError) as refused_call:
        await services.meta.insights("post", post_id, token, ["post_engaged_users", "post_clicks"])
    assert refused_call.value.meta_code == 100

    values, refused = await read_metrics(
        services.meta, "post", post_id, token, ["post_engaged_users", *FB_POST_METRICS]
    )
    assert refused == ["post_engaged_users"]
    assert set(values) == set(FB_POST_METRICS)
    # The deprecated ones metasync knows of are not even asked for.
    values, refused = await read_metrics(
        services.meta, "post", post_id, token, ["post_impressions", "post_clicks"]
    )
    assert (set(values), refused) == ({"post_clicks"}, [])


async def test_account_analytics_over_rest_and_graphql(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "analytics-api")
    ig = await instagram_of(sandbox_server, page)
    account = AccountRef("instagram", ig.id)
    await _read_insights(sandbox_server, tenant, account)
    await _read_insights(sandbox_server, tenant, account, days_later=1)
    headers = sandbox_server.headers(tenant)
    snapshots = await _rows(sandbox_server, PostSnapshot, tenant.org_id)
    latest: dict[uuid.UUID, PostSnapshot] = {}
    for snap in snapshots:
        if snap.post_id not in latest or latest[snap.post_id].captured_at < snap.captured_at:
            latest[snap.post_id] = snap
    expected_engagement = sum(s.metrics["engagement"] for s in latest.values())
    expected_reach = sum(s.metrics["reach"] for s in latest.values())
    today = sandbox_server.runtime.services.clock.now().date()
    start, end = (today - timedelta(days=365)).isoformat(), (today + timedelta(days=1)).isoformat()

    async with sandbox_server.client() as client:
        answer = await client.get(
            f"/api/social/analytics/{ig.id}",
            params={"startDate": start, "endDate": end},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["totalPosts"] == len(latest)
        assert body["totalEngagement"] == expected_engagement
        assert body["totalReach"] == expected_reach
        assert body["totalImpressions"] is None
        rates = [
            round(s.metrics["engagement"] / s.metrics["reach"] * 100, 2)
            for s in latest.values()
            if s.metrics["reach"]
        ]
        assert body["averageEngagementRate"] == pytest.approx(sum(rates) / len(rates), abs=0.01)
        assert body["topPost"]["engagement_rate"] == max(rates)
        assert uuid.UUID(body["topPost"]["id"])
        # Two days of snapshots: two points, each the posts' engagement as captured that day.
        assert [p["date"] for p in body["engagementTrend"]] == [
            today.isoformat(),
            (today + timedelta(days=1)).isoformat(),
        ]
        assert body["engagementTrend"][-1]["engagement"] == expected_engagement

        # The post list now carries the counts of the latest snapshot.
        listed = (await client.get("/api/social/posts?platform=instagram", headers=headers)).json()
        assert listed["total"] == len(latest)
        first = listed["posts"][0]
        snap = latest[uuid.UUID(first["id"])]
        assert first["likes_count"] == snap.metrics["likes"]
        assert first["reach"] == snap.metrics["reach"]
        detail = (await client.get(f"/api/social/posts/{first['id']}", headers=headers)).json()
        assert detail["last_analytics_sync"] is not None
        assert detail["impressions"] is None

        graph = await client.post(
            "/graphql",
            headers=headers,
            json={
                "query": ANALYTICS_QUERY,
                "variables": {
                    "id": encode_global_id("InstagramAccount", ig.id),
                    "start": start,
                    "end": end,
                },
            },
        )
        data = graph.json()["data"]["accountAnalytics"]
        assert data["totalPosts"] == body["totalPosts"]
        assert data["totalEngagement"] == body["totalEngagement"]
        assert data["totalImpressions"] is None
        assert data["topPost"]["id"] == encode_global_id("Post", uuid.UUID(body["topPost"]["id"]))
        assert len(data["engagementTrend"]) == 2


async def test_analytics_errors(sandbox_server: SandboxServer, runtime: Runtime) -> None:
    tenant, page = await connected(sandbox_server, runtime, "analytics-errors")
    stranger, _ = await connected(sandbox_server, runtime, "analytics-stranger")
    async with sandbox_server.client() as client:

        async def get(path: str, who: Tenant = tenant, **params: str) -> httpx.Response:
            return await client.get(path, params=params, headers=sandbox_server.headers(who))

        missing = await get(f"/api/social/analytics/{uuid.uuid4()}")
        theirs = await get(f"/api/social/analytics/{page.id}", who=stranger)
        assert missing.status_code == theirs.status_code == 404
        assert missing.json() == theirs.json()
        bad = await get(f"/api/social/analytics/{page.id}", startDate="yesterday")
        assert bad.status_code == 400
        assert "startDate" in bad.text
        backwards = await get(
            f"/api/social/analytics/{page.id}", startDate="2026-02-01", endDate="2026-01-01"
        )
        assert backwards.status_code == 400
        assert "startDate" in backwards.text
        assert (await get("/api/social/analytics/not-an-id")).status_code == 400
        unauthenticated = await client.get(f"/api/social/analytics/{page.id}")
        assert unauthenticated.status_code == 401

        # Nothing read yet: zero posts, unknown rates, never invented numbers.
        empty = (await get(f"/api/social/analytics/{page.id}")).json()
        assert empty["totalPosts"] == 0
        assert empty["averageEngagementRate"] is None
        assert empty["topPost"] is None
        assert empty["engagementTrend"] == []

        # An on-demand read is queued for the organization's account only.
        queued = await client.post(
            f"/api/social/analytics/{page.id}/sync", headers=sandbox_server.headers(tenant)
        )
        assert queued.status_code == 202
        assert queued.json()["status"] == "queued"
        refused = await client.post(
            f"/api/social/analytics/{page.id}/sync", headers=sandbox_server.headers(stranger)
        )
        assert refused.status_code == 404

        graph = await client.post(
            "/graphql",
            headers=sandbox_server.headers(stranger),
            json={"query": ANALYTICS_QUERY, "variables": {"id": encode_global_id("Page", page.id)}},
        )
        assert graph.json()["data"]["accountAnalytics"] is None
    async with sandbox_server.runtime.services.session_factory() as session:
        count = await session.execute(
            select(func.count())
            .select_from(PostSnapshot)
            .where(PostSnapshot.organization_id == stranger.org_id)
        )
        assert count.scalar_one() == 0


async def test_daily_at_three_and_on_demand_through_the_worker(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    (job,) = [j for j in PERIODIC_JOBS if j.actor_name == SYNC_ALL_ACTOR]
    assert job.daily_at == (3, 0)
    tenant, page = await connected(sandbox_server, runtime, "insights-worker")
    ig = await instagram_of(sandbox_server, page)
    services = sandbox_server.runtime.services
    # The daily job reads every active Page and Instagram account, one job each.
    mine = {a for org, a in await accounts_to_sync(services.uow()) if org == tenant.org_id}
    assert AccountRef("facebook", page.id) in mine
    assert AccountRef("instagram", ig.id) in mine

    refresh = """mutation($id: ID!) { refreshAnalytics(accountId: $id) { __typename
        ... on AnalyticsRefreshQueued { accountId } } }"""
    async with sandbox_server.client() as client, running_worker(sandbox_server.runtime):
        answer = await client.post(
            "/graphql",
            headers=sandbox_server.headers(tenant),
            json={"query": refresh, "variables": {"id": encode_global_id("Page", page.id)}},
        )
        assert answer.json()["data"]["refreshAnalytics"]["__typename"] == "AnalyticsRefreshQueued"
        for _ in range(200):
            if await _rows(sandbox_server, AccountSnapshot, tenant.org_id):
                break
            await asyncio.sleep(0.1)
    (snapshot,) = await _rows(sandbox_server, AccountSnapshot, tenant.org_id)
    assert snapshot.page_id == page.id
    posts = await _rows(sandbox_server, Post, tenant.org_id)
    assert len(posts) == len(sandbox_server.sandbox.store.get(page.meta_page_id).posts)
