"""Hypothesis strategies shared by the property tests: JSON values, and Meta-shaped webhook
deliveries in which any node may be replaced by junk."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

# Reproducible in CI: the same examples every run, no example database on disk.
PROPERTIES = settings(derandomize=True, database=None, deadline=None, max_examples=150)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)

meta_ids = st.integers(min_value=1, max_value=10**17).map(str)
mids = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=4, max_size=24).map(
    lambda s: f"m_{s}"
)
wamids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=", min_size=8, max_size=40).map(
    lambda s: f"wamid.{s}"
)
# Meta's Messenger timestamps are milliseconds; any other number may arrive too.
millis = st.integers(min_value=1_000_000_000_000, max_value=4_000_000_000_000)


def junk_or(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape; sometimes any JSON value in its place."""
    return st.one_of(strategy, strategy, json_values)


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    return junk_or(
        st.fixed_dictionaries(
            {k: junk_or(v) for k, v in required.items()},
            optional={k: junk_or(v) for k, v in (optional or {}).items()},
        )
    )


_who = _obj({"id": meta_ids})
_messaging_item = _obj(
    {"sender": _who, "recipient": _who, "timestamp": millis},
    {
        "message": _obj(
            {"mid": mids},
            {"text": st.text(), "is_echo": st.booleans(), "is_deleted": st.booleans()},
        ),
        "message_edit": _obj({"mid": mids}, {"num_edit": st.integers(0, 10)}),
        "delivery": _obj({"watermark": millis}, {"mids": st.lists(mids, max_size=3)}),
        "read": _obj({"watermark": millis}, {"mid": mids}),
        "reaction": _obj(
            {"mid": mids, "action": st.sampled_from(["react", "unreact"])},
            {"reaction": st.text(max_size=8)},
        ),
        "postback": _obj({"payload": st.text()}, {"mid": mids, "title": st.text()}),
    },
)
_wa_value = _obj(
    {"messaging_product": st.just("whatsapp")},
    {
        "metadata": _obj({"phone_number_id": meta_ids}),
        "contacts": st.lists(_obj({"wa_id": meta_ids}, {"profile": _obj({"name": st.text()})})),
        "messages": st.lists(
            _obj(
                {"id": wamids, "from": meta_ids, "timestamp": millis.map(lambda m: str(m // 1000))}
            )
        ),
        "statuses": st.lists(
            _obj(
                {"id": wamids, "status": st.sampled_from(["sent", "delivered", "read", "failed"])},
                {"recipient_id": meta_ids, "timestamp": st.integers().map(str)},
            )
        ),
        "errors": st.lists(_obj({"code": st.integers()}, {"title": st.text()})),
        "message_template_id": meta_ids,
        "event": st.sampled_from(["APPROVED", "REJECTED", "PAUSED"]),
        "timestamp": json_values,
    },
)
_change = _obj(
    {
        "field": st.sampled_from(
            ["messages", "feed", "message_template_status_update", "template_category_update"]
        )
        | st.text(max_size=12),
        "value": st.one_of(_wa_value, _obj({"item": st.text()}, {"verb": st.text()})),
    }
)
_entry = _obj(
    {"id": meta_ids, "time": millis},
    {
        "messaging": st.lists(_messaging_item, max_size=3),
        "changes": st.lists(_change, max_size=3),
    },
)

meta_shaped_deliveries: st.SearchStrategy[Any] = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["page", "instagram", "whatsapp_business_account"]) | json_values,
        "entry": junk_or(st.lists(_entry, max_size=3)),
    }
)
