"""When to repeat a failed Graph call, and after how long.

- Transient errors (network, 5xx, codes 1/2, ``is_transient``, IG media not ready): exponential
  backoff with jitter, up to ``max_retries`` times. A non-idempotent call (creating a post,
  sending a message) is never repeated when the request may already have been applied (a read
  timeout, a bare 5xx): a duplicate post is worse than a failed job.
- Rate limits: wait ``retry_after`` when Meta gave one and it is at most
  ``rate_limit_max_wait_seconds``; otherwise raise at once so the caller can reschedule.
- Everything else (190, permissions, invalid parameters, policy blocks): never.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from graph_client.config import GraphConfig
from graph_client.errors import GraphError, RateLimitedError, ThrottledError, TransientError


def backoff_delay(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with "equal jitter": the ceiling doubles per attempt (0-based) up to
    ``cap``; the delay is half the ceiling plus a random share of the other half, so waits grow
    yet concurrent clients do not retry in lockstep."""
    ceiling = min(cap, base * 2.0**attempt)
    return ceiling / 2 + rand() * ceiling / 2


def retry_delay(
    error: GraphError,
    *,
    attempt: int,
    idempotent: bool,
    config: GraphConfig,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None to raise ``error``."""
    if attempt >= config.max_retries:
        return None
    if isinstance(error, RateLimitedError):
        if isinstance(error, ThrottledError) or error.retry_after is None:
            return None
        return (
            error.retry_after if error.retry_after <= config.rate_limit_max_wait_seconds else None
        )
    if not error.retryable:
        return None
    if isinstance(error, TransientError) and error.ambiguous and not idempotent:
        return None
    return backoff_delay(attempt, config.backoff_base_seconds, config.backoff_max_seconds, rand)
