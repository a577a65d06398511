"""spec/auto-connect.md family: health (this issue); auto-connect and cron come with sync."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from domain.services.health import check_health
from resolvers.http import JSONResponse
from resolvers.rest.families import AUTO_CONNECT
from resolvers.rest.routing import Endpoint, RestContext

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
        report = await check_health(session, services.clock.now())
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


ENDPOINTS = [
    Endpoint(
        AUTO_CONNECT,
        "GET",
        "/api/health",
        health,
        "System health: database, pages, token expiry, conversations, sync freshness",
        auth="none",
        response_schema=HEALTH_SCHEMA,
    ),
]
