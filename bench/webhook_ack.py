"""Issues 6 and 9: acknowledging Meta's webhooks.

metasync's receiver (signature over the raw bytes, the inbox insert, the job sent after
commit) against an echo endpoint on the same server stack: p99 latency at 200 signed 2 kB
deliveries per second (open loop), and the sustained receipt rate (closed loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.raw_http import Pool, request_bytes
from bench.report import Figure
from graph_client.signature import sign_payload_sha256
from settings import DEV_META_APP_SECRET

ROOT = Path(__file__).resolve().parent.parent
# The development app secret the metasync process runs with (no META_APP_SECRET set).
SECRET = DEV_META_APP_SECRET

RATE, SECONDS, CONCURRENCY, BURST_SECONDS, ROUNDS = 200, 5, 16, 3, 3


def _body() -> bytes:
    text = "x" * 1800
    event = {"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [
        {"sender": {"id": "2"}, "recipient": {"id": "1"}, "timestamp": 1,
         "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text}}]}]}  # fmt: skip
    return json.dumps(event).encode()


def _requests(count: int, path: str, secret: str) -> list[bytes]:
    """Signed deliveries prepared before the clock starts (each a new message id)."""
    out = []
    for _ in range(count):
        body = _body()
        headers = {"X-Hub-Signature-256": sign_payload_sha256(body, secret)}
        out.append(request_bytes("127.0.0.1", path, body, headers))
    return out


async def _open_loop(pool: Pool, path: str, secret: str) -> list[float]:
    """RATE requests a second on a fixed schedule, whatever the answers' latency."""
    latencies: list[float] = []

    async def one(request: bytes) -> None:
        start = time.perf_counter()
        await pool.post(request)
        latencies.append(time.perf_counter() - start)

    tasks = []
    requests = _requests(RATE * SECONDS, path, secret)
    start = time.perf_counter()
    for i, request in enumerate(requests):
        await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        tasks.append(asyncio.create_task(one(request)))
    await asyncio.gather(*tasks)
    return latencies


async def _closed_loop(pool: Pool, path: str, secret: str) -> float:
    """CONCURRENCY clients posting back to back: the sustained receipt rate."""
    done = 0
    deadline = time.perf_counter() + BURST_SECONDS
    # Made as they are needed (a few microseconds each): how many fit is what is measured.
    requests = (_requests(1, path, secret)[0] for _ in itertools.count())

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await pool.post(next(requests))
            done += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done / BURST_SECONDS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def _metasync_env(tmp: str) -> dict[str, str]:
    """Services mode when BENCH_DATABASE_URL / BENCH_REDIS_URL are set (the API process
    only stores and enqueues; workers run elsewhere), else the embedded default, whose
    in-process worker shares the process and SQLite's single writer with the receiver."""
    env = {"LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/a.db"
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    return env


async def _worker_idle(env: dict[str, str]) -> None:
    """Embedded default: wait until the in-process worker has applied what the round
    stored, so that work does not land in the echo's next round. (Services mode runs no
    worker here: the jobs wait in Redis.)"""
    if "REDIS_URL" in env:
        return
    engine = create_async_engine(env["DATABASE_URL"])
    try:
        for _ in range(600):
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    text("SELECT count(*) FROM webhook_events WHERE status = 'received'")
                )
            if not waiting:
                return
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


async def _migrate(env: dict[str, str]) -> None:
    """Services mode does not migrate on start (the embedded default does)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "migrate", cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await proc.wait() != 0:
        raise RuntimeError("server.py migrate failed")


@contextlib.asynccontextmanager
async def _serving(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[str]:
    """A server in its own process (so the load generator does not share its core)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *command, cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as probe:
            for _ in range(150):
                try:
                    await probe.get(f"{base}/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)


async def run() -> list[Figure]:
    """Both servers stay up while ROUNDS open-loop rounds alternate between them, so a
    stall of the machine (another process's disk flush, a checkpoint) lands in one round
    of one server, not in the whole comparison: the p99 figure is the median of the
    rounds' ratios, and every round is printed."""
    with tempfile.TemporaryDirectory() as tmp:
        echo_port, ours_port = free_port(), free_port()
        env = _metasync_env(tmp)
        if os.environ.get("BENCH_DATABASE_URL"):
            await _migrate(env)
        echo_cmd = ["-m", "bench.echo_server", str(echo_port)]
        ours_cmd = ["server.py", "--port", str(ours_port)]
        async with _serving(echo_cmd, {}, echo_port), _serving(ours_cmd, env, ours_port):
            echo = Pool("127.0.0.1", echo_port, size=64)
            ours = Pool("127.0.0.1", ours_port, size=64)
            try:
                rounds = []
                for _ in range(ROUNDS):
                    # Servers close keep-alive connections idle for 5 s: each round opens its own.
                    echo.close()
                    ours.close()
                    echo_p99 = _p99(await _open_loop(echo, "/echo", SECRET))
                    ours_p99 = _p99(await _open_loop(ours, "/webhooks/meta", SECRET))
                    rounds.append((ours_p99, echo_p99))
                    await _worker_idle(env)
                echo.close()
                echo_rate = await _closed_loop(echo, "/echo", SECRET)
                ours.close()
                ours_rate = await _closed_loop(ours, "/webhooks/meta", SECRET)
            finally:
                echo.close()
                ours.close()
    ratios = [o / e for o, e in rounds]
    shown = ", ".join(f"{o * 1000:.1f}/{e * 1000:.1f}ms" for o, e in rounds)
    return [
        Figure("webhook_ack.p99_vs_echo", statistics.median(ratios), "<= 4",
               f"rounds (ours/echo p99 at {RATE}/s): {shown}"),
        Figure("webhook_ack.rate_vs_echo", ours_rate / echo_rate, ">= 0.4",
               f"{ours_rate:.0f}/s echo={echo_rate:.0f}/s"),
    ]  # fmt: skip
