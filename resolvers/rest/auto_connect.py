"""spec/auto-connect.md family: auto-connect after a Facebook login, the cron's sync of every
Page, and health.

Auto-connect changes which Pages the organization holds: owners and admins only (a member
gets 403). The cron endpoint takes ``Authorization: Bearer <CRON_SECRET>``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from domain.services.auto_connect import PageOutcome, SyncReport, auto_connect, sync_every_page
from domain.services.health import check_health
from domain.services.permissions import Action
from resolvers.http import JSONResponse
from resolvers.rest.common import (
    BOOLEAN,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array_of,
    iso,
    object_schema,
    require,
    translating_meta_errors,
)
from resolvers.rest.facebook_sync import meta_failure
from resolvers.rest.families import AUTO_CONNECT
from resolvers.rest.routing import Endpoint, RestContext

Json = dict[str, Any]

HEALTH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"enum": ["healthy", "degraded", "unhealthy"]},
        "checks": {
            "type": "object",
            "required": ["database", "facebookPages", "tokenExpiration", "conversations", "sync"],
            "additionalProperties": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"enum": ["ok", "warning", "error"]}},
            },
        },
    },
}


async def health(ctx: RestContext) -> Response:
    services = ctx.services
    async with services.session_factory() as session:
        report = await check_health(session, services.clock.now(), services.health_thresholds)
    checks = dict(report.checks)
    status = report.status
    for name, probe in services.health_probes.items():
        result: dict[str, Any] = await probe()
        checks[name] = result
        if (result.get("status") == "error" and status == "healthy") or (
            result.get("status") == "warning" and status == "healthy"
        ):
            status = "degraded"
    # Monitors read the status code: 503 only when metasync cannot serve at all.
    code = 503 if status == "unhealthy" else 200
    return JSONResponse({"status": status, "checks": checks}, status_code=code)


def _duration(report: SyncReport) -> str:
    return f"{report.duration_seconds:.2f}s"  # the spec's "5.2s"


def _outcome(outcome: PageOutcome) -> Json:
    run = outcome.run
    return {
        "id": str(outcome.page_id),
        "pageId": outcome.meta_page_id,
        "name": outcome.name,
        "success": outcome.success,
        "status": outcome.status,
        "conversations": outcome.conversations,
        "runId": str(run.id) if run else None,
        "finishedAt": iso(run.finished_at) if run else None,
        "error": outcome.error,
    }


async def auto_connect_pages(ctx: RestContext) -> Json:
    require(ctx, Action.CONNECT_PAGES)
    services, viewer = ctx.services, ctx.viewer
    report = await auto_connect(
        services.uow,
        services.meta,
        services.vault,
        services.bus,
        services.clock,
        organization_id=viewer.organization_id,
        user_id=viewer.user_id,
    )
    return {
        "success": True,
        "pages": report.pages_found,
        "connected": report.connected,
        "totalConversations": report.total_conversations,
        "duration": _duration(report),
        "results": [_outcome(o) for o in report.outcomes],
        "succeeded": report.succeeded,
        "warnings": report.warnings,
    }


async def cron_sync_all_pages(ctx: RestContext) -> Json:
    services = ctx.services
    report = await sync_every_page(
        services.uow, services.bus, wait_seconds=services.sync_wait_seconds
    )
    pages = len(report.outcomes)
    return {
        "success": True,
        "message": f"Synced {report.total_conversations} conversations across {pages} page(s)",
        "pages": pages,
        "successCount": report.succeeded,
        "totalSynced": report.total_conversations,
        "duration": _duration(report),
        "results": [_outcome(o) for o in report.outcomes],
    }


_INT = {"type": "integer"}
_RESULT = object_schema(
    {"id": STRING, "success": BOOLEAN, "status": STRING, "conversations": _INT},
    {
        "pageId": NULLABLE_STRING,
        "name": NULLABLE_STRING,
        "runId": NULLABLE_STRING,
        "finishedAt": NULLABLE_STRING,
        "error": NULLABLE_STRING,
    },
)

ENDPOINTS = [
    Endpoint(
        AUTO_CONNECT,
        "POST",
        "/api/facebook/auto-connect",
        translating_meta_errors(auto_connect_pages, meta_failure),
        "Connect every Page the stored Facebook logins reach and sync each (owners, admins)",
        response_schema=object_schema(
            {
                "success": {"const": True},
                "pages": _INT,
                "connected": _INT,
                "totalConversations": _INT,
                "duration": STRING,
                "results": array_of(_RESULT),
            },
            {"succeeded": _INT, "warnings": STRINGS},
        ),
        # 400: a domain refusal (no stored Meta login); 403: a member; 429/502: Meta's.
        errors=(400, 403, 429, 502),
    ),
    Endpoint(
        AUTO_CONNECT,
        "GET",
        "/api/cron/sync-all-pages",
        cron_sync_all_pages,
        "Incremental sync of every Page of every organization (Bearer CRON_SECRET)",
        auth="cron",
        response_schema=object_schema(
            {
                "success": {"const": True},
                "message": STRING,
                "pages": _INT,
                "successCount": _INT,
                "totalSynced": _INT,
                "duration": STRING,
            },
            {"results": array_of(_RESULT)},
        ),
    ),
    Endpoint(
        AUTO_CONNECT,
        "GET",
        "/api/health",
        health,
        "System health: database, pages, token expiry, conversations, sync freshness",
        auth="none",
        response_schema=HEALTH_SCHEMA,
        other_responses={503: HEALTH_SCHEMA},
    ),
]
