"""The small configuration object the Graph client takes (it never reads our settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GraphConfig:
    app_id: str
    app_secret: str
    graph_url: str = "https://graph.facebook.com"
    version: str = "v25.0"
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    max_connections: int = 100
    max_keepalive_connections: int = 20
    # Retries of transient failures only (5xx, timeouts, is_transient, codes 1/2).
    max_retries: int = 3
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    # Circuit breaker per host: opens after this many consecutive failures.
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 30.0
    # Redis URL for the limiter shared across processes; None keeps it in-process.
    redis_url: str | None = None
    # Usage headers: slow down from this percentage, proportionally up to the max delay at 100.
    usage_slowdown_from_percent: float = 80.0
    usage_slowdown_max_seconds: float = 2.0
    # A usage reading older than this no longer slows calls down.
    usage_reading_ttl_seconds: float = 300.0
    # At 100 % (or after a rate-limit error) with no regain estimate, hold the scope this long.
    rate_limit_block_seconds: float = 60.0
    # Wait inside a call for a rate limit at most this long; beyond it raise so the caller
    # (usually a job) can reschedule instead of holding a worker.
    rate_limit_max_wait_seconds: float = 30.0
    # Conversations API: Meta allows 2 calls per second per Page.
    conversations_calls_per_second: float = 2.0

    @property
    def base_url(self) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.version}"
