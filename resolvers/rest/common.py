"""Pieces the REST shim families share: reading inputs, writing dates, and turning Meta's
errors into each family's answer.

Every reader names the field it rejects (InvalidInputError: a 400 in the family's envelope),
so bad input never reaches a service or turns into a 500.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidInputError
from domain.meta import MetaError
from domain.services.permissions import Action, may
from resolvers.rest.families import RestError
from resolvers.rest.routing import Handler, RestContext

_META_ID = re.compile(r"[0-9]{1,64}")

# JSON-schema pieces for the endpoint declarations (they become /openapi.json).
STRING: dict[str, Any] = {"type": "string"}
NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
NULLABLE_INTEGER: dict[str, Any] = {"type": ["integer", "null"]}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
STRINGS: dict[str, Any] = {"type": "array", "items": STRING}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def object_schema(
    documented: dict[str, Any], additive: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An object with its documented fields required and its additive ones described."""
    return {
        "type": "object",
        "required": list(documented),
        "properties": {**documented, **(additive or {})},
    }


def array_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def text_field(body: dict[str, Any], name: str, *, max_length: int = 200) -> str:
    """A required, non-blank string field, stripped."""
    value = optional_text_field(body, name, max_length=max_length)
    if value is None:
        raise InvalidInputError(name, "is required")
    return value


def optional_text_field(body: dict[str, Any], name: str, *, max_length: int = 200) -> str | None:
    """A string field that may be absent or null (blank counts as absent)."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(name, "must be a string")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInputError(name, f"must be at most {max_length} characters")
    return value or None


def uuid_value(value: object, name: str) -> uuid.UUID:
    """A row id as the shims render it (a UUID string)."""
    if value is None or value == "":
        raise InvalidInputError(name, "is required")
    if not isinstance(value, str):
        raise InvalidInputError(name, "must be an id string")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInputError(name, "is not a valid id") from exc


def meta_id_value(value: object, name: str) -> str:
    """A Meta object id (Page, Instagram account): digits, as Meta writes them. A JSON number
    is taken too, as legacy clients send ids either way."""
    if value is None or value == "":
        raise InvalidInputError(name, "is required")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not _META_ID.fullmatch(value.strip()):
        raise InvalidInputError(name, "must be a Meta id (digits)")
    return value.strip()


def iso(value: datetime | None) -> str | None:
    """UTC ISO-8601 with a Z, to the second."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def translating_meta_errors(handler: Handler, answer: Callable[[MetaError], RestError]) -> Handler:
    """``handler`` with Meta's refusals answered as ``answer`` says (each family documents
    its own), instead of the generic 400 every other domain error gets."""

    async def run(ctx: RestContext) -> Any:
        try:
            return await handler(ctx)
        except MetaError as exc:
            raise answer(exc) from exc

    return run


def meta_details(exc: MetaError, *, snake_case: bool = False) -> dict[str, Any]:
    """What Meta said, for the caller to show or report (never a token: messages are
    redacted by the Graph client). Keys follow the family's style."""
    names = ("meta_code", "meta_subcode", "fbtrace_id") if snake_case else (
        "metaCode", "metaSubcode", "fbtraceId"
    )  # fmt: skip
    values = (exc.meta_code, exc.meta_subcode, exc.fbtrace_id)
    return {k: v for k, v in zip(names, values, strict=True) if v is not None}


def retry_after_header(exc: MetaError) -> dict[str, str] | None:
    if not exc.retry_after:
        return None
    return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}


def require(ctx: RestContext, action: Action) -> None:
    """A 403 when the caller's role may not do ``action`` (domain.services.permissions)."""
    role = ctx.viewer.role
    if not may(role, action):
        raise RestError(403, f"Your role ({role}) may not {action}: ask an owner or an admin")
