"""Injected latency and failures for Graph calls (``POST /_control/faults``).

Rules are tried in order; each fires with probability ``rate`` (seeded, so runs repeat) and at
most ``times`` times, for calls whose Graph path without the version (``/me``,
``/{page-id}/conversations``) matches the regex ``path`` and whose method is ``method``. Kinds:

- ``server_error``: HTTP ``status`` (500) with Meta's transient error (code 1 or 2), or an HTML or
  empty body (``body``: ``json`` | ``html`` | ``empty``), like a proxy in front of Meta, or
  (``echo``) a code-100 error whose message quotes the request's access token back;
- ``timeout``: ``mode`` ``sleep`` waits ``sleep_seconds`` (past the client's timeout) before
  answering normally; ``mode`` ``raise`` raises ``httpx.ReadTimeout`` inside the app, which an
  in-process ``httpx.ASGITransport`` client sees exactly like a network timeout;
- ``rate_limit``: Meta's rate-limit error ``code`` (4, 17, 32, 613, 80001, 80002, 80006, 80008,
  130429) with usage headers at 100% and ``estimated_time_to_regain_access`` minutes;
- ``meta_error``: any other Meta error in Meta's envelope: ``code``, ``subcode``, ``message``
  and HTTP ``status`` (400), e.g. 9007/2207027 "Media ID is not available" on a FINISHED
  container, which Meta really answers now and then.

``applied: true`` (``server_error`` and ``timeout`` only) runs the call first and then fails its
answer, as Meta does when a post is created but the response is lost (a gateway's bare 5xx, a
read timeout): the effect is kept, the caller cannot know it. A call that fails on its own is
answered with its own error (nothing was applied).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

_KINDS = {"server_error", "timeout", "rate_limit", "meta_error"}


@dataclass(slots=True)
class FaultRule:
    kind: str
    rate: float = 1.0
    times: int | None = None
    path: re.Pattern[str] | None = None
    method: str | None = None
    status: int = 500
    code: int = 2
    body: str = "json"
    mode: str = "sleep"
    sleep_seconds: float = 60.0
    estimated_minutes: int = 1
    subcode: int | None = None
    message: str | None = None
    applied: bool = False
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(slots=True)
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)
    # Seeded, so a run with the same faults repeats (not for anything secret).
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Faults:
        latency = spec.get("latency") or {}
        rules = []
        for raw in spec.get("rules") or []:
            kind = str(raw.get("kind", ""))
            if kind not in _KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(_KINDS)}")
            path = raw.get("path")
            default_code = {"server_error": 2, "rate_limit": 4}.get(kind, 2)
            applied = bool(raw.get("applied", False))
            if applied and kind in ("rate_limit", "meta_error"):
                raise ValueError("applied applies to server_error and timeout faults only")
            if kind == "meta_error" and raw.get("code") is None:
                raise ValueError("a meta_error fault needs Meta's error code")
            status_default = 400 if kind == "meta_error" else 500
            rules.append(
                FaultRule(
                    kind=kind,
                    rate=float(raw.get("rate", 1.0)),
                    times=int(raw["times"]) if raw.get("times") is not None else None,
                    path=re.compile(str(path)) if path else None,
                    method=str(raw["method"]).upper() if raw.get("method") else None,
                    status=int(raw.get("status", status_default)),
                    code=int(raw.get("code", default_code)),
                    body=str(raw.get("body", "json")),
                    mode=str(raw.get("mode", "sleep")),
                    sleep_seconds=float(raw.get("sleep_seconds", 60.0)),
                    estimated_minutes=int(raw.get("estimated_minutes", 1)),
                    subcode=int(raw["subcode"]) if raw.get("subcode") is not None else None,
                    message=str(raw["message"]) if raw.get("message") else None,
                    applied=applied,
                )
            )
        return cls(
            latency_ms=float(latency.get("fixed_ms", 0.0)),
            jitter_ms=float(latency.get("jitter_ms", 0.0)),
            rules=rules,
            rng=random.Random(int(spec.get("seed", 0))),  # noqa: S311
        )

    def delay_seconds(self) -> float:
        jitter = self.rng.uniform(0, self.jitter_ms) if self.jitter_ms > 0 else 0.0
        return max(0.0, self.latency_ms + jitter) / 1000.0

    def pick(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path) and self.rng.random() < rule.rate:
                rule.fired += 1
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "latency": {"fixed_ms": self.latency_ms, "jitter_ms": self.jitter_ms},
            "rules": [
                {
                    "kind": r.kind,
                    "rate": r.rate,
                    "times": r.times,
                    "fired": r.fired,
                    "path": r.path.pattern if r.path else None,
                    "code": r.code,
                    "applied": r.applied,
                }
                for r in self.rules
            ],
        }
