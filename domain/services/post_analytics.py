"""How an account's posts perform, from the snapshots the insights job keeps.

Engagement is a post's interactions (Instagram's ``total_interactions``; on Facebook
reactions + comments + shares). Its rate is engagement / reach * 100 where Meta still serves
reach (Instagram), and / the Page's followers otherwise: Meta no longer serves Facebook post
reach or impressions (facts §0.2), so impressions are never reported as a number."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInputError
from domain.models import AccountSnapshot, Post, PostSnapshot, PostStatus
from domain.services.post_insights import AccountRef

MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=30)


@dataclass(frozen=True)
class PostMetrics:
    """A post's numbers as last read from Meta (None: never read, or Meta does not say)."""

    captured_at: datetime
    likes: int | None
    comments: int | None
    shares: int | None
    reach: int | None
    views: int | None
    saved: int | None
    clicks: int | None
    engagement: int
    engagement_rate: float | None

    @classmethod
    def of(cls, snapshot: PostSnapshot, followers: int | None) -> PostMetrics:
        m = snapshot.metrics

        def num(key: str) -> int | None:
            value = m.get(key)
            return int(value) if isinstance(value, int | float) else None

        engagement = int(m.get("engagement") or 0)
        return cls(
            captured_at=snapshot.captured_at,
            likes=num("likes"),
            comments=num("comments"),
            shares=num("shares"),
            reach=num("reach"),
            views=num("views"),
            saved=num("saved"),
            clicks=num("clicks"),
            engagement=engagement,
            engagement_rate=rate(engagement, num("reach") or followers),
        )


def rate(engagement: int, audience: int | None) -> float | None:
    if not audience:
        return None
    return round(engagement / audience * 100, 2)


@dataclass(frozen=True)
class TopPost:
    post_id: uuid.UUID
    caption: str | None
    engagement_rate: float | None
    engagement: int


@dataclass(frozen=True)
class TrendPoint:
    day: date
    engagement: int


@dataclass(frozen=True)
class AccountAnalytics:
    start: date
    end: date
    total_posts: int
    total_engagement: int
    average_engagement_rate: float | None
    total_reach: int | None
    total_views: int | None
    followers: int | None
    top_post: TopPost | None
    trend: list[TrendPoint]
    last_captured_at: datetime | None


def date_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The asked range, by default the last 30 days; validated, both ends included."""
    end = end or today
    start = start or end - DEFAULT_RANGE
    if start > end:
        raise InvalidInputError("startDate", "must not be after endDate")
    if end - start > MAX_RANGE:
        raise InvalidInputError("startDate", "the range may span at most 366 days")
    return start, end


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


async def latest_account_followers(
    session: AsyncSession, organization_id: uuid.UUID, account: AccountRef
) -> int | None:
    column = (
        AccountSnapshot.instagram_account_id
        if account.kind == "instagram"
        else AccountSnapshot.page_id
    )
    stmt = (
        select(AccountSnapshot.metrics)
        .where(AccountSnapshot.organization_id == organization_id, column == account.id)
        .order_by(AccountSnapshot.captured_at.desc())
        .limit(1)
    )
    metrics = (await session.execute(stmt)).scalar_one_or_none()
    followers = (metrics or {}).get("followers")
    return int(followers) if isinstance(followers, int) else None


async def latest_snapshots(
    session: AsyncSession, organization_id: uuid.UUID, post_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PostSnapshot]:
    """Each post's newest snapshot, in one statement whatever the number of posts."""
    if not post_ids:
        return {}
    newest = (
        select(PostSnapshot.post_id, func.max(PostSnapshot.captured_at).label("at"))
        .where(
            PostSnapshot.organization_id == organization_id,
            PostSnapshot.post_id.in_(set(post_ids)),
        )
        .group_by(PostSnapshot.post_id)
        .subquery()
    )
    stmt = select(PostSnapshot).join(
        newest,
        and_(PostSnapshot.post_id == newest.c.post_id, PostSnapshot.captured_at == newest.c.at),
    )
    return {s.post_id: s for s in (await session.execute(stmt)).scalars()}


async def post_metrics(
    session: AsyncSession, organization_id: uuid.UUID, posts: Sequence[Post]
) -> dict[uuid.UUID, PostMetrics]:
    """Posts' latest numbers (posts never read from Meta are absent)."""
    snapshots = await latest_snapshots(session, organization_id, [p.id for p in posts])
    followers: dict[tuple[str, uuid.UUID], int | None] = {}
    found: dict[uuid.UUID, PostMetrics] = {}
    for post in posts:
        snap = snapshots.get(post.id)
        if snap is None:
            continue
        account = _account_of(post)
        key = (account.kind, account.id)
        if key not in followers:
            followers[key] = await latest_account_followers(session, organization_id, account)
        found[post.id] = PostMetrics.of(snap, followers[key])
    return found


def _account_of(post: Post) -> AccountRef:
    if post.instagram_account_id is not None:
        return AccountRef("instagram", post.instagram_account_id)
    assert post.page_id is not None
    return AccountRef("facebook", post.page_id)


def _account_filter(account: AccountRef) -> Any:
    if account.kind == "instagram":
        return Post.instagram_account_id == account.id
    return and_(Post.page_id == account.id, Post.instagram_account_id.is_(None))


async def account_analytics(
    session: AsyncSession,
    organization_id: uuid.UUID,
    account: AccountRef,
    start: date,
    end: date,
) -> AccountAnalytics:
    """Totals over the account's posts published in [start, end], from each post's newest
    snapshot; the trend is the day-by-day engagement those posts had as captured each day."""
    since, until = _day_start(start), _day_start(end + timedelta(days=1))
    stmt = select(Post).where(
        Post.organization_id == organization_id,
        _account_filter(account),
        Post.deleted_at.is_(None),
        Post.status == PostStatus.PUBLISHED.value,
        Post.published_at >= since,
        Post.published_at < until,
    )
    posts = list((await session.execute(stmt)).scalars())
    followers = await latest_account_followers(session, organization_id, account)
    snapshots = await latest_snapshots(session, organization_id, [p.id for p in posts])
    metrics = {pid: PostMetrics.of(s, followers) for pid, s in snapshots.items()}
    rates = [m.engagement_rate for m in metrics.values() if m.engagement_rate is not None]
    reaches = [m.reach for m in metrics.values() if m.reach is not None]
    views = [m.views for m in metrics.values() if m.views is not None]
    top = None
    ranked = [p for p in posts if p.id in metrics]
    if ranked:
        best = max(
            ranked,
            key=lambda p: (metrics[p.id].engagement_rate or 0.0, metrics[p.id].engagement),
        )
        m = metrics[best.id]
        top = TopPost(best.id, best.message, m.engagement_rate, m.engagement)
    return AccountAnalytics(
        start=start,
        end=end,
        total_posts=len(posts),
        total_engagement=sum(m.engagement for m in metrics.values()),
        average_engagement_rate=round(sum(rates) / len(rates), 2) if rates else None,
        total_reach=sum(reaches) if reaches else None,
        total_views=sum(views) if views else None,
        followers=followers,
        top_post=top,
        trend=await _trend(session, organization_id, [p.id for p in posts], since, until),
        last_captured_at=max((m.captured_at for m in metrics.values()), default=None),
    )


async def _trend(
    session: AsyncSession,
    organization_id: uuid.UUID,
    post_ids: list[uuid.UUID],
    since: datetime,
    until: datetime,
) -> list[TrendPoint]:
    """For each day snapshots were taken in the range: the posts' engagement, each post
    counted once, by its last snapshot of that day."""
    if not post_ids:
        return []
    stmt = select(PostSnapshot.post_id, PostSnapshot.captured_at, PostSnapshot.metrics).where(
        PostSnapshot.organization_id == organization_id,
        PostSnapshot.post_id.in_(post_ids),
        PostSnapshot.captured_at >= since,
        PostSnapshot.captured_at < until,
    )
    last: dict[tuple[date, uuid.UUID], tuple[datetime, int]] = {}
    for post_id, captured_at, values in await session.execute(stmt):
        key = (captured_at.date(), post_id)
        engagement = int((values or {}).get("engagement") or 0)
        if key not in last or last[key][0] < captured_at:
            last[key] = (captured_at, engagement)
    per_day: dict[date, int] = defaultdict(int)
    for (day, _), (_, engagement) in last.items():
        per_day[day] += engagement
    return [TrendPoint(day, per_day[day]) for day in sorted(per_day)]
