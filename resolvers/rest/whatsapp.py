"""spec/meta-business-api.md, WhatsApp Business API: account, message templates, metrics.

Same family as ``meta_business`` (envelope, Meta failures). Every endpoint takes an optional
``wabaId`` query parameter; without it the organization's first WhatsApp account is used.
Templates are checked against Meta's rules before Meta sees them (400 naming the field).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from domain.errors import InvalidInputError
from domain.models import Template, TemplateStatus, WhatsAppAccount
from domain.repositories.templates import TemplateRepository, template_filter
from domain.services import whatsapp_templates as templates
from domain.services.permissions import Action
from domain.services.template_rules import CATEGORIES, NAME_REUSE_BLOCK
from domain.services.whatsapp_metrics import METRICS, message_metrics
from resolvers.rest.common import (
    DATE_TIME,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array_of,
    iso,
    object_schema,
    require,
    uuid_value,
)
from resolvers.rest.meta_business import META_ERRORS, business_endpoint
from resolvers.rest.routing import Endpoint, Handler, RestContext

Json = dict[str, Any]

# The spec's status filter values, and Meta's statuses they stand for.
STATUS_FILTER = {
    "approved": ("APPROVED",),
    "in_review": ("PENDING", "IN_APPEAL"),
    "rejected": ("REJECTED",),
}
META_STATUSES = {s.value for s in TemplateStatus}
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def _ok(data: Json) -> Json:
    return {"success": True, "data": data}


def _waba(ctx: RestContext) -> str | None:
    value = ctx.request.query_params.get("wabaId")
    if value is not None and not value.isdigit():
        raise InvalidInputError("wabaId", "must be a Meta id (digits)")
    return value


def _int_param(ctx: RestContext, name: str, default: int, low: int, high: int) -> int:
    raw = ctx.request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInputError(name, "must be an integer") from exc
    if not low <= value <= high:
        raise InvalidInputError(name, f"must be between {low} and {high}")
    return value


def _date_param(ctx: RestContext, name: str) -> datetime:
    raw = ctx.request.query_params.get(name)
    if not raw:
        raise InvalidInputError(name, "is required (an ISO date)")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(name, "must be an ISO date or date-time") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- account --------------------------------------------------------------------------------


def _account_data(account: WhatsAppAccount) -> Json:
    number = account.phone_numbers[0] if account.phone_numbers else {}
    profile = account.business_profile or {}
    return {
        "id": str(account.id),
        "wabaId": account.waba_id,
        "phoneNumberId": number.get("id"),
        "phoneNumber": number.get("display_phone_number"),
        "displayName": number.get("verified_name") or account.name,
        "status": number.get("status") or account.status,
        "businessProfile": {
            "about": profile.get("about"),
            "address": profile.get("address"),
            "description": profile.get("description"),
            "email": profile.get("email"),
            "websites": list(profile.get("websites") or []),
            "profilePictureUrl": profile.get("profile_picture_url"),
        },
        "qualityRating": account.quality_rating,
        "createdAt": iso(account.created_at),
        "messagingLimitTier": account.messaging_limit_tier,
        "phoneNumbers": [
            {
                "id": p.get("id"),
                "phoneNumber": p.get("display_phone_number"),
                "displayName": p.get("verified_name"),
                "qualityRating": p.get("quality_rating"),
                "status": p.get("status"),
                "messagingLimitTier": p.get("messaging_limit_tier"),
            }
            for p in account.phone_numbers or []
        ],
        "lastSyncedAt": iso(account.last_synced_at),
    }


async def account(ctx: RestContext) -> Json:
    async with ctx.services.uow() as uow:
        found = await templates.find_account(uow, ctx.viewer.organization_id, _waba(ctx))
    return _ok(_account_data(found))


# --- templates ------------------------------------------------------------------------------


def _template_data(row: Template) -> Json:
    return {
        "id": str(row.id),
        "templateId": row.meta_template_id,
        "name": row.name,
        "language": row.language,
        "category": row.category,
        "status": row.status,
        "components": row.components,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "rejectedReason": row.rejected_reason,
        "qualityScore": row.quality_score,
    }


async def list_templates(ctx: RestContext) -> Json:
    query = ctx.request.query_params
    status = query.get("status")
    statuses: tuple[str, ...] = ()
    if status:
        statuses = STATUS_FILTER.get(status.lower()) or (status.upper(),)
        if status.lower() not in STATUS_FILTER and status.upper() not in META_STATUSES:
            raise InvalidInputError(
                "status", "must be approved, in_review, rejected or one of Meta's statuses"
            )
    category = query.get("category")
    if category and category.upper() not in CATEGORIES:
        raise InvalidInputError("category", f"must be one of {', '.join(CATEGORIES)}")
    limit = _int_param(ctx, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(ctx, "offset", 0, 0, 1_000_000)
    org = ctx.viewer.organization_id
    async with ctx.services.uow() as uow:
        found = await templates.find_account(uow, org, _waba(ctx))
        where = template_filter(found.id, statuses, category.upper() if category else None)
        repo = TemplateRepository(uow.session, org)
        rows = await repo.page(where, limit=limit, offset=offset)
        total = await repo.count(where)
    return _ok(
        {
            "templates": [_template_data(r) for r in rows],
            "pagination": {
                "total": total,
                "limit": limit,
                "offset": offset,
                "nextOffset": offset + limit if offset + limit < total else None,
            },
        }
    )


async def create_template(ctx: RestContext) -> Json:
    require(ctx, Action.MANAGE_TEMPLATES)
    services = ctx.services
    row = await templates.create_template(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        waba_id=_waba(ctx),
        body=await ctx.json_body(),
        now=services.clock.now(),
    )
    return _ok(
        {
            "id": str(row.id),
            "templateId": row.meta_template_id,
            "name": row.name,
            "status": row.status,
            "createdAt": iso(row.created_at),
            "language": row.language,
            "category": row.category,
        }
    )


async def update_template(ctx: RestContext) -> Json:
    require(ctx, Action.MANAGE_TEMPLATES)
    services = ctx.services
    row = await templates.edit_template(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        template_id=uuid_value(ctx.request.path_params["id"], "id"),
        body=await ctx.json_body(),
        now=services.clock.now(),
    )
    return _ok({"id": str(row.id), "status": row.status, "templateId": row.meta_template_id})


async def delete_template(ctx: RestContext) -> Json:
    require(ctx, Action.MANAGE_TEMPLATES)
    services = ctx.services
    every = ctx.request.query_params.get("allLanguages", "false").lower()
    if every not in ("true", "false"):
        raise InvalidInputError("allLanguages", "must be true or false")
    deleted = await templates.delete_template(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        template_id=uuid_value(ctx.request.path_params["id"], "id"),
        all_languages=every == "true",
        now=services.clock.now(),
    )
    return _ok(
        {
            "id": ctx.request.path_params["id"],
            "deleted": [str(r.id) for r in deleted],
            "status": "DELETED",
            "nameReusableAfter": iso(services.clock.now() + NAME_REUSE_BLOCK),
        }
    )


async def sync_templates(ctx: RestContext) -> Json:
    services = ctx.services
    org = ctx.viewer.organization_id
    async with services.uow() as uow:
        found = await templates.find_account(uow, org, _waba(ctx))
    report = await templates.sync_templates(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=org,
        account_id=found.id,
        now=services.clock.now(),
    )
    return _ok(
        {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "removed": report.removed,
        }
    )


# --- metrics --------------------------------------------------------------------------------


async def metrics(ctx: RestContext) -> Json:
    query = ctx.request.query_params
    names = [m.strip() for v in query.getlist("metrics") for m in v.split(",") if m.strip()]
    services = ctx.services
    report = await message_metrics(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        waba_id=_waba(ctx),
        start=_date_param(ctx, "startDate"),
        end=_date_param(ctx, "endDate"),
        granularity=query.get("granularity", "day"),
        metrics=names or ["sent", "delivered"],
        now=services.clock.now(),
    )
    return _ok(
        {
            "metrics": {
                name: [{"timestamp": iso(t), "value": v} for t, v in points]
                for name, points in report.series.items()
            },
            "totals": {**report.totals, "deliveryRate": report.delivery_rate},
            "unavailable": report.unavailable,
        }
    )


# --- declarations ---------------------------------------------------------------------------

NULLABLE_INT: Json = {"type": ["integer", "null"]}
_COMPONENT: Json = {"type": "object", "required": ["type"]}
_TEMPLATE = object_schema(
    {
        "id": STRING,
        "templateId": NULLABLE_STRING,
        "name": STRING,
        "language": STRING,
        "category": STRING,
        "status": STRING,
        "components": array_of(_COMPONENT),
        "createdAt": DATE_TIME,
        "updatedAt": DATE_TIME,
    },
    {"rejectedReason": NULLABLE_STRING, "qualityScore": NULLABLE_STRING},
)
_TEMPLATE_BODY = {
    **object_schema(
        {
            "name": STRING,
            "language": STRING,
            "category": STRING,
            "components": array_of(_COMPONENT),
        }
    ),
    "example": {
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, order {{2}} ships today.",
                "example": {"body_text": [["Ana", "A-12"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track it"}]},
        ],
    },
}
_POINTS = array_of(object_schema({"timestamp": DATE_TIME, "value": {"type": "integer"}}))
_WABA_PARAM: dict[str, Json] = {"wabaId": STRING}


def _endpoint(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    data: Json,
    *,
    request: Json | None = None,
    query: dict[str, Json] | None = None,
    errors: tuple[int, ...] = META_ERRORS,
    required_query: tuple[str, ...] = (),
) -> Endpoint:
    return business_endpoint(
        method,
        path,
        handler,
        summary,
        data,
        request,
        {**_WABA_PARAM, **(query or {})},
        errors,
        required_query,
    )


ENDPOINTS: list[Endpoint] = [
    _endpoint(
        "GET",
        "/api/meta/whatsapp/account",
        account,
        "The WhatsApp Business account: number, display name, profile, quality rating",
        object_schema(
            {
                "id": STRING,
                "wabaId": STRING,
                "phoneNumberId": NULLABLE_STRING,
                "phoneNumber": NULLABLE_STRING,
                "displayName": NULLABLE_STRING,
                "status": STRING,
                "businessProfile": {"type": "object"},
                "qualityRating": NULLABLE_STRING,
                "createdAt": DATE_TIME,
            },
            {"messagingLimitTier": NULLABLE_STRING, "phoneNumbers": {"type": "array"}},
        ),
        errors=(),  # read from metasync's copy
    ),
    _endpoint(
        "GET",
        "/api/meta/whatsapp/templates",
        list_templates,
        "Message templates (status approved|in_review|rejected or a Meta status, category)",
        object_schema(
            {
                "templates": array_of(_TEMPLATE),
                "pagination": object_schema(
                    {
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "nextOffset": NULLABLE_INT,
                    }
                ),
            }
        ),
        query={"status": STRING, "category": STRING, "limit": STRING, "offset": STRING},
        errors=(),  # read from metasync's copy
    ),
    _endpoint(
        "POST",
        "/api/meta/whatsapp/templates",
        create_template,
        "Submit a template to Meta's review (checked against Meta's rules first)",
        object_schema(
            {
                "id": STRING,
                "templateId": STRING,
                "name": STRING,
                "status": STRING,
                "createdAt": DATE_TIME,
            },
            {"language": STRING, "category": STRING},
        ),
        request=_TEMPLATE_BODY,
    ),
    _endpoint(
        "PUT",
        "/api/meta/whatsapp/templates/{id}",
        update_template,
        "Edit an APPROVED, REJECTED or PAUSED template's components or category (Meta's limits)",
        object_schema({"id": STRING, "status": STRING}, {"templateId": NULLABLE_STRING}),
        request=_TEMPLATE_BODY,
    ),
    _endpoint(
        "DELETE",
        "/api/meta/whatsapp/templates/{id}",
        delete_template,
        "Delete a template (allLanguages=true: by name, every language); the name is blocked "
        "for 30 days",
        object_schema(
            {"id": STRING, "status": {"const": "DELETED"}},
            {"deleted": STRINGS, "nameReusableAfter": DATE_TIME},
        ),
        query={"allLanguages": {"type": "boolean"}},
    ),
    _endpoint(
        "POST",
        "/api/meta/whatsapp/templates/sync",
        sync_templates,
        "Read every template from Meta now (the webhook's fallback)",
        object_schema({"created": {"type": "integer"}, "updated": {"type": "integer"}}),
    ),
    _endpoint(
        "GET",
        "/api/meta/whatsapp/metrics",
        metrics,
        "Sent and delivered messages over time with totals and deliveryRate (Meta's analytics; "
        "read counts are not in them)",
        object_schema(
            {
                "metrics": {"type": "object", "additionalProperties": _POINTS},
                "totals": object_schema(
                    {
                        "sent": {"type": "integer"},
                        "delivered": {"type": "integer"},
                        "deliveryRate": {"type": ["number", "null"]},
                    }
                ),
            },
            {"unavailable": {"type": "object"}},
        ),
        query={
            "startDate": DATE_TIME,
            "endDate": DATE_TIME,
            "granularity": {"enum": ["day", "hour"]},
            "metrics": {"type": "array", "items": {"enum": list(METRICS)}},
        },
        required_query=("startDate", "endDate"),
    ),
]
