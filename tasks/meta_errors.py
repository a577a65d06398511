"""Graph errors in the domain's terms (the MetaError family of domain/meta.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from domain.meta import (
    MetaError,
    MetaOutcomeUnknown,
    MetaPermissionDenied,
    MetaRateLimited,
    MetaTokenInvalid,
    MetaUnavailable,
)
from graph_client import (
    CircuitOpenError,
    GraphError,
    PermissionDeniedError,
    RateLimitedError,
    ThrottledError,
    TokenInvalidError,
    TransientError,
)


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    try:
        yield
    except GraphError as exc:
        kwargs: dict[str, Any] = {
            "meta_code": exc.code,
            "meta_subcode": exc.subcode,
            "fbtrace_id": exc.fbtrace_id,
            "transient": exc.is_transient,
            "retry_after": exc.retry_after,
        }
        if isinstance(exc, CircuitOpenError):
            raise MetaUnavailable(exc.message, **kwargs) from exc
        if isinstance(exc, TransientError) and exc.ambiguous:
            # A creating call the client would not repeat: read Meta before trying again.
            raise MetaOutcomeUnknown(exc.message, **kwargs) from exc
        if isinstance(exc, TokenInvalidError):
            raise MetaTokenInvalid(exc.message, **kwargs) from exc
        if isinstance(exc, RateLimitedError | ThrottledError):
            raise MetaRateLimited(exc.message, **kwargs) from exc
        if isinstance(exc, PermissionDeniedError):
            raise MetaPermissionDenied(exc.message, **kwargs) from exc
        raise MetaError(exc.message, **kwargs) from exc
