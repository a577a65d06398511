"""Usage accounting behind ``X-App-Usage`` / ``X-Page-Usage`` / ``X-Business-Use-Case-Usage``,
Meta's hourly limits (codes 4, 32, 80001...) and the Conversations API's per-Page rate.
"""

from __future__ import annotations

from collections import Counter, deque

from graph_client.sandbox.encoding import dumps
from graph_client.sandbox.errors import MetaError

_RATE_DOC = (
    "Wait a bit and try again. For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
)
# BUC type -> (code, what Meta says was called too often)
BUC_ERRORS: dict[str, tuple[int, str]] = {
    "pages": (80001, "There have been too many calls to this Page account."),
    "instagram": (80002, "There have been too many calls to this Instagram account."),
    "messenger": (80006, "There have been too many messages requests to this Messenger account."),
    "whatsapp_business_management": (
        80008,
        "There have been too many calls to this WhatsApp Business account.",
    ),
}
RATE_LIMIT_MESSAGES: dict[int, str] = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    130429: "(#130429) Rate limit hit",
}


def rate_limit_error(code: int, *, headers: dict[str, str] | None = None) -> MetaError:
    for buc_code, text in BUC_ERRORS.values():
        if buc_code == code:
            return MetaError(f"(#{code}) {text} {_RATE_DOC}", code, headers=headers)
    message = RATE_LIMIT_MESSAGES.get(
        code, f"(#{code}) Calls to this api have exceeded the rate limit."
    )
    if code == 130429:
        return MetaError(
            message,
            code,
            error_data={
                "messaging_product": "whatsapp",
                "details": "Cloud API message throughput has been reached.",
            },
            headers=headers,
        )
    return MetaError(message, code, headers=headers)


def usage_value(pct: int) -> dict[str, int]:
    return {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2}


def buc_header(object_id: str, buc_type: str, pct: int, regain_minutes: int) -> str:
    entry = {
        "type": buc_type,
        **usage_value(pct),
        "estimated_time_to_regain_access": regain_minutes,
    }
    return dumps({object_id: [entry]}).decode()


class _HourWindow:
    """Calls in the last rolling hour, counted in one-minute buckets."""

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()

    def add(self, now: float) -> None:
        minute = int(now // 60)
        self.buckets[minute] += 1
        if len(self.buckets) > 61:
            for old in [m for m in self.buckets if m <= minute - 60]:
                del self.buckets[old]

    def count(self, now: float) -> int:
        minute = int(now // 60)
        return sum(n for m, n in self.buckets.items() if m > minute - 60)


class UsageTracker:
    def __init__(self, app_calls_per_hour: int, business_calls_per_hour: int) -> None:
        self.app_budget = max(1, app_calls_per_hour)
        self.business_budget = max(1, business_calls_per_hour)
        self.app = _HourWindow()
        self.objects: dict[str, _HourWindow] = {}

    def app_pct(self, now: float) -> int:
        return min(100, self.app.count(now) * 100 // self.app_budget)

    def object_pct(self, object_id: str, now: float) -> int:
        window = self.objects.get(object_id)
        if window is None:
            return 0
        return min(100, window.count(now) * 100 // self.business_budget)

    def record(self, now: float, target: tuple[str, str] | None) -> None:
        self.app.add(now)
        if target is not None:
            self.objects.setdefault(target[0], _HourWindow()).add(now)

    def check(self, now: float, target: tuple[str, str] | None, token_kind: str | None) -> None:
        """Refuse the call like Meta once an hourly budget is used up."""
        if self.app_pct(now) >= 100:
            raise rate_limit_error(4, headers=self.headers(now, target, token_kind))
        if target is not None and self.object_pct(target[0], now) >= 100:
            headers = self.headers(now, target, token_kind)
            if _user_on_page(token_kind, target):
                raise rate_limit_error(32, headers=headers)
            raise rate_limit_error(BUC_ERRORS.get(target[1], (80001, ""))[0], headers=headers)

    def headers(
        self, now: float, target: tuple[str, str] | None, token_kind: str | None
    ) -> dict[str, str]:
        headers = {"x-app-usage": dumps(usage_value(self.app_pct(now))).decode()}
        if target is not None:
            pct = self.object_pct(target[0], now)
            if _user_on_page(token_kind, target):
                headers["x-page-usage"] = dumps(usage_value(pct)).decode()
            else:
                regain = 60 if pct >= 100 else 0
                headers["x-business-use-case-usage"] = buc_header(target[0], target[1], pct, regain)
        return headers


def _user_on_page(token_kind: str | None, target: tuple[str, str]) -> bool:
    """A Page called with a user token: Meta's Page-level limit (code 32, X-Page-Usage)."""
    return token_kind == "USER" and target[1] == "pages"  # noqa: S105 - a token type, no secret


class PerSecondLimiter:
    """At most ``rate`` calls per rolling second per key (the Conversations API's 2/s/Page)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.calls: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float) -> bool:
        if self.rate <= 0:
            return True
        window = self.calls.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate:
            return False
        window.append(now)
        return True
