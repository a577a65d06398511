"""The sandbox's configuration: one small dataclass the composition root fills in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass(slots=True)
class SandboxConfig:
    """How the fake Meta platform behaves.

    ``clock`` is the sandbox's notion of "now" (Unix seconds); tests inject a fake one and call
    ``await sandbox.tick()`` after advancing it so timers (IG containers, template review) fire.
    """

    app_id: str
    app_secret: str
    # Where the sandbox is mounted inside the host app ("/sandbox"); used to build the absolute
    # ``paging.next`` URLs and the OAuth dialog URL.
    base_path: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    container_ready_seconds: float = 5.0
    template_review_seconds: float = 30.0
    conversations_calls_per_second: float = 2.0
    webhook_callback_url: str | None = None
    webhook_verify_token: str | None = None
    # Lets tests deliver webhooks in-process (httpx.ASGITransport to the app under test).
    webhook_transport: httpx.AsyncBaseTransport | None = None
    clock: Callable[[], float] = time.time
    # Apps are set up with "Require App Secret": user and page token calls need appsecret_proof.
    require_appsecret_proof: bool = True
    app_name: str = "metasync sandbox"
    # Delays before each webhook retry (the number of entries bounds the retries).
    webhook_retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    webhook_timeout_seconds: float = 10.0
    # Automatic Messenger echo + delivery and WhatsApp sent + delivered statuses after a send.
    auto_receipts: bool = True
    oauth_code_ttl_seconds: float = 600.0
    ig_publishing_quota: int = 100
    # Hourly budgets behind the usage headers' call_count percentages (and codes 4 / 80xxx).
    app_calls_per_hour: int = 100_000
    business_calls_per_hour: int = 100_000
    # Real-time interval of the background timer task; 0 disables it (tests call tick()).
    tick_interval_seconds: float = 1.0
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def root_url(self) -> str:
        """Absolute URL of the sandbox's root (what a Graph client uses as ``graph_url``)."""
        return self.public_base_url.rstrip("/") + self.base_path.rstrip("/")
