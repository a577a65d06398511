"""spec/meta-business-api.md webhook management: GET /api/meta/webhook and
POST /api/meta/webhook/configure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.services.permissions import Action
from domain.services.webhook_config import PAGE_FIELDS, configure, get_config
from resolvers.rest.common import (
    BOOLEAN,
    NULLABLE_DATE_TIME,
    NULLABLE_STRING,
    STRING,
    object_schema,
    require,
)
from resolvers.rest.families import META_BUSINESS
from resolvers.rest.meta_business import success_schema
from resolvers.rest.routing import Endpoint, RestContext

_INT: dict[str, Any] = {"type": "integer"}
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
    require(ctx, Action.CONFIGURE_WEBHOOKS)
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


_FIELDS_STATE: dict[str, Any] = {
    "type": "object",
    "required": list(PAGE_FIELDS),
    "properties": dict.fromkeys(PAGE_FIELDS, BOOLEAN),
}
_STATUS: dict[str, Any] = {"enum": ["active", "inactive"]}

ENDPOINTS = [
    Endpoint(
        META_BUSINESS,
        "GET",
        "/api/meta/webhook",
        get_webhook,
        "Webhook configuration",
        response_schema=success_schema(
            object_schema(
                {
                    "id": NULLABLE_STRING,
                    "verifyToken": STRING,
                    "targetUrl": STRING,
                    "fields": _FIELDS_STATE,
                    "status": _STATUS,
                    "createdAt": NULLABLE_DATE_TIME,
                    "updatedAt": NULLABLE_DATE_TIME,
                },
                {"pagesSubscribed": _INT, "pagesTotal": _INT},
            )
        ),
    ),
    Endpoint(
        META_BUSINESS,
        "POST",
        "/api/meta/webhook/configure",
        configure_webhook,
        "Choose the webhook fields and subscribe every Page to them on Meta (owners and admins)",
        errors=(400, 403),
        request_schema={
            "type": "object",
            "required": ["fields"],
            "properties": {"verifyToken": {"type": "string"}, "fields": FIELDS_SCHEMA},
            "example": {"fields": {"messages": True, "messaging_postbacks": True, "feed": False}},
        },
        response_schema=success_schema(
            object_schema(
                {"id": STRING, "status": _STATUS, "fields": _FIELDS_STATE},
                {"applied_on_meta": BOOLEAN, "pagesSubscribed": _INT, "pagesTotal": _INT},
            )
        ),
    ),
]
