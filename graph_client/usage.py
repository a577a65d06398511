"""Meta's usage headers, parsed.

- ``X-App-Usage`` / ``X-Page-Usage``: ``{"call_count":28,"total_time":25,"total_cputime":25}``,
  percentages (0-100) of the app's (or the Page's) limit.
- ``X-Ad-Account-Usage``: ``{"acc_id_util_pct":9.67,"reset_time_duration":0,...}``.
- ``X-Business-Use-Case-Usage``: ``{"<business-object-id>":[{"type":"pages","call_count":100,
  "total_cputime":25,"total_time":25,"estimated_time_to_regain_access":19}]}`` with the regain
  time in **minutes**.

Parsing is lenient: a missing or malformed header is simply absent from the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

APP_SCOPE = "app"


def object_scope(object_id: str) -> str:
    """The limiter scope of one business object (Page, IG account, WABA, phone number)."""
    return f"obj:{object_id}"


@dataclass(frozen=True, slots=True)
class UsageCounts:
    call_count: float = 0.0
    total_time: float = 0.0
    total_cputime: float = 0.0

    @property
    def peak(self) -> float:
        return max(self.call_count, self.total_time, self.total_cputime)


@dataclass(frozen=True, slots=True)
class BusinessUseCaseUsage:
    business_id: str
    type: str
    call_count: float = 0.0
    total_time: float = 0.0
    total_cputime: float = 0.0
    estimated_time_to_regain_access: float | None = None  # minutes, as Meta sends it

    @property
    def peak(self) -> float:
        return max(self.call_count, self.total_time, self.total_cputime)

    @property
    def regain_seconds(self) -> float | None:
        if self.estimated_time_to_regain_access is None:
            return None
        return self.estimated_time_to_regain_access * 60.0


@dataclass(frozen=True, slots=True)
class AdAccountUsage:
    acc_id_util_pct: float = 0.0
    reset_time_duration: float = 0.0  # seconds


@dataclass(frozen=True, slots=True)
class UsageReading:
    """What the limiter keeps per scope: the peak percentage and any regain time."""

    percent: float
    regain_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    app: UsageCounts | None = None
    page: UsageCounts | None = None
    ad_account: AdAccountUsage | None = None
    business: tuple[BusinessUseCaseUsage, ...] = ()

    @property
    def regain_seconds(self) -> float | None:
        """The longest positive regain time over all business use cases, in seconds."""
        times = [b.regain_seconds for b in self.business if b.regain_seconds]
        return max(times) if times else None

    @property
    def peak_percent(self) -> float:
        peaks = [b.peak for b in self.business]
        peaks += [c.peak for c in (self.app, self.page) if c is not None]
        if self.ad_account is not None:
            peaks.append(self.ad_account.acc_id_util_pct)
        return max(peaks, default=0.0)

    def readings(self, object_id: str | None = None) -> dict[str, UsageReading]:
        """Per-scope readings: the app, the called object (``X-Page-Usage``), each business."""
        out: dict[str, UsageReading] = {}
        if self.app is not None:
            out[APP_SCOPE] = UsageReading(self.app.peak)
        if self.page is not None and object_id is not None:
            out[object_scope(object_id)] = UsageReading(self.page.peak)
        for item in self.business:
            scope = object_scope(item.business_id)
            previous = out.get(scope)
            regain = item.regain_seconds or None
            if previous is not None:
                regain = max(filter(None, (regain, previous.regain_seconds)), default=None)
                out[scope] = UsageReading(max(previous.percent, item.peak), regain)
            else:
                out[scope] = UsageReading(item.peak, regain)
        return out


def _num(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name, from ``httpx.Headers`` or a plain dict."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = header_value(headers, name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _counts(value: Any) -> UsageCounts | None:
    if not isinstance(value, dict):
        return None
    return UsageCounts(
        call_count=_num(value.get("call_count")),
        total_time=_num(value.get("total_time")),
        total_cputime=_num(value.get("total_cputime")),
    )


def _business(value: Any) -> tuple[BusinessUseCaseUsage, ...]:
    if not isinstance(value, dict):
        return ()
    out: list[BusinessUseCaseUsage] = []
    for business_id, entries in value.items():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            regain = entry.get("estimated_time_to_regain_access")
            out.append(
                BusinessUseCaseUsage(
                    business_id=str(business_id),
                    type=str(entry.get("type", "")),
                    call_count=_num(entry.get("call_count")),
                    total_time=_num(entry.get("total_time")),
                    total_cputime=_num(entry.get("total_cputime")),
                    estimated_time_to_regain_access=None if regain is None else _num(regain),
                )
            )
    return tuple(out)


def parse_usage(headers: Mapping[str, str]) -> Usage:
    """Read every usage header present in ``headers`` (an ``httpx.Headers`` or a dict)."""
    ad = _json_header(headers, "X-Ad-Account-Usage")
    return Usage(
        app=_counts(_json_header(headers, "X-App-Usage")),
        page=_counts(_json_header(headers, "X-Page-Usage")),
        ad_account=(
            AdAccountUsage(_num(ad.get("acc_id_util_pct")), _num(ad.get("reset_time_duration")))
            if isinstance(ad, dict)
            else None
        ),
        business=_business(_json_header(headers, "X-Business-Use-Case-Usage")),
    )
