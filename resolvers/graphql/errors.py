"""Domain errors as GraphQL data (DESIGN.md §6): the one place they are mapped."""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from domain.errors import DomainError, InvalidInputError
from domain.errors import NotFoundError as DomainNotFound
from domain.errors import RateLimitedError as DomainRateLimited
from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid
from schema.enums import ErrorCode
from schema.errors import (
    AnyError,
    FieldError,
    MetaApiError,
    NotFoundError,
    RateLimitedError,
    ReauthorizationRequiredError,
    ValidationError,
)

P = ParamSpec("P")
R = TypeVar("R")


def graphql_field(field: str) -> str:
    """A domain field name as GraphQL clients spell it. Services name fields as the REST
    shims do (snake_case, ``body`` for the whole payload); here the payload is ``input``.
    Only the first segment is renamed: in ``custom_fields.some_key`` the key is the client's."""
    head, dot, rest = field.partition(".")
    if head == "body":
        head = "input"
    first, *others = head.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in others) + dot + rest


def error_result(exc: DomainError) -> AnyError:
    code = ErrorCode(exc.code.value)
    if isinstance(exc, InvalidInputError):
        return ValidationError(
            message=f"{graphql_field(exc.field)}: {exc.problem}",
            code=code,
            fields=[FieldError(field=graphql_field(exc.field), message=exc.problem)],
        )
    if isinstance(exc, DomainNotFound):
        return NotFoundError(message=exc.message, code=code)
    if isinstance(exc, DomainRateLimited):
        return RateLimitedError(
            message=exc.message, code=code, retry_after_seconds=exc.retry_after_seconds
        )
    if isinstance(exc, MetaRateLimited):
        wait = None if exc.retry_after is None else math.ceil(exc.retry_after)
        return RateLimitedError(message=exc.message, code=code, retry_after_seconds=wait)
    if isinstance(exc, MetaTokenInvalid):
        return ReauthorizationRequiredError(message=exc.message, code=code, connection_id=None)
    if isinstance(exc, MetaError):
        return MetaApiError(
            message=exc.message,
            code=code,
            meta_code=exc.meta_code,
            meta_subcode=exc.meta_subcode,
            fbtrace_id=exc.fbtrace_id,
        )
    # Conflicts and other refusals: the request itself cannot be done as asked.
    return ValidationError(message=exc.message, code=code, fields=[])


def errors_as_data(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R | AnyError]]:
    """Answer a mutation's domain errors as members of its result union; anything else is
    an internal failure (masked by the schema's extension)."""

    @functools.wraps(resolver)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R | AnyError:
        try:
            return await resolver(*args, **kwargs)
        except DomainError as exc:
            return error_result(exc)

    return run
