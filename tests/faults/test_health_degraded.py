"""/api/health tells the truth while a dependency is down, and recovers after."""

from __future__ import annotations

import httpx

from bench.processes import PrivateRedis, free_port
from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import make_settings


async def _health(settings_url: str, redis_url: str | None) -> tuple[int, dict[str, object]]:
    runtime = build_runtime(make_settings(settings_url, REDIS_URL=redis_url))
    app = create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://metasync.test"
        ) as client:
            response = await client.get("/api/health")
    finally:
        await close_runtime(runtime)
    return response.status_code, response.json()


async def test_redis_down_is_degraded_while_it_lasts(
    runtime: Runtime, private_redis: PrivateRedis
) -> None:
    database_url = runtime.settings.DATABASE_URL
    code, body = await _health(database_url, private_redis.url)
    assert (code, body["checks"]["redis"]) == (200, {"status": "ok"})  # type: ignore[index]

    private_redis.kill()
    try:
        code, body = await _health(database_url, private_redis.url)
        # Deliveries are still stored while Redis is away: degraded, not down.
        assert code == 200
        assert body["status"] == "degraded"
        assert body["checks"]["redis"] == {"status": "error", "message": "ConnectionError"}  # type: ignore[index]
    finally:
        private_redis.start()
    code, body = await _health(database_url, private_redis.url)
    assert body["checks"]["redis"] == {"status": "ok"}  # type: ignore[index]


async def test_database_unreachable_is_unhealthy_503() -> None:
    # Nothing listens on this port: the PostgreSQL driver fails to connect, for real.
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/metasync"
    code, body = await _health(url, None)
    assert code == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "error"  # type: ignore[index]
