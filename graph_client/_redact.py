"""Keeping secrets out of messages, reprs and log lines.

Tokens travel in the ``Authorization`` header, but a few Graph calls must put a secret in the
query string (``client_secret`` and ``code`` for the OAuth exchange, ``fb_exchange_token``,
``input_token`` for ``debug_token``), and Meta's ``paging.next`` URLs repeat ``access_token``.
Anything that renders a URL goes through :func:`redact` first.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

_SECRET_PARAMS = (
    "access_token",
    "appsecret_proof",
    "client_secret",
    "code",
    "fb_exchange_token",
    "input_token",
)
_SECRET_RE = re.compile(r"(?P<key>\b(?:" + "|".join(_SECRET_PARAMS) + r"))=[^&\s\"']*")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")


def redact(text: str) -> str:
    """``text`` with the value of every secret query parameter and bearer token replaced."""
    text = _SECRET_RE.sub(r"\g<key>=REDACTED", text)
    return _BEARER_RE.sub(r"\1REDACTED", text)


def forget(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any of ``secrets`` — values Meta (or a proxy) may quote back bare,
    where no parameter name gives them away."""
    for secret in secrets:
        if len(secret) >= 8:  # shorter values are no secret and would mangle the text
            text = text.replace(secret, "REDACTED")
    return text


def forget_in(value: Any, secrets: list[str]) -> Any:
    """:func:`forget` through the strings of a JSON-like value."""
    if isinstance(value, str):
        return forget(value, secrets)
    if isinstance(value, Mapping):
        return {k: forget_in(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [forget_in(v, secrets) for v in value]
    return value


def secret_values(token: str | None, query: Mapping[str, object]) -> list[str]:
    """The secrets one call sends: its token and its secret query parameters."""
    found = [token] if token else []
    return found + [str(v) for k, v in query.items() if k in _SECRET_PARAMS and v]


def token_fingerprint(token: str) -> str:
    """A stable, non-reversible name for a token: safe to log, store and compare."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class _RedactHttpxUrls(logging.Filter):
    """httpx logs every request URL at INFO; OAuth and debug_token URLs carry secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact(str(arg)) if not isinstance(arg, int | float) else arg for arg in record.args
            )
        return True


_FILTER = _RedactHttpxUrls()


def install_httpx_log_filter() -> None:
    """Attach the redacting filter to httpx's logger (idempotent)."""
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
