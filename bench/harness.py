"""A metasync runtime in sandbox mode on a fresh SQLite file (or DATABASE_URL), for benches."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator

from domain.services.identity import Principal, ensure_user
from migrations.runner import upgrade_engine
from server import Runtime, build_runtime, close_runtime
from settings import Settings


@contextlib.asynccontextmanager
async def sandbox_runtime(public_url: str = "http://127.0.0.1:8765") -> AsyncIterator[Runtime]:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = Settings(DATABASE_URL=url, REDIS_URL=os.environ.get("BENCH_REDIS_URL"))
        runtime = build_runtime(settings, sandbox=True, public_url=public_url)
        try:
            await upgrade_engine(runtime.services.engine)
            yield runtime
        finally:
            await close_runtime(runtime)


async def tenant(runtime: Runtime, email: str = "bench@example.com") -> Principal:
    async with runtime.services.uow() as uow:
        principal = await ensure_user(uow, email, "Bench")
        await uow.commit()
    return principal
