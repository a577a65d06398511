"""Meta's refusal of a run, kept on the row (``details["meta_error"]``) so whoever waits on
the run — a REST shim answering synchronously — can answer with Meta's own code."""

from __future__ import annotations

from typing import Any

from domain.meta import MetaError, MetaPermissionDenied, MetaRateLimited, MetaTokenInvalid

# Most specific first: describe() takes the first class the error is an instance of.
_KINDS: tuple[tuple[str, type[MetaError]], ...] = (
    ("token_invalid", MetaTokenInvalid),
    ("rate_limited", MetaRateLimited),
    ("permission_denied", MetaPermissionDenied),
    ("meta", MetaError),
)


def describe(exc: MetaError) -> dict[str, Any]:
    kind = next(name for name, cls in _KINDS if isinstance(exc, cls))
    return {
        "kind": kind,
        "message": exc.message,
        "code": exc.meta_code,
        "subcode": exc.meta_subcode,
        "fbtrace_id": exc.fbtrace_id,
        "transient": exc.transient,
        "retry_after": exc.retry_after,
    }


def rebuild(info: dict[str, Any]) -> MetaError:
    """The error ``describe`` recorded, as the same MetaError class."""
    cls = dict(_KINDS).get(str(info.get("kind")), MetaError)
    return cls(
        str(info.get("message") or "Meta refused the sync"),
        meta_code=info.get("code"),
        meta_subcode=info.get("subcode"),
        fbtrace_id=info.get("fbtrace_id"),
        transient=bool(info.get("transient")),
        retry_after=info.get("retry_after"),
    )
