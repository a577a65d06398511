"""Errors as data: every mutation returns a union of its success type and these."""

from __future__ import annotations

import strawberry

from schema.enums import ErrorCode


@strawberry.interface
class Error:
    message: str
    code: ErrorCode


@strawberry.type
class FieldError:
    field: str
    message: str


@strawberry.type
class ValidationError(Error):
    fields: list[FieldError]


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class RateLimitedError(Error):
    retry_after_seconds: int | None


@strawberry.type
class MetaApiError(Error):
    meta_code: int | None
    meta_subcode: int | None
    fbtrace_id: str | None


@strawberry.type
class ReauthorizationRequiredError(Error):
    connection_id: strawberry.ID | None


ERROR_TYPES = (
    ValidationError,
    NotFoundError,
    RateLimitedError,
    MetaApiError,
    ReauthorizationRequiredError,
)

# Every error a mutation can answer with; each mutation's result union is its success type
# and these (resolvers.graphql.errors maps domain errors onto them in one place).
AnyError = (
    ValidationError | NotFoundError | RateLimitedError | MetaApiError | ReauthorizationRequiredError
)
