"""Helpers for the sandbox tests: a fake clock, a webhook receiver, a signed-call Graph client."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from graph_client.sandbox import Sandbox
from graph_client.signature import appsecret_proof

APP_ID = "1234567890123"
APP_SECRET = "sandbox-test-secret"
VERIFY_TOKEN = "verify-me"
CALLBACK = "http://receiver.test/webhooks/meta"
START = 1_788_600_000.0  # 2026-09-05T09:20:00Z


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Receiver:
    """A webhook endpoint: records raw bodies and headers, answers with ``statuses`` in turn."""

    statuses: list[int] = field(default_factory=list)
    calls: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    verify_token: str = VERIFY_TOKEN

    def app(self) -> Starlette:
        async def webhook(request: Request) -> Response:
            if request.method == "GET":
                params = request.query_params
                if params.get("hub.verify_token") != self.verify_token:
                    return PlainTextResponse("bad token", 403)
                return PlainTextResponse(params.get("hub.challenge", ""))
            self.calls.append((await request.body(), dict(request.headers)))
            status = self.statuses.pop(0) if self.statuses else 200
            return PlainTextResponse("ok", status)

        return Starlette(routes=[Route("/webhooks/meta", webhook, methods=["GET", "POST"])])

    @property
    def bodies(self) -> list[bytes]:
        return [body for body, _ in self.calls]


class Graph:
    """Graph calls the way a server-side app makes them: Bearer token plus appsecret_proof."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _params(self, token: str | None, params: dict[str, Any]) -> dict[str, Any]:
        token = token or self.token
        if token and "appsecret_proof" not in params:
            params["appsecret_proof"] = appsecret_proof(token, APP_SECRET)
        return params

    def _headers(self, token: str | None) -> dict[str, str]:
        token = token or self.token
        return {"authorization": f"Bearer {token}"} if token else {}

    async def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return await self.client.get(
            path, params=self._params(token, params), headers=self._headers(token)
        )

    async def post(
        self, path: str, token: str | None = None, json: Any = None, **params: Any
    ) -> httpx.Response:
        return await self.client.post(
            path, params=self._params(token, params), json=json, headers=self._headers(token)
        )

    async def delete(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return await self.client.delete(
            path, params=self._params(token, params), headers=self._headers(token)
        )


def subscribe_everything(sandbox: Sandbox) -> None:
    """What the app's connect flow does: subscribe every Page and WABA to the app's webhooks."""
    for obj in sandbox.store.objects.values():
        if hasattr(obj, "subscribed_apps"):
            obj.subscribed_apps[APP_ID] = [
                "messages",
                "message_echoes",
                "message_deliveries",
                "message_reads",
                "message_reactions",
                "feed",
                "message_template_status_update",
            ]


# --- conformance: same keys, value types and formats as Meta's samples -----------------------

# The corpus lives beside the project (``../shared/meta-payloads``); META_PAYLOADS_DIR overrides.
PAYLOADS = Path(
    os.environ.get("META_PAYLOADS_DIR")
    or Path(__file__).resolve().parents[3].parent / "shared" / "meta-payloads"
)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
_DIGITS = re.compile(r"^\d{5,}$")
_COMPOUND = re.compile(r"^\d{5,}_\d{5,}$")


def load_sample(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def _formats(sample: str) -> list[tuple[str, re.Pattern[str]]]:
    checks: list[tuple[str, re.Pattern[str]]] = []
    if _TIMESTAMP.match(sample):
        checks.append(("+0000 timestamp", _TIMESTAMP))
    elif _COMPOUND.match(sample):
        checks.append(("page_post id", _COMPOUND))
    elif _DIGITS.match(sample):
        checks.append(("numeric id", _DIGITS))
    for prefix in ("wamid.", "m_", "http", "EAA"):
        if sample.startswith(prefix) and len(sample) > len(prefix) + 3:
            checks.append((f"{prefix}... value", re.compile("^" + re.escape(prefix))))
    return checks


def assert_same_shape(
    sample: Any,
    actual: Any,
    path: str = "$",
    *,
    extra: frozenset[str] = frozenset(),
    missing: frozenset[str] = frozenset(),
    loose: frozenset[str] = frozenset(),
) -> None:
    """``actual`` has ``sample``'s keys (bar ``missing``; no others bar ``extra``), the same JSON
    types and, for strings that look like timestamps, ids or URLs, the same format. ``loose``
    keys only need to be present. List items are all compared with the sample's first item."""
    options = {"extra": extra, "missing": missing, "loose": loose}
    if isinstance(sample, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key in sample:
            assert key in actual or key in missing, f"{path}.{key} is missing"
        for key in actual:
            assert key in sample or key in extra, f"{path}.{key} is not in the sample"
        for key, value in sample.items():
            if key in actual and key not in loose:
                assert_same_shape(value, actual[key], f"{path}.{key}", **options)
    elif isinstance(sample, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if sample:
            for index, item in enumerate(actual):
                assert_same_shape(sample[0], item, f"{path}[{index}]", **options)
    elif isinstance(sample, bool):
        assert isinstance(actual, bool), f"{path}: expected a boolean, got {actual!r}"
    elif isinstance(sample, int):
        assert isinstance(actual, int), f"{path}: expected an integer, got {actual!r}"
        assert not isinstance(actual, bool), f"{path}: expected an integer, got {actual!r}"
    elif isinstance(sample, float):
        assert isinstance(actual, (int, float)), f"{path}: expected a number, got {actual!r}"
    elif isinstance(sample, str):
        assert isinstance(actual, str), f"{path}: expected a string, got {actual!r}"
        for label, pattern in _formats(sample):
            assert pattern.match(actual), f"{path}: expected a {label} like {sample!r}: {actual!r}"
    else:
        assert actual is None, f"{path}: expected null, got {actual!r}"
