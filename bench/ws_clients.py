"""The client side of the subscriptions bench: many graphql-transport-ws clients of one
sync run's ``syncProgress`` in one process (apart from the server it measures).

    python -m bench.ws_clients URL TOKEN RUN_GLOBAL_ID COUNT MODE [LAST]

Every client connects, subscribes and waits for its first event (the run's state in the
database); then ``ready`` is printed. Modes:
- ``follow``: read until an event with ``done >= LAST``; print ``result`` and, per event
  received, ``[done, wall-clock time]``.
- ``hold``: stay subscribed until killed (the bench kills the process: abrupt disconnects).
- ``stall``: client 0 follows; the others stop reading after their first event.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

QUERY = "subscription($id: ID!) { syncProgress(runId: $id) { done status phase progress } }"
CONNECTING = 50  # handshakes in flight at once


async def subscribe(url: str, token: str, run_id: str, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        ws = await connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None,
            max_queue=16, open_timeout=60,
        )  # fmt: skip
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}"}}))  # fmt: skip
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"not acknowledged: {ack}")
        payload = {"query": QUERY, "variables": {"id": run_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while (message := json.loads(await ws.recv()))["type"] != "next":
            if message["type"] in ("error", "complete"):
                raise RuntimeError(f"subscription refused: {message}")
        if message["payload"].get("errors"):
            raise RuntimeError(f"subscription failed: {message}")
        return ws


async def follow(ws: ClientConnection, last: int, out: list[list[float]]) -> None:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        if message["type"] != "next":
            raise RuntimeError(f"unexpected: {message}")
        done = int(message["payload"]["data"]["syncProgress"]["done"])
        out.append([done, time.time()])
        if done >= last:
            return


async def main(url: str, token: str, run_id: str, count: int, mode: str, last: int) -> None:
    gate = asyncio.Semaphore(CONNECTING)
    clients = await asyncio.gather(*(subscribe(url, token, run_id, gate) for _ in range(count)))
    print("ready", flush=True)
    if mode == "hold":
        await asyncio.Event().wait()
    followers = clients if mode == "follow" else clients[:1]
    received: list[list[float]] = []
    await asyncio.gather(*(follow(ws, last, received) for ws in followers))
    print("result " + json.dumps(received), flush=True)
    for ws in clients:
        ws.transport.abort()  # the stalled ones could not close politely


if __name__ == "__main__":
    url, token, run_id, count, mode = sys.argv[1:6]
    asyncio.run(main(url, token, run_id, int(count), mode, int(sys.argv[6]) if sys.argv[6:] else 0))
