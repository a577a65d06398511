"""The "separate worker" of the subscriptions bench: publishes a sync run's progress through
the real Redis event bus, as a sync actor's unit of work does after each chunk.

    python -m bench.progress_publisher REDIS_URL SNAPSHOT_JSON COUNT RATE

Event ``i`` (1..COUNT) is the run's snapshot with ``done = i``; RATE 0 publishes as fast as
it can. Prints ``result`` and ``[done, wall-clock time just before publishing]`` per event.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from domain.services.sync.runs import run_channel
from tasks.bus import RedisEventBus


async def publish_progress(
    publish: Callable[[str, dict[str, Any]], Awaitable[None]],
    snapshot: dict[str, Any],
    count: int,
    rate: float,
) -> list[list[float]]:
    """``publish(channel, event)`` ``count`` times at ``rate`` per second (0: at once)."""
    channel = run_channel(uuid.UUID(snapshot["id"]))
    sent: list[list[float]] = []
    start = time.perf_counter()
    for done in range(1, count + 1):
        if rate:
            await asyncio.sleep(max(0.0, start + done / rate - time.perf_counter()))
        event = {**snapshot, "done": done, "phase": "messages", "progress": done / count}
        sent.append([done, time.time()])
        await publish(channel, event)
    return sent


async def main(redis_url: str, snapshot: dict[str, Any], count: int, rate: float) -> None:
    bus = RedisEventBus(redis_url)
    try:
        sent = await publish_progress(bus.publish, snapshot, count, rate)
    finally:
        await bus.aclose()
    print("result " + json.dumps(sent), flush=True)


if __name__ == "__main__":
    url, snapshot, count, rate = sys.argv[1:5]
    asyncio.run(main(url, json.loads(snapshot), int(count), float(rate)))
