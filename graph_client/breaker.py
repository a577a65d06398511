"""A circuit breaker per host.

closed → (``threshold`` consecutive transient failures) → open → (``reset_seconds``) →
half-open: one trial call goes through; success closes, failure reopens. While open, or while
the half-open trial is in flight, calls fail at once with :class:`CircuitOpenError`.

Only transient failures (network errors, 5xx, codes 1/2) count: a 400 about a bad parameter
proves the host is up, so it counts as a success.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from graph_client.errors import CircuitOpenError


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        host: str,
        *,
        threshold: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self._threshold = max(1, threshold)
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> None:
        """Raise :class:`CircuitOpenError` unless a call may go through now."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return
        assert self._opened_at is not None
        remaining = max(0.0, self._opened_at + self._reset_seconds - self._clock())
        raise CircuitOpenError(self.host, retry_after=remaining)

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_in_flight or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._trial_in_flight = False

    def release(self) -> None:
        """Give the half-open trial slot back when a call ended without an answer (cancelled)."""
        self._trial_in_flight = False
