"""WhatsApp analytics on the WABA node: ``analytics`` (sent / delivered per period) and
``conversation_analytics`` (conversations and cost), computed from the sandbox's own messages.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph_client.sandbox.context import Ctx
from graph_client.sandbox.errors import invalid_parameter
from graph_client.sandbox.fields import FieldSpec
from graph_client.sandbox.models import WABA, PhoneNumber, WAMessage
from graph_client.sandbox.render import Field
from graph_client.sandbox.routes.whatsapp import WABA_NODE

# Per-conversation prices in the sample (USD): marketing 0.0144, authentication 0.0064.
_PRICES = {"MARKETING": 0.0144, "UTILITY": 0.008, "AUTHENTICATION": 0.0064, "SERVICE": 0.0}
_GRANULARITY = {
    "HALF_HOUR": 1800,
    "DAY": 86400,
    "DAILY": 86400,
    "MONTH": 2592000,
    "MONTHLY": 2592000,
}


def _window(spec: FieldSpec, field_name: str, default_granularity: str) -> tuple[int, int, int]:
    start, end = spec.int_modifier("start"), spec.int_modifier("end")
    if start is None or end is None:
        raise invalid_parameter(f"{field_name} requires start() and end()")
    granularity = (spec.modifiers.get("granularity") or default_granularity).strip().upper()
    if granularity not in _GRANULARITY:
        allowed = ", ".join(sorted(_GRANULARITY))
        raise invalid_parameter(f'granularity must be one of {{{allowed}}} - got "{granularity}"')
    if end <= start:
        raise invalid_parameter("end must be after start")
    return start, end, _GRANULARITY[granularity]


def _outbound(waba: WABA, phone_filter: list[str] | None) -> list[tuple[PhoneNumber, WAMessage]]:
    out: list[tuple[PhoneNumber, WAMessage]] = []
    for phone in waba.phone_numbers:
        if phone_filter and phone.digits not in phone_filter:
            continue
        out.extend((phone, m) for m in phone.messages.values() if not m.inbound)
    return out


def _analytics(ctx: Ctx, waba: WABA, spec: FieldSpec) -> dict[str, Any]:
    start, end, step = _window(spec, "analytics", "DAY")
    phones = spec.list_modifier("phone_numbers")
    country_codes = spec.list_modifier("country_codes")
    messages = _outbound(waba, phones)
    points = []
    for bucket in range(start, end, step):
        in_bucket = [m for _, m in messages if bucket <= m.timestamp < bucket + step]
        delivered = sum(1 for m in in_bucket if m.status in {"delivered", "read"})
        points.append(
            {"start": bucket, "end": bucket + step, "sent": len(in_bucket), "delivered": delivered}
        )
        if len(points) >= 1000:
            break
    result: dict[str, Any] = {
        "phone_numbers": phones or [p.digits for p in waba.phone_numbers],
    }
    if country_codes is not None:
        result["country_codes"] = country_codes
    result["granularity"] = (spec.modifiers.get("granularity") or "DAY").strip().upper()
    result["data_points"] = points
    return result


def _conversation_analytics(ctx: Ctx, waba: WABA, spec: FieldSpec) -> dict[str, Any]:
    start, end, step = _window(spec, "conversation_analytics", "DAILY")
    dimensions = [d.upper() for d in spec.list_modifier("dimensions") or []]
    categories_filter = [c.upper() for c in spec.list_modifier("conversation_categories") or []]
    # One conversation per contact, category and bucket (a simplification of Meta's 24 h windows).
    counted: dict[tuple[int, str], set[str]] = defaultdict(set)
    for _, message in _outbound(waba, spec.list_modifier("phone_numbers")):
        if not start <= message.timestamp < end:
            continue
        category = message.category.upper()
        if categories_filter and category not in categories_filter:
            continue
        bucket = start + int((message.timestamp - start) // step) * step
        key = category if "CONVERSATION_CATEGORY" in dimensions else ""
        counted[(bucket, key)].add(message.wa_id)
    points = []
    for (bucket, category), contacts in sorted(counted.items(), reverse=True):
        point: dict[str, Any] = {
            "start": bucket,
            "end": bucket + step,
            "conversation": len(contacts),
        }
        if category:
            point["conversation_category"] = category
        point["cost"] = round(len(contacts) * _PRICES.get(category or "SERVICE", 0.0), 4)
        points.append(point)
    return {"data": [{"data_points": points}]}


WABA_NODE.fields["analytics"] = Field(_analytics)
WABA_NODE.fields["conversation_analytics"] = Field(_conversation_analytics)
