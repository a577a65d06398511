"""Meta accepts times as Unix seconds, ISO 8601 or (for insights) strtotime-ish strings."""

from __future__ import annotations

from datetime import datetime

from graph_client.sandbox.errors import invalid_parameter


def parse_time(value: str, name: str) -> float:
    text = value.strip()
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("+0000", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        raise invalid_parameter(
            f"Param {name} must be a valid Unix time or ISO 8601 date"
        ) from None
    return parsed.timestamp()
