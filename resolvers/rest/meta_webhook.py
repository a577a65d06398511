"""spec/meta-business-api.md webhook management: GET /api/meta/webhook and
POST /api/meta/webhook/configure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.services.webhook_config import PAGE_FIELDS, configure, get_config
from resolvers.rest.families import META_BUSINESS
from resolvers.rest.routing import Endpoint, RestContext

FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": "boolean"} for name in PAGE_FIELDS},
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def get_webhook(ctx: RestContext) -> dict[str, Any]:
    services = ctx.services
    view = await get_config(services.uow(), ctx.viewer.organization_id)
    config = view.config
    return {
        "success": True,
        "data": {
            "id": str(config.id) if config else None,
            # One token serves the whole deployment; it is shown masked, never in full.
            "verifyToken": "****" + services.webhook_verify_token[-4:],
            "targetUrl": services.webhook_callback_url,
            "fields": view.fields,
            "status": "active" if view.pages_subscribed else "inactive",
            "createdAt": _iso(config.created_at) if config else None,
            "updatedAt": _iso(config.updated_at) if config else None,
            "pagesSubscribed": view.pages_subscribed,
            "pagesTotal": view.pages_total,
        },
    }


async def configure_webhook(ctx: RestContext) -> dict[str, Any]:
    services = ctx.services
    body = await ctx.json_body()
    token = body.get("verifyToken")
    config, confirmed, tried = await configure(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        verify_token=token if isinstance(token, str) else None,
        expected_verify_token=services.webhook_verify_token,
        fields=body.get("fields"),
        callback_url=services.webhook_callback_url,
    )
    return {
        "success": True,
        "data": {
            "id": str(config.id),
            "status": "active" if confirmed else "inactive",
            "fields": {name: name in config.fields for name in PAGE_FIELDS},
            # What reached Meta: Pages whose subscription Meta confirmed.
            "applied_on_meta": confirmed == tried and tried > 0,
            "pagesSubscribed": confirmed,
            "pagesTotal": tried,
        },
    }


ENDPOINTS = [
    Endpoint(META_BUSINESS, "GET", "/api/meta/webhook", get_webhook, "Webhook configuration"),
    Endpoint(
        META_BUSINESS,
        "POST",
        "/api/meta/webhook/configure",
        configure_webhook,
        "Choose the webhook fields and subscribe every Page to them on Meta",
        request_schema={
            "type": "object",
            "required": ["fields"],
            "properties": {"verifyToken": {"type": "string"}, "fields": FIELDS_SCHEMA},
        },
    ),
]
