"""Engine, session factory and a writer's connection for SQLite (embedded default) and
PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        # WAL lets the API read while the in-process worker writes; busy_timeout makes a
        # writer wait for the lock instead of failing at once.
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # survive PostgreSQL restarts and dropped connections
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class WriterConnection:
    """Where one writer task (the webhook inbox's) runs its statements.

    On PostgreSQL a connection is kept open in autocommit: each statement is its own durable
    transaction, answered in one round trip, where a pooled transaction costs four (the
    pre-ping, BEGIN, the statement, COMMIT) and each of them can wait behind another process
    on this machine. The writer's statements are single inserts (or reads), so autocommit
    changes nothing about what is atomic. A connection that fails is discarded, the next use
    opens another (PostgreSQL restarted). On SQLite, which has one writer and no network
    round trips, each use is a transaction on a pooled connection, committed on exit.

    For one task at a time; ``aclose`` before the engine is disposed.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._held: AsyncConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncConnection]:
        if self._engine.dialect.name == "sqlite":
            async with self._engine.begin() as connection:
                yield connection
            return
        connection = await self._connection()
        try:
            yield connection
        except BaseException:
            self._held = None
            with contextlib.suppress(Exception):
                await connection.invalidate()
                await connection.close()
            raise

    async def aclose(self) -> None:
        held, self._held = self._held, None
        if held is not None and self._loop is asyncio.get_running_loop():
            await held.close()

    async def _connection(self) -> AsyncConnection:
        loop = asyncio.get_running_loop()
        if self._held is not None and self._loop is loop:
            return self._held
        # A connection opened on another event loop cannot be used (nor closed) on this one.
        connection = await self._engine.connect()
        self._held = await connection.execution_options(isolation_level="AUTOCOMMIT")
        self._loop = loop
        return self._held
