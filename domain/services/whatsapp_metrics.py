"""WhatsApp message metrics from Meta's ``analytics`` edge (facts §9).

Meta's message analytics count ``sent`` and ``delivered`` only: a ``read`` series is not
available there, so it is reported as unavailable rather than invented. Hourly series are
Meta's half-hour buckets added up per hour.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.errors import InvalidInputError
from domain.meta import MetaGateway
from domain.services.whatsapp_templates import find_account, waba_token
from domain.uow import UnitOfWork
from domain.vault import TokenVault

METRICS = ("sent", "delivered", "read")
AVAILABLE = ("sent", "delivered")
LOOKBACK = timedelta(days=365)
UNAVAILABLE_NOTE = "Meta's message analytics report sent and delivered counts only"
_STEP = {"day": ("DAY", 86400), "hour": ("HALF_HOUR", 3600)}


@dataclass(frozen=True)
class MetricsReport:
    series: dict[str, list[tuple[datetime, int]]]  # metric -> (bucket start, value)
    totals: dict[str, int]
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def delivery_rate(self) -> float | None:
        sent = self.totals.get("sent", 0)
        return round(self.totals.get("delivered", 0) / sent, 4) if sent else None


def check_window(
    start: datetime, end: datetime, granularity: str, metrics: list[str], now: datetime
) -> None:
    if granularity not in _STEP:
        raise InvalidInputError("granularity", "must be day or hour")
    if end <= start:
        raise InvalidInputError("endDate", "must be after startDate")
    if now - start > LOOKBACK:
        raise InvalidInputError("startDate", "Meta keeps message analytics for one year")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise InvalidInputError("metrics", f"must be among {', '.join(METRICS)}")


async def message_metrics(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    waba_id: str | None,
    start: datetime,
    end: datetime,
    granularity: str,
    metrics: list[str],
    now: datetime,
) -> MetricsReport:
    check_window(start, end, granularity, metrics, now)
    async with uow:
        account = await find_account(uow, organization_id, waba_id)
        token = await waba_token(uow, vault, account)
        waba = account.waba_id
    level, step = _STEP[granularity]
    points = await meta.whatsapp_message_analytics(
        waba, token, int(start.timestamp()), int(end.timestamp()), level
    )
    buckets: dict[int, dict[str, int]] = defaultdict(lambda: {"sent": 0, "delivered": 0})
    for point in points:
        bucket = buckets[point.start - point.start % step]
        bucket["sent"] += point.sent
        bucket["delivered"] += point.delivered
    series: dict[str, list[tuple[datetime, int]]] = {}
    for metric in metrics:
        if metric in AVAILABLE:
            series[metric] = [
                (datetime.fromtimestamp(t, UTC), buckets[t][metric]) for t in sorted(buckets)
            ]
    totals = {m: sum(b[m] for b in buckets.values()) for m in AVAILABLE}
    unavailable = {m: UNAVAILABLE_NOTE for m in metrics if m not in AVAILABLE}
    return MetricsReport(series, totals, unavailable)
