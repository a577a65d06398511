"""Properties of the webhook parser (domain.services.webhooks): a signed body becomes either
events or the documented "failed, with its reason" — never an exception, whatever the bytes.

``inspect_body`` decides, before Meta gets its 200, whether a raw delivery is stored as
received or as failed with a reason; ``parse_delivery`` turns a received one into unit
events when the worker applies it. Well-formed entries keep Meta's ids in their keys.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from domain.services.webhooks.events import UnitEvent, parse_delivery
from domain.services.webhooks.inbox import KNOWN_OBJECTS, inspect_body
from tests.fuzz.strategies import (
    PROPERTIES,
    json_values,
    meta_ids,
    meta_shaped_deliveries,
    mids,
    millis,
    wamids,
)


def _outcome(raw: bytes) -> tuple[str | None, list[UnitEvent]]:
    """What the inbox and the worker make of ``raw``: (problem, events)."""
    kind, keys, problem = inspect_body(raw)
    assert all(isinstance(k, str) for k in keys)
    if problem is not None:
        assert isinstance(problem, str)
        assert problem  # the reason is recorded, never empty
        return problem, []
    assert kind in KNOWN_OBJECTS
    events = parse_delivery(orjson.loads(raw))
    for event in events:
        assert isinstance(event.key, str)
        assert isinstance(event.owner_id, str)
        assert event.platform in ("messenger", "instagram", "whatsapp")
        assert event.at.tzinfo is not None
        assert event.person_id is None or isinstance(event.person_id, str)
    return None, events


@PROPERTIES
@given(raw=st.binary(max_size=2000))
def test_any_bytes_are_events_or_a_failure_with_its_reason(raw: bytes) -> None:
    _outcome(raw)


@PROPERTIES
@given(value=json_values)
def test_any_json_is_events_or_a_failure_with_its_reason(value: Any) -> None:
    problem, events = _outcome(json.dumps(value).encode())
    if not isinstance(value, dict) or value.get("object") not in KNOWN_OBJECTS:
        assert problem is not None
        assert events == []


@PROPERTIES
@given(body=meta_shaped_deliveries)
def test_meta_shaped_deliveries_with_junk_anywhere_never_raise(body: dict[str, Any]) -> None:
    _outcome(json.dumps(body).encode())


_message = st.fixed_dictionaries(
    {"sender": meta_ids, "mid": mids, "timestamp": millis, "text": st.text(max_size=40)}
)


@PROPERTIES
@given(
    kind=st.sampled_from(["page", "instagram"]),
    owner=meta_ids,
    messages=st.lists(_message, min_size=1, max_size=5, unique_by=lambda m: m["mid"]),
)
def test_messaging_entries_round_trip_their_ids(
    kind: str, owner: str, messages: list[dict[str, Any]]
) -> None:
    body = {
        "object": kind,
        "entry": [
            {
                "id": owner,
                "time": m["timestamp"],
                "messaging": [
                    {
                        "sender": {"id": m["sender"]},
                        "recipient": {"id": owner},
                        "timestamp": m["timestamp"],
                        "message": {"mid": m["mid"], "text": m["text"]},
                    }
                ],
            }
            for m in messages
        ],
    }
    raw = orjson.dumps(body)
    problem, events = _outcome(raw)
    assert problem is None
    assert [e.key for e in events] == [f"msg:{m['mid']}" for m in messages]
    assert [e.person_id for e in events] == [m["sender"] for m in messages]
    assert {e.owner_id for e in events} == {owner}
    assert [e.at for e in events] == [
        datetime.fromtimestamp(m["timestamp"] / 1000, UTC) for m in messages
    ]
    # The inbox's dedup keys name every message, for operators' lookups.
    assert {m["mid"] for m in messages} <= set(inspect_body(raw)[1])


@PROPERTIES
@given(
    waba=meta_ids,
    messages=st.lists(st.tuples(wamids, meta_ids), max_size=4, unique_by=lambda m: m[0]),
    statuses=st.lists(
        st.tuples(wamids, st.sampled_from(["sent", "delivered", "read", "failed"])), max_size=4
    ),
)
def test_whatsapp_entries_round_trip_their_ids(
    waba: str, messages: list[tuple[str, str]], statuses: list[tuple[str, str]]
) -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1234"},
        "messages": [
            {"id": wamid, "from": person, "timestamp": "1700000000", "type": "text"}
            for wamid, person in messages
        ],
        "statuses": [
            {"id": wamid, "status": state, "recipient_id": "5", "timestamp": "1700000001"}
            for wamid, state in statuses
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"field": "messages", "value": value}]}],
    }
    raw = orjson.dumps(body)
    problem, events = _outcome(raw)
    assert problem is None
    assert [e.key for e in events] == [f"msg:{wamid}" for wamid, _ in messages] + [
        f"wa-status:{wamid}:{state}" for wamid, state in statuses
    ]
    assert [e.person_id for e in events[: len(messages)]] == [p for _, p in messages]
    assert {e.owner_id for e in events} <= {waba}
    assert {w for w, _ in messages + statuses} <= set(inspect_body(raw)[1])
