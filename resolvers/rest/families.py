"""The five REST shim families (DESIGN.md §7), each with the error envelope of its document.

A family owns a set of path prefixes; any error under them — 400, 401, 404, 405, 429, 500 —
is rendered in that family's envelope, whether it came from an endpoint or from routing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ErrorBody = dict[str, Any]

# Machine codes for the envelopes that carry one.
_BUSINESS_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "META_API_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
_SOCIAL_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "rate_limit",
    500: "internal_error",
    502: "meta_api_error",
    503: "service_unavailable",
}
INTERNAL_MESSAGE = "An unexpected error occurred. Please try again."


@dataclass(frozen=True)
class RestError(Exception):
    """An error an endpoint answers with; rendered in the family's envelope."""

    status: int
    message: str
    field: str | None = None
    code: str | None = None
    details: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def _sync_envelope(err: RestError) -> ErrorBody:
    # spec/facebook-sync-api.md: {"success": false, "message": "...", "status": 404}
    body: ErrorBody = {"success": False, "message": err.message, "status": err.status}
    if err.field:
        body["field"] = err.field
    if err.code:
        body["code"] = err.code
    # Additive facts (Meta's code, a run id) beside the documented three; never replacing them.
    for key, value in (err.details or {}).items():
        body.setdefault(key, value)
    return body


def _business_envelope(err: RestError) -> ErrorBody:
    # spec/meta-business-api.md: {"success": false, "error": {"code", "message", "details"}}
    details = dict(err.details or {})
    if err.field:
        details.setdefault("field", err.field)
    return {
        "success": False,
        "error": {
            "code": err.code or _BUSINESS_CODES.get(err.status, "ERROR"),
            "message": err.message,
            "details": details,
        },
    }


def _social_envelope(err: RestError) -> ErrorBody:
    # spec/social-service-architecture.md: {"error": "validation_error", "message", "fields"}
    body: ErrorBody = {
        "error": err.code or _SOCIAL_CODES.get(err.status, "error"),
        "message": err.message,
    }
    if err.status == 400:
        body["fields"] = {err.field: err.message} if err.field else {}
    if err.details:
        body.update(err.details)
    return body


def _module_envelope(err: RestError) -> ErrorBody:
    # spec/meta-module-api.md: {"detail": "..."}
    body: ErrorBody = {"detail": err.message}
    if err.field:
        body["field"] = err.field
    return body


# What each envelope above always carries (required) and may carry (described); additive
# facts (Meta's code, a run id, the spec's "action") may appear beside them.
_STRING: dict[str, Any] = {"type": "string"}
_SYNC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["success", "message", "status"],
    "properties": {
        "success": {"const": False},
        "message": _STRING,
        "status": {"type": "integer"},
        "field": _STRING,
        "code": _STRING,
    },
}
_BUSINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": _STRING,
                "message": _STRING,
                "details": {"type": "object", "properties": {"field": _STRING}},
            },
        },
    },
}
_SOCIAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": _STRING,
        "message": _STRING,
        "fields": {"type": "object", "additionalProperties": _STRING},
    },
}
_MODULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": _STRING, "field": _STRING},
}


@dataclass(frozen=True)
class Family:
    name: str
    document: str
    prefixes: tuple[str, ...]
    envelope: Callable[[RestError], ErrorBody]
    # JSON schema of the envelope, for /openapi.json (a dict: not part of the hash).
    error_schema: dict[str, Any] = field(compare=False)

    def render(self, err: RestError) -> ErrorBody:
        return self.envelope(err)


FACEBOOK_SYNC = Family(
    "facebook-sync",
    "spec/facebook-sync-api.md",
    ("/api/facebook/",),
    _sync_envelope,
    _SYNC_SCHEMA,
)
AUTO_CONNECT = Family(
    "auto-connect",
    "spec/auto-connect.md",
    ("/api/facebook/auto-connect", "/api/cron/", "/api/health", "/api/webhook"),
    _sync_envelope,
    _SYNC_SCHEMA,
)
META_BUSINESS = Family(
    "meta-business",
    "spec/meta-business-api.md",
    (
        "/api/meta/auth/",
        "/api/meta/whatsapp/",
        "/api/meta/facebook/",
        "/api/meta/instagram/accounts",
        "/api/meta/instagram/media",
        "/api/meta/webhook",
    ),
    _business_envelope,
    _BUSINESS_SCHEMA,
)
SOCIAL = Family(
    "social",
    "spec/social-service-architecture.md",
    ("/api/social/", "/api/auth/social/"),
    _social_envelope,
    _SOCIAL_SCHEMA,
)
META_MODULE = Family(
    "meta-module",
    "spec/meta-module-api.md",
    ("/api/meta/",),  # the rest of /api/meta/: verify-user/, pages/, sync/, instagram/<id>/, post/
    _module_envelope,
    _MODULE_SCHEMA,
)

FAMILIES = (FACEBOOK_SYNC, AUTO_CONNECT, META_BUSINESS, SOCIAL, META_MODULE)


def family_for_path(path: str) -> Family | None:
    """The family owning ``path`` by its longest matching prefix (None outside /api)."""
    best: tuple[int, Family] | None = None
    for family in FAMILIES:
        for prefix in family.prefixes:
            matches = path == prefix.rstrip("/") or path.startswith(prefix)
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), family)
    return best[1] if best else None
