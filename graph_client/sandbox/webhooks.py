"""Delivers Meta-shaped webhooks to the registered callback, signed over the exact bytes sent.

Like Meta it retries non-2xx answers (with the configured delays), and on request it duplicates
deliveries, holds events back to deliver them in reverse order, or batches several events into
one POST (several ``entry`` items, each Messenger ``messaging`` array still holding one event).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from graph_client.sandbox.encoding import dumps
from graph_client.signature import sign_payload_sha1, sign_payload_sha256

Target = Callable[[str], tuple[str, str | None] | None]


@dataclass(slots=True)
class DeliveryAttempt:
    url: str
    body: bytes
    attempt: int
    status: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "ok": self.ok,
            "body": self.body.decode(),
        }


@dataclass(slots=True)
class EmitterOptions:
    duplicate: bool = False
    # Hold events and deliver them newest first at flush (ordering is not guaranteed by Meta).
    reorder: bool = False
    # Hold events until this many are waiting (or flush), then send them as one POST per object.
    batch_size: int = 1
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)

    @property
    def holds(self) -> bool:
        return self.reorder or self.batch_size > 1


@dataclass
class WebhookEmitter:
    app_secret: str
    target: Target  # object ("page", ...) -> (callback url, verify token) or None
    transport: httpx.AsyncBaseTransport | None
    timeout: float
    options: EmitterOptions = field(default_factory=EmitterOptions)
    held: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    undeliverable: list[dict[str, Any]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # One client per event loop: a call made from a worker's loop (a post published by a
    # Dramatiq actor) delivers from that loop, and a connection belongs to the loop that
    # opened it.
    _clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def emit(self, payload: dict[str, Any]) -> None:
        if self.options.holds:
            self.held.append(payload)
            if not self.options.reorder and len(self.held) >= self.options.batch_size:
                self._send_held()
            return
        self._schedule(payload)

    def flush(self) -> int:
        """Send everything held back; returns how many POSTs were scheduled."""
        return self._send_held()

    async def drain(self) -> None:
        """Wait until every scheduled delivery (retries included) has finished: awaited on
        this loop, watched on the others (a worker's loop delivers what its calls caused)."""
        while True:
            if tasks := self._tasks_here():
                await asyncio.gather(*tasks, return_exceptions=True)
            elif any(not t.done() and not t.get_loop().is_closed() for t in self._snapshot()):
                await asyncio.sleep(0.02)
            else:
                return

    async def aclose(self) -> None:
        tasks = self._tasks_here()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for other in [t for t in self._snapshot() if not t.get_loop().is_closed()]:
            other.get_loop().call_soon_threadsafe(other.cancel)
        self._tasks.clear()
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        # Other loops' clients cannot be closed from here; their loops close their sockets.
        self._clients.clear()

    def _tasks_here(self) -> list[asyncio.Task[None]]:
        loop = asyncio.get_running_loop()
        return [t for t in self._snapshot() if t.get_loop() is loop]

    def _snapshot(self) -> list[asyncio.Task[None]]:
        # Another loop's thread drops its finished tasks from the set at any time: copy it
        # in one step (under the GIL) before looking through it.
        return list(self._tasks)

    async def verify(self, url: str, verify_token: str) -> dict[str, Any]:
        """Meta's GET handshake: the callback must answer 200 with the raw challenge."""
        challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": verify_token,
        }
        try:
            response = await self.client().get(url, params=params)
        except httpx.HTTPError as exc:
            return {"ok": False, "status": None, "challenge": challenge, "error": repr(exc)}
        body = response.text
        ok = response.status_code == 200 and body == challenge
        return {"ok": ok, "status": response.status_code, "challenge": challenge, "body": body}

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(transport=self.transport, timeout=self.timeout)
            self._clients[loop] = client
        return client

    # --- internals ---------------------------------------------------------------------------

    def _send_held(self) -> int:
        held, self.held = self.held, []
        if self.options.reorder:
            held.reverse()
        if self.options.batch_size <= 1:
            for payload in held:
                self._schedule(payload)
            return len(held)
        sent = 0
        for start in range(0, len(held), self.options.batch_size):
            for payload in _merge(held[start : start + self.options.batch_size]):
                self._schedule(payload)
                sent += 1
        return sent

    def _schedule(self, payload: dict[str, Any]) -> None:
        target = self.target(str(payload.get("object", "")))
        if target is None:
            self.undeliverable.append(payload)
            return
        body = dumps(payload)
        for _ in range(2 if self.options.duplicate else 1):
            task = asyncio.get_running_loop().create_task(self._deliver(target[0], body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, body: bytes) -> None:
        headers = {
            "content-type": "application/json",
            "user-agent": "facebookexternalua",
            "x-hub-signature": sign_payload_sha1(body, self.app_secret),
            "x-hub-signature-256": sign_payload_sha256(body, self.app_secret),
        }
        delays = self.options.retry_delays
        for attempt in range(1, len(delays) + 2):
            status: int | None = None
            error: str | None = None
            try:
                response = await self.client().post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                error = repr(exc)
            record = DeliveryAttempt(url, body, attempt, status, error, time.time())
            self.attempts.append(record)
            if record.ok or attempt > len(delays):
                return
            await asyncio.sleep(delays[attempt - 1])


def _merge(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One payload per ``object`` with all their entries (Meta's batching)."""
    merged: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        key = str(payload.get("object"))
        if key not in merged:
            merged[key] = {k: (list(v) if k == "entry" else v) for k, v in payload.items()}
        else:
            merged[key]["entry"].extend(payload["entry"])
    return list(merged.values())
