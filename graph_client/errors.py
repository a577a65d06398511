"""Meta's errors as one exception tree, chosen by ``code`` and ``error_subcode``.

Meta's HTTP status is not a reliable signal (a 190 usually comes back as a 400), so the class is
picked from the error envelope; the status only decides when there is no envelope (an HTML 502,
an empty 503). The tree::

    GraphError
    ├── TokenInvalidError            190 (any subcode), 102: reauthorize, never retry
    ├── PermissionDeniedError        10, 200-299
    │   └── OutsideMessagingWindowError   10/2018278, IG 2534022, WhatsApp 131047
    ├── RateLimitedError             4, 17, 32, 341, 613, 80000-80014, WA 130429/131048/131056
    │   └── ThrottledError           our own limiter refused to call (no request was sent)
    ├── InvalidParameterError        100, WA 131008/131009
    ├── PolicyBlockError             368, WA 130497/131031
    ├── IGPublishingError            IG content-publishing subcodes 2207xxx
    │   └── MediaNotReadyError       9007/2207027: retry shortly
    ├── WhatsAppError                other WhatsApp codes 130000-139999
    │   └── TemplateError            132000-132999
    └── TransientError               1, 2, is_transient, WA 131000/131016/133004, 5xx, network
        └── CircuitOpenError         the breaker for the host is open (no request was sent)

Nothing here ever contains a token: messages go through :func:`graph_client._redact.redact`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graph_client._redact import forget, forget_in, redact
from graph_client.usage import header_value, parse_usage

_RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, 80007, 130429, 131048, 131056})
_TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
_POLICY_CODES = frozenset({368, 130497, 131031})
_INVALID_PARAMETER_CODES = frozenset({100, 131008, 131009})
_OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})
# IG content publishing: subcodes Meta documents as transient (server error, media download
# timed out, create media failed). Everything else in the 2207xxx range is final.
_IG_TRANSIENT_SUBCODES = frozenset({2207001, 2207003, 2207032})
_IG_MEDIA_NOT_READY = (9007, 2207027)


class GraphError(Exception):
    """An error answered by (or on the way to) Meta's Graph API."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        is_transient: bool = False,
        retry_after: float | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        user_title: str | None = None,
        user_message: str | None = None,
        error_data: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = redact(message)
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.is_transient = is_transient
        self.retry_after = retry_after
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.user_title = user_title
        self.user_message = user_message
        self.error_data: Mapping[str, Any] = error_data or {}
        super().__init__(self.message)

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed if repeated after a short backoff."""
        return False

    def forget_secrets(self, secrets: list[str]) -> None:
        """Drop the call's secrets wherever Meta's answer quoted them back: this error's text
        ends up in logs, stored run errors and API answers."""
        self.message = forget(self.message, secrets)
        self.user_title = forget(self.user_title, secrets) if self.user_title else None
        self.user_message = forget(self.user_message, secrets) if self.user_message else None
        self.error_data = forget_in(self.error_data, secrets)
        self.args = (self.message,)

    def __str__(self) -> str:
        where = f"#{self.code}" if self.code is not None else f"HTTP {self.http_status}"
        if self.subcode is not None:
            where += f"/{self.subcode}"
        trace = f" (fbtrace_id={self.fbtrace_id})" if self.fbtrace_id else ""
        return f"[{where}] {self.message}{trace}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"http_status={self.http_status!r}, message={self.message!r})"
        )


class TokenInvalidError(GraphError):
    """The token is expired, revoked or otherwise unusable: the connection must reauthorize.

    ``token_fingerprint`` is set by the client (a hash, never the token) so the app can tell
    which stored token failed.
    """

    token_fingerprint: str | None = None


class PermissionDeniedError(GraphError):
    """A permission or task is missing or was removed."""


class OutsideMessagingWindowError(PermissionDeniedError):
    """Free-form message outside the 24 h window (Messenger 10/2018278, IG 2534022, WA 131047)."""


class RateLimitedError(GraphError):
    """A rate limit was hit; ``retry_after`` (seconds) is Meta's estimate when it gave one."""


class ThrottledError(RateLimitedError):
    """Our limiter would have had to wait longer than allowed; nothing was sent to Meta."""


class InvalidParameterError(GraphError):
    """(#100) and WhatsApp's parameter errors: the request itself is wrong."""


class PolicyBlockError(GraphError):
    """Temporarily blocked for policy or integrity reasons: wait hours, do not hammer."""


class IGPublishingError(GraphError):
    """An Instagram content-publishing failure (subcode in the 2207xxx range)."""

    @property
    def retryable(self) -> bool:
        return self.subcode in _IG_TRANSIENT_SUBCODES or self.is_transient


class MediaNotReadyError(IGPublishingError):
    """9007/2207027: the container is not ready to publish yet (even right after FINISHED)."""

    @property
    def retryable(self) -> bool:
        return True


class WhatsAppError(GraphError):
    """A WhatsApp Cloud API error without a more specific class."""


class TemplateError(WhatsAppError):
    """A WhatsApp message-template error (132000-132999)."""


class TransientError(GraphError):
    """Meta or the network failed temporarily; retry with backoff.

    ``ambiguous`` is true when the request may have reached Meta and been applied (a read
    timeout, a bare 5xx): the client never repeats a non-idempotent call in that case.
    """

    def __init__(self, message: str, *, ambiguous: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("is_transient", True)
        super().__init__(message, **kwargs)
        self.ambiguous = ambiguous

    @property
    def retryable(self) -> bool:
        return True


class CircuitOpenError(TransientError):
    """The circuit breaker for ``host`` is open; no request was sent."""

    def __init__(self, host: str, retry_after: float) -> None:
        super().__init__(
            f"circuit open for {host}; next trial in {retry_after:.1f}s", retry_after=retry_after
        )
        self.host = host

    @property
    def retryable(self) -> bool:
        # Retrying an open breaker only sleeps; let the caller reschedule instead.
        return False


def _classify(code: int | None, subcode: int | None, is_transient: bool) -> type[GraphError]:
    # Order matters: 4/2207051 is an IG spam block, not a rate limit; 10/2018278 is a
    # messaging-window error, not a missing permission.
    if code in (190, 102):
        return TokenInvalidError
    if (code, subcode) == _IG_MEDIA_NOT_READY:
        return MediaNotReadyError
    if subcode is not None and 2207000 <= subcode <= 2207999:
        return IGPublishingError
    if subcode in _OUTSIDE_WINDOW_SUBCODES or code == 131047:
        return OutsideMessagingWindowError
    if code is None:
        return TransientError if is_transient else GraphError
    if code in _RATE_LIMIT_CODES or 80000 <= code <= 80014:
        return RateLimitedError
    if code in _POLICY_CODES:
        return PolicyBlockError
    if code == 10 or 200 <= code <= 299:
        return PermissionDeniedError
    if code in _INVALID_PARAMETER_CODES:
        return InvalidParameterError
    if code in _TRANSIENT_CODES or is_transient:
        return TransientError
    if 132000 <= code <= 132999:
        return TemplateError
    if 130000 <= code <= 139999:
        return WhatsAppError
    return GraphError


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    regain = parse_usage(headers).regain_seconds
    if regain is not None:
        return regain
    raw = header_value(headers, "Retry-After")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            return None
    return None


def error_from_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> GraphError:
    """The exception for one failed Graph response.

    ``body`` is the decoded JSON (or raw ``bytes``/``str`` when it was not JSON); ``headers``
    supplies ``retry_after`` through the usage headers (minutes → seconds) or ``Retry-After``.
    """
    headers = headers or {}
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        return _error_without_envelope(status, headers)

    code = _int(envelope.get("code"))
    subcode = _int(envelope.get("error_subcode"))
    is_transient = envelope.get("is_transient") is True
    cls = _classify(code, subcode, is_transient)
    if cls is GraphError and status >= 500:
        cls = TransientError
    error_data = envelope.get("error_data")
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "error_type": _str(envelope.get("type")),
        "is_transient": is_transient or issubclass(cls, TransientError),
        "retry_after": _retry_after(headers) if issubclass(cls, RateLimitedError) else None,
        "fbtrace_id": _str(envelope.get("fbtrace_id")),
        "http_status": status,
        "user_title": _str(envelope.get("error_user_title")),
        "user_message": _str(envelope.get("error_user_msg")),
        "error_data": error_data if isinstance(error_data, dict) else None,
    }
    message = _str(envelope.get("message")) or f"Graph API error (HTTP {status})"
    return cls(message, **kwargs)


def _error_without_envelope(status: int, headers: Mapping[str, str]) -> GraphError:
    if status == 429:
        return RateLimitedError(
            "HTTP 429 without an error body",
            http_status=status,
            retry_after=_retry_after(headers),
        )
    if status >= 500:
        # The request may have been applied before the server failed.
        return TransientError(
            f"HTTP {status} without an error body", http_status=status, ambiguous=True
        )
    return GraphError(f"HTTP {status} without an error body", http_status=status)
