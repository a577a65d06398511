"""The sandbox's shared state and services: config, clock, store, usage, faults, webhooks."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from graph_client.sandbox.config import SandboxConfig
from graph_client.sandbox.faults import Faults
from graph_client.sandbox.store import Store
from graph_client.sandbox.usage import PerSecondLimiter, UsageTracker
from graph_client.sandbox.webhooks import EmitterOptions, WebhookEmitter

Ticker = Callable[["Core", Any], None]
# The call log keeps the newest calls only: a long benchmark must not grow it without end.
CALL_LOG_SIZE = 5000


class Core:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock_offset = 0.0
        self.store = Store(config.app_id, config.app_name)
        self.usage = UsageTracker(config.app_calls_per_hour, config.business_calls_per_hour)
        self.conversations_limiter = PerSecondLimiter(config.conversations_calls_per_second)
        self.faults = Faults()
        self.callback: tuple[str, str | None] | None = (
            (config.webhook_callback_url, config.webhook_verify_token)
            if config.webhook_callback_url
            else None
        )
        self.emitter = WebhookEmitter(
            app_secret=config.app_secret,
            target=self.webhook_target,
            transport=config.webhook_transport,
            timeout=config.webhook_timeout_seconds,
            options=EmitterOptions(retry_delays=tuple(config.webhook_retry_delays)),
        )
        # Called with each object whose timer (store.timers) is due, on tick(): from every
        # Graph request, the background task and tests.
        self.tickers: list[Ticker] = []
        # Graph calls received (method, path, fields=), for tests that check what a client
        # asked for; never tokens or other parameters.
        self.call_log: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)

    def log_call(self, method: str, path: str, params: dict[str, Any]) -> None:
        fields = params.get("fields")
        self.call_log.append(
            {"method": method, "path": path, "fields": str(fields) if fields else None}
        )

    def now(self) -> float:
        return self.config.clock() + self.clock_offset

    def reset(self) -> None:
        self.store = Store(self.config.app_id, self.config.app_name)
        self.usage = UsageTracker(
            self.config.app_calls_per_hour, self.config.business_calls_per_hour
        )
        self.conversations_limiter = PerSecondLimiter(self.config.conversations_calls_per_second)
        self.faults = Faults()
        self.call_log.clear()
        self.emitter.held.clear()
        self.emitter.attempts.clear()
        self.emitter.undeliverable.clear()

    def tick(self) -> None:
        timers = self.store.timers
        if not timers:
            return
        now = self.now()
        for obj_id in [key for key, due in timers.items() if due <= now]:
            del timers[obj_id]
            obj = self.store.objects.get(obj_id)
            for ticker in self.tickers:
                ticker(self, obj)

    # --- webhooks ----------------------------------------------------------------------------

    def webhook_target(self, obj: str) -> tuple[str, str | None] | None:
        subscription = self.store.app.subscriptions.get(obj)
        if subscription is not None:
            return subscription.callback_url, subscription.verify_token
        return self.callback

    def deliver(
        self, payload: dict[str, Any], *, obj: str, field: str, subscribed: list[str] | None
    ) -> dict[str, Any]:
        """Queue ``payload`` if Meta would send it: the asset subscribed the app to ``field``
        (``subscribed`` is the asset's subscribed_fields: None when not subscribed at all, empty
        when any field goes) and the app's subscription for ``obj`` (when registered) includes
        the field."""
        reason = None
        if subscribed is None:
            reason = f"the {obj} asset has not subscribed this app (POST .../subscribed_apps)"
        elif subscribed and field not in subscribed:
            reason = f"the {obj} asset's subscribed_fields do not include {field}"
        else:
            subscription = self.store.app.subscriptions.get(obj)
            if (
                subscription is not None
                and subscription.fields
                and field not in subscription.fields
            ):
                reason = f"the app's {obj} subscription does not include {field}"
            elif self.webhook_target(obj) is None:
                reason = "no webhook callback registered"
        if reason is not None:
            return {"queued": False, "reason": reason, "payload": payload}
        self.emitter.emit(payload)
        return {"queued": True, "payload": payload}
