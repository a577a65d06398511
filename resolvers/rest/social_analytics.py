"""spec/social-service-architecture.md family: account analytics, from insights snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.errors import InvalidInputError
from domain.services.post_analytics import AccountAnalytics, account_analytics, date_range
from domain.services.post_insights import queue_account_sync, resolve_account
from resolvers.rest.common import (
    NULLABLE_DATE_TIME,
    NULLABLE_STRING,
    STRING,
    array_of,
    iso,
    object_schema,
    uuid_value,
)
from resolvers.rest.families import SOCIAL
from resolvers.rest.routing import Endpoint, RestContext

Json = dict[str, Any]
INTEGER: Json = {"type": "integer"}
NULLABLE_INTEGER: Json = {"type": ["integer", "null"]}
NULLABLE_NUMBER: Json = {"type": ["number", "null"]}


def _date(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        # An ISO date, or a date-time whose day is taken.
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidInputError(name, "must be an ISO date (YYYY-MM-DD)") from None


def render(result: AccountAnalytics) -> Json:
    top = result.top_post
    return {
        "totalPosts": result.total_posts,
        "totalEngagement": result.total_engagement,
        "averageEngagementRate": result.average_engagement_rate,
        "totalReach": result.total_reach,
        # Meta stopped serving impressions (facts §0.2): unknown, never a made-up number.
        "totalImpressions": None,
        "topPost": None
        if top is None
        else {
            "id": str(top.post_id),
            "caption": top.caption,
            "engagement_rate": top.engagement_rate,
            "engagement": top.engagement,
        },
        "engagementTrend": [
            {"date": p.day.isoformat(), "engagement": p.engagement} for p in result.trend
        ],
        "totalViews": result.total_views,
        "followers": result.followers,
        "startDate": result.start.isoformat(),
        "endDate": result.end.isoformat(),
        "lastAnalyticsSync": iso(result.last_captured_at),
    }


async def analytics(ctx: RestContext) -> Json:
    account_id = uuid_value(ctx.request.path_params["accountId"], "accountId")
    query = ctx.request.query_params
    start = _date(query.get("startDate"), "startDate")
    end = _date(query.get("endDate"), "endDate")
    services, org_id = ctx.services, ctx.viewer.organization_id
    start, end = date_range(start, end, services.clock.now().date())
    async with services.uow() as uow:
        account = await resolve_account(uow, org_id, account_id)
        result = await account_analytics(uow.session, org_id, account, start, end)
    return render(result)


async def refresh(ctx: RestContext) -> Json:
    """Read the account's posts and insights from Meta now rather than at 03:00."""
    account_id = uuid_value(ctx.request.path_params["accountId"], "accountId")
    org_id = ctx.viewer.organization_id
    async with ctx.services.uow() as uow:
        account = await resolve_account(uow, org_id, account_id)
        queue_account_sync(uow, org_id, account)
        await uow.commit()
    return {"success": True, "status": "queued", "accountId": str(account.id)}


ANALYTICS_SCHEMA = object_schema(
    {
        "totalPosts": INTEGER,
        "totalEngagement": INTEGER,
        "averageEngagementRate": NULLABLE_NUMBER,
        "totalReach": NULLABLE_INTEGER,
        "totalImpressions": {"type": "null"},
        "topPost": {
            "oneOf": [
                {"type": "null"},
                object_schema(
                    {"id": STRING, "caption": NULLABLE_STRING, "engagement_rate": NULLABLE_NUMBER},
                    {"engagement": INTEGER},
                ),
            ]
        },
        "engagementTrend": array_of(
            object_schema({"date": {"type": "string", "format": "date"}, "engagement": INTEGER})
        ),
    },
    {
        "totalViews": NULLABLE_INTEGER,
        "followers": NULLABLE_INTEGER,
        "startDate": {"type": "string", "format": "date"},
        "endDate": {"type": "string", "format": "date"},
        "lastAnalyticsSync": NULLABLE_DATE_TIME,
    },
)

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        SOCIAL,
        "GET",
        "/api/social/analytics/{accountId}",
        analytics,
        "An account's post analytics over a date range (default: the last 30 days)",
        query_params={
            "startDate": {"type": "string", "format": "date"},
            "endDate": {"type": "string", "format": "date"},
        },
        response_schema=ANALYTICS_SCHEMA,
    ),
    Endpoint(
        SOCIAL,
        "POST",
        "/api/social/analytics/{accountId}/sync",
        refresh,
        "metasync extension: read the account's posts and insights from Meta now",
        status_code=202,
        response_schema=object_schema(
            {"success": {"const": True}, "status": {"const": "queued"}, "accountId": STRING}
        ),
    ),
]
