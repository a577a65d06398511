"""Schema extensions: fresh loaders per operation, error masking, and the limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from domain.errors import DomainError
from schema.context import Context

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000
CACHE_SIZE = 512


class PerOperationLoaders(SchemaExtension):
    """Every operation gets its own DataLoaders (so nothing is cached across operations of
    one WebSocket, and no batch mixes two operations)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.start_operation()
        yield


def _should_mask(error: GraphQLError) -> bool:
    # GraphQL's own errors (syntax, validation, limits) and our domain errors speak to the
    # client; anything else is an internal failure and is masked.
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not isinstance(original, DomainError | PermissionError)


def extensions(*, production: bool) -> list[Any]:
    # Classes or factories, so each request gets fresh instances. The parser and validation
    # caches are bounded LRUs that Strawberry shares process-wide per maxsize.
    out: list[Any] = [
        PerOperationLoaders,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    if production:
        out.append(DisableIntrospection)
    return out
