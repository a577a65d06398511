"""A lean HTTP/1.1 load generator: keep-alive connections that write prepared request bytes
and read just the status line, headers and a Content-Length body.

Why not httpx: on this 2-core box the load generator shares the machine with the server
under test, and httpx spends about a millisecond of CPU per request, so at 200 requests/s
the client alone takes a large part of a core and its own queueing shows up in the server's
p99. This client costs a few tens of microseconds per request, so the figures measure the
servers (both the baseline and metasync are driven by it in the same way).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping


class HttpError(RuntimeError):
    """The server answered with a status other than the one expected."""


def request_bytes(host: str, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Up to ``size`` keep-alive connections to one server, opened as needed."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def post(self, request: bytes, expect: int = 200) -> None:
        async with self._slots:
            if self._idle:
                conn = self._idle.pop()
            else:
                conn = _Connection(*await asyncio.open_connection(self.host, self.port))
            try:
                status = await conn.exchange(request)
            except BaseException:
                conn.close()
                raise
            self._idle.append(conn)
        if status != expect:
            raise HttpError(f"status {status}, expected {expect}")

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
