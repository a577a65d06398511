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
