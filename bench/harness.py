"""A metasync runtime in sandbox mode on a fresh SQLite file (or DATABASE_URL), for benches."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator

from domain.services.identity import Principal, ensure_user
from migrations.runner import upgrade_engine
from server import Runtime, build_runtime, close_runtime
from settings import Settings


@contextlib.contextmanager
def database_urls() -> Iterator[list[tuple[str, str]]]:
    """``(label, url)`` of each backend a bench measures: a fresh SQLite file always, and
    PostgreSQL too when BENCH_DATABASE_URL is set."""
    with tempfile.TemporaryDirectory() as tmp:
        urls = [("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        if os.environ.get("BENCH_DATABASE_URL"):
            urls.append(("postgresql", os.environ["BENCH_DATABASE_URL"]))
        yield urls


@contextlib.asynccontextmanager
async def sandbox_runtime(
    public_url: str = "http://127.0.0.1:8765",
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    sandbox: bool = True,
) -> AsyncIterator[Runtime]:
    """A migrated runtime on ``database_url`` (else BENCH_DATABASE_URL, else a fresh SQLite
    file) with the bus on ``redis_url`` (else BENCH_REDIS_URL, else in memory)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or f"sqlite+aiosqlite:///{tmp}/bench.db"
        )
        redis = redis_url if redis_url is not None else os.environ.get("BENCH_REDIS_URL")
        settings = Settings(DATABASE_URL=url, REDIS_URL=redis or None)
        runtime = build_runtime(settings, sandbox=sandbox, public_url=public_url)
        try:
            await upgrade_engine(runtime.services.engine)
            yield runtime
        finally:
            await close_runtime(runtime)


async def tenant(runtime: Runtime, email: str = "bench@example.com") -> Principal:
    """The user ``email`` in an organization of its own (named after the email: a shared
    name would put every bench's rows in one organization)."""
    async with runtime.services.uow() as uow:
        principal = await ensure_user(uow, email, email)
        await uow.commit()
    return principal
