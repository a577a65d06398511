"""The per-request context every handler and field getter receives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from graph_client.sandbox.errors import invalid_parameter, missing_parameter
from graph_client.sandbox.models import Token

if TYPE_CHECKING:
    from graph_client.sandbox.core import Core
    from graph_client.sandbox.store import Store


# Parameters about the call itself rather than the operation: never treated as data.
TRANSPORT_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "appsecret_time",
        "fields",
        "format",
        "method",
        "date_format",
        "suppress_http_code",
        "pretty",
        "debug",
    }
)


def format_time(ts: float) -> str:
    """Meta's timestamp format: ``2026-09-05T10:00:00+0000``."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass(slots=True)
class Ctx:
    core: Core
    method: str
    version: str
    params: dict[str, Any]
    token: Token | None = None
    raw_token: str | None = None
    # (business object id, BUC type) the call is billed to: drives the usage headers.
    usage_target: tuple[str, str] | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.core.store

    @property
    def now(self) -> float:
        return self.core.now()

    def time(self, ts: float | None) -> str | int | None:
        if ts is None:
            return None
        if str(self.params.get("date_format", "")).upper() == "U":
            return int(ts)
        return format_time(ts)

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def require(self, name: str) -> str:
        value = self.param(name)
        if value is None or value == "":
            raise missing_parameter(name)
        return value

    def bool_param(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"true", "1"}

    def json_param(self, name: str) -> Any:
        """A structured parameter, sent as JSON (body) or as a JSON string (form/query)."""
        value = self.params.get(name)
        if isinstance(value, str):
            text = value.strip()
            if text[:1] in {"{", "["}:
                try:
                    return json.loads(text)
                except ValueError:
                    raise invalid_parameter(f"Param {name} must be a JSON object") from None
        return value

    def url(self, path: str, query: dict[str, str]) -> str:
        """An absolute Graph URL on this sandbox (for ``paging.next`` / ``previous``)."""
        params: dict[str, str] = {}
        if self.raw_token:
            params["access_token"] = self.raw_token
        params.update(query)
        return f"{self.core.config.root_url}/{self.version}/{path}?{urlencode(params)}"
