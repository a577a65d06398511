"""Insights for Pages, posts and Instagram media, with Meta's v25 metric set.

Deprecated metrics (``page_impressions*``, ``page_fans*``, ``post_impressions*``; IG
``impressions``/``plays``/``video_views``) fail like they do on Meta (facts §0.2). Values are
deterministic per object, metric and day; ``page_follows`` is the Page's follower count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from graph_client.sandbox.context import Ctx
from graph_client.sandbox.errors import MetaError, invalid_parameter
from graph_client.sandbox.fields import parse_list
from graph_client.sandbox.graph import route
from graph_client.sandbox.models import IGMedia, Page, Post
from graph_client.sandbox.timeparse import parse_time

DAY = 86400
# Meta's day boundary is Pacific midnight; the probe shows 07:00 UTC end times.
_BOUNDARY_OFFSET = 7 * 3600

# metric -> (allowed periods, title, description)
PAGE_METRICS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "page_post_engagements": (
        ("day", "week", "days_28"),
        "Daily Post Engagements",
        "Daily: The number of times people have engaged with your posts through like, comments "
        "and shares and more.",
    ),
    "page_views_total": (
        ("day", "week", "days_28"),
        "Daily Total views count per Page",
        "Daily: Total number of times a Page's profile has been viewed by logged in and logged "
        "out people.",
    ),
    "page_follows": (
        ("day",),
        "Lifetime Total Follows",
        "Lifetime: The number of followers of your Facebook Page or profile. This is calculated "
        "as the number of follows minus the number of unfollows over the lifetime of your "
        "Facebook Page or profile. ",
    ),
    "page_daily_follows_unique": (
        ("day",),
        "Daily New Follows",
        "Daily: The number of new followers of your Facebook Page or profile.",
    ),
    "page_daily_unfollows_unique": (
        ("day",),
        "Daily Unfollows",
        "Daily: The number of unfollows of your Facebook Page or profile.",
    ),
    "page_video_views": (
        ("day", "week", "days_28"),
        "Daily Total Video Views",
        "Daily: Total number of times videos have been viewed for more than 3 seconds.",
    ),
    "page_media_view": (
        ("day", "week", "days_28"),
        "Daily Media Views",
        "Daily: The number of times your content was played or displayed.",
    ),
}
POST_METRICS: dict[str, tuple[str, str]] = {
    "post_reactions_by_type_total": (
        "Lifetime Total post Reactions by Type.",
        "Lifetime: Total post reactions by type.",
    ),
    "post_clicks": ("Lifetime Post Clicks", "Lifetime: The number of clicks on your post."),
    "post_media_view": (
        "Lifetime Post Media Views",
        "Lifetime: The number of times your post was played or displayed.",
    ),
    "post_reactions_like_total": (
        "Lifetime Total Like Reactions of a post.",
        "Lifetime: Total like reactions of a post.",
    ),
}
IG_MEDIA_METRICS: dict[str, tuple[str, str]] = {
    "views": ("Views", "The number of times your content was played or displayed."),
    "reach": ("Accounts reached", "The number of unique accounts that have seen this post."),
    "saved": ("Saved", "The number of saves of your post."),
    "shares": ("Shares", "The number of shares of your post."),
    "likes": ("Likes", "The number of likes on your post."),
    "comments": ("Comments", "The number of comments on your post."),
    "total_interactions": (
        "Post interactions",
        "The number of likes, saves, comments and shares on the post, minus unlikes and unsaves.",
    ),
}


def invalid_metric() -> MetaError:
    return MetaError("(#100) The value must be a valid insights metric", 100)


def _value(*parts: object, high: int = 50) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % high


def _metrics(ctx: Ctx, allowed: Any) -> list[str]:
    raw = ctx.param("metric")
    if not raw:
        raise invalid_metric()
    metrics = parse_list(raw)
    for metric in metrics:
        if metric not in allowed:
            raise invalid_metric()
    return metrics


def _boundaries(ctx: Ctx) -> list[float]:
    """End times of the daily values: the two days before today unless since/until say."""
    until_raw, since_raw = ctx.param("until"), ctx.param("since")
    last_boundary = ((ctx.now - _BOUNDARY_OFFSET) // DAY) * DAY + _BOUNDARY_OFFSET
    if until_raw or since_raw:
        until = parse_time(until_raw, "until") if until_raw else last_boundary
        since = parse_time(since_raw, "since") if since_raw else until - 2 * DAY
        if until - since > 93 * DAY:
            raise invalid_parameter("There cannot be more than 93 days between since and until")
        first = ((since - _BOUNDARY_OFFSET) // DAY + 1) * DAY + _BOUNDARY_OFFSET
        ends = []
        while first <= until:
            ends.append(first)
            first += DAY
        return ends
    return [last_boundary - 2 * DAY, last_boundary - DAY]


def _paging(ctx: Ctx, path: str, ends: list[float]) -> dict[str, str]:
    since = int(ends[0] - DAY) if ends else int(ctx.now - 2 * DAY)
    until = int(ends[-1]) if ends else int(ctx.now)
    span = until - since
    base = {k: v for k in ("metric", "period") if (v := ctx.param(k))}

    def link(start: int, end: int) -> str:
        return ctx.url(path, {**base, "since": str(start), "until": str(end)})

    return {"previous": link(since - span, until - span), "next": link(since + span, until + span)}


def _entry(
    obj_id: str, name: str, period: str, values: list[dict[str, Any]], title: str, desc: str
) -> dict[str, Any]:
    return {
        "name": name,
        "period": period,
        "values": values,
        "title": title,
        "description": desc,
        "id": f"{obj_id}/insights/{name}/{period}",
    }


@route(Page, "insights", "GET")
def page_insights(ctx: Ctx, page: Page) -> dict[str, Any]:
    metrics = _metrics(ctx, PAGE_METRICS)
    period = ctx.param("period") or "day"
    ends = _boundaries(ctx)
    data = []
    for metric in metrics:
        periods, title, description = PAGE_METRICS[metric]
        if period not in periods:
            raise invalid_parameter(f"The period {period} is not valid for {metric}")
        values = []
        for end in ends:
            day = int(end // DAY)
            if metric == "page_follows":
                value = page.followers_count
            else:
                span = {"day": 1, "week": 7, "days_28": 28}[period]
                value = sum(_value(page.id, metric, day - i) for i in range(span))
            values.append({"value": value, "end_time": ctx.time(end)})
        data.append(_entry(page.id, metric, period, values, title, description))
    return {"data": data, "paging": _paging(ctx, f"{page.id}/insights", ends)}


def _lifetime(
    ctx: Ctx,
    obj_id: str,
    path: str,
    catalogue: dict[str, tuple[str, str]],
    value_of: Callable[[str], Any],
) -> dict[str, Any]:
    metrics = _metrics(ctx, catalogue)
    period = ctx.param("period") or "lifetime"
    if period != "lifetime":
        raise invalid_parameter(f"The period {period} is not valid for these metrics")
    data = [_entry(obj_id, m, "lifetime", [{"value": value_of(m)}], *catalogue[m]) for m in metrics]
    return {"data": data, "paging": _paging(ctx, path, _boundaries(ctx))}


@route(Post, "insights", "GET")
def post_insights(ctx: Ctx, post: Post) -> dict[str, Any]:
    def value_of(metric: str) -> Any:
        if metric == "post_reactions_by_type_total":
            return {k: v for k, v in post.reactions.items() if v}
        if metric == "post_reactions_like_total":
            return post.reactions.get("like", 0)
        return _value(post.id, metric, high=500)

    return _lifetime(ctx, post.id, f"{post.id}/insights", POST_METRICS, value_of)


@route(IGMedia, "insights", "GET")
def ig_media_insights(ctx: Ctx, media: IGMedia) -> dict[str, Any]:
    def value_of(metric: str) -> Any:
        if metric == "likes":
            return media.like_count
        if metric == "comments":
            return media.comments_count
        return _value(media.id, metric, high=2000)

    result = _lifetime(ctx, media.id, f"{media.id}/insights", IG_MEDIA_METRICS, value_of)
    del result["paging"]
    return result
