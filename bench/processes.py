"""Real processes for fault runs: a private redis-server, ``server.py`` subprocesses (API,
workers, scheduler) and a pool of workers that can be SIGKILLed and replaced.

Shared by ``bench/webhook_loss.py`` and ``tests/faults/``. Everything runs on loopback,
on ports nobody else uses; nothing here touches the shared Redis or PostgreSQL servers.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def _wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class PrivateRedis:
    """A redis-server of our own (no persistence: a restart loses every queued job, like a
    crashed Redis without AOF), which a test or bench may kill and start again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--loglevel", "warning"]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603 (our arguments only)
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.port, 10, self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        self.kill()


class ServerProcess:
    """``python server.py <args>`` with the given environment; output goes to a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log_path = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> ServerProcess:
        self._log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(  # noqa: S603 (our arguments only)
            [sys.executable, "server.py", *self.args], cwd=ROOT, env=env,
            stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def printed(self, text: str) -> bool:
        return self.log_path.exists() and text in self.log_path.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_listening(self, port: int, timeout: float = 60) -> None:
        assert self.proc is not None
        _wait_for_port(port, timeout, self.proc)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acks, no finally blocks (a crash, an OOM kill)."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    def stop(self, timeout: float = 20) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


READY = "metasync worker consuming"  # what `server.py worker` prints once it consumes


class WorkerPool:
    """``python server.py worker`` processes; ``kill_one`` SIGKILLs one at random and starts
    its replacement at once, as a process supervisor would."""

    def __init__(self, size: int, env: dict[str, str], log_dir: Path, seed: int = 0) -> None:
        self.env, self.log_dir = env, log_dir
        self.rng = random.Random(seed)
        self.started = 0
        self.kills = 0
        self.workers = [self._spawn() for _ in range(size)]

    def _spawn(self) -> ServerProcess:
        self.started += 1
        return ServerProcess(
            ["worker"], self.env, self.log_dir / f"worker-{self.started}.log"
        ).start()

    def kill_one(self) -> bool:
        """Kill a worker that is consuming (so the kill lands mid-work, not mid-start-up),
        while another one is consuming too: on a loaded machine a worker takes longer than
        2 s to start, and killing the only one up would stop all work rather than test
        recovery. False when no worker could be killed."""
        ready = [i for i, w in enumerate(self.workers) if w.printed(READY)]
        if len(ready) < 2:
            return False
        index = self.rng.choice(ready)
        self.workers[index].kill()
        self.kills += 1
        self.workers[index] = self._spawn()
        return True

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
