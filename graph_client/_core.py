"""The request pipeline every Graph call goes through.

limiter wait → circuit breaker → HTTP → usage headers recorded → error mapped → retry or
raise. The endpoint methods (``_pages``, ``_instagram``, ``_whatsapp``) only build paths and
parameters on top of :meth:`_Core._call` and :meth:`_Core._paginate`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from graph_client._redact import (
    install_httpx_log_filter,
    redact,
    secret_values,
    token_fingerprint,
)
from graph_client.breaker import CircuitBreaker
from graph_client.config import GraphConfig
from graph_client.errors import (
    GraphError,
    RateLimitedError,
    ThrottledError,
    TokenInvalidError,
    TransientError,
    error_from_response,
)
from graph_client.limiter import Limiter, Spacing, limiter_from_config
from graph_client.pagination import iterate_items
from graph_client.retry import retry_delay
from graph_client.signature import appsecret_proof
from graph_client.usage import APP_SCOPE, object_scope, parse_usage

log = logging.getLogger("graph_client")

TokenInvalidHook = Callable[[str, TokenInvalidError], Awaitable[None]]
Params = Mapping[str, str | int | float | bool]

# Errors raised before any byte reached Meta: safe to repeat even a non-idempotent call.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class CallCount:
    """Graph calls sent (retries included) while ``GraphClient.counting_calls()`` is open."""

    calls: int = 0


# A context variable, so concurrent syncs each count their own calls (child tasks share it).
_call_counter: ContextVar[CallCount | None] = ContextVar("graph_call_counter", default=None)


@contextmanager
def counting_calls() -> Iterator[CallCount]:
    counter = CallCount()
    token = _call_counter.set(counter)
    try:
        yield counter
    finally:
        _call_counter.reset(token)


def seg(object_id: str | int) -> str:
    """One path segment from an id (ids are opaque; some IG ids carry ``=`` or ``/``)."""
    return quote(str(object_id), safe="._-")


Fields = str | tuple[str, ...] | list[str]


def fields_param(fields: Fields) -> str:
    """``fields=`` from a string or a sequence (items may nest: ``"messages.limit(20){id}"``)."""
    return fields if isinstance(fields, str) else ",".join(fields)


def data_list(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``data`` array of a response, objects only."""
    data = body.get("data")
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def is_success(body: Mapping[str, Any]) -> bool:
    """``{"success": true}``; Page subscribed_apps documents the string ``"true"``."""
    return body.get("success") in (True, "true")


class _Core:
    def __init__(
        self,
        config: GraphConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: Limiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_token_invalid: TokenInvalidHook | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """
        - ``transport``: how Meta is reached; ``None`` for the real network,
          ``httpx.ASGITransport(app=sandbox_app)`` or ``httpx.MockTransport`` otherwise.
        - ``limiter``: shared usage limiter; by default one from ``config`` (Redis when
          ``config.redis_url`` is set), owned and closed by this client.
        - ``sleep`` / ``clock`` / ``rand``: seams for tests (waits, breaker time, jitter).
        - ``on_token_invalid``: awaited with ``(token_fingerprint, error)`` on 190/102.
        """
        install_httpx_log_filter()
        self._config = config
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            transport=transport,
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_keepalive_connections,
            ),
            headers={"Accept": "application/json", "User-Agent": "metasync-graph-client"},
        )
        self._owns_limiter = limiter is None
        self._limiter = limiter if limiter is not None else limiter_from_config(config, clock=clock)
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._on_token_invalid = on_token_invalid
        self._breakers: dict[str, CircuitBreaker] = {}

    @property
    def config(self) -> GraphConfig:
        return self._config

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._owns_limiter:
            await self._limiter.aclose()

    def breaker_states(self) -> dict[str, str]:
        """``{host: "closed" | "open" | "half_open"}`` for every host called so far."""
        return {host: str(b.state) for host, b in self._breakers.items()}

    def _breaker(self, host: str) -> CircuitBreaker:
        breaker = self._breakers.get(host)
        if breaker is None:
            breaker = self._breakers[host] = CircuitBreaker(
                host,
                threshold=self._config.breaker_failure_threshold,
                reset_seconds=self._config.breaker_reset_seconds,
                clock=self._clock,
            )
        return breaker

    def _conversations_spacing(self, page_id: str) -> Spacing:
        # Spacing is reserved when a call leaves; Meta counts when it arrives, over a rolling
        # second. A 20 % margin absorbs latency jitter between the two (10 % was tripped on a
        # loaded 2-core machine); exact spacing (0.5 s) does not: two slow-then-fast arrivals
        # would land three in one window.
        interval = 1.0 / self._config.conversations_calls_per_second
        return Spacing(f"conversations:{page_id}", interval * 1.2)

    async def _call(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        token: str | None = None,
        params: Params | None = None,
        json: Any = None,
        object_id: str | None = None,
        spacing: Spacing | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """One Graph call with limiting, breaker and retries; the decoded JSON object.

        ``object_id`` names the business object (Page, IG account, WABA, phone number) whose
        usage scope applies; ``idempotent`` defaults to true for GET and DELETE.
        """
        if idempotent is None:
            idempotent = method in ("GET", "DELETE")
        query: dict[str, str | int | float | bool] = dict(params or {})
        if token is not None:
            query["appsecret_proof"] = appsecret_proof(token, self._config.app_secret)
        attempt = 0
        while True:
            try:
                return await self._attempt(method, path, token, query, json, object_id, spacing)
            except TokenInvalidError as err:
                if token is not None:
                    await self._token_invalid(token, err)
                raise
            except GraphError as err:
                delay = retry_delay(
                    err,
                    attempt=attempt,
                    idempotent=idempotent,
                    config=self._config,
                    rand=self._rand,
                )
                if delay is None:
                    raise
                attempt += 1
                log.info(
                    "graph retry %d/%d in %.2fs after %r on %s %s",
                    attempt,
                    self._config.max_retries,
                    delay,
                    err,
                    method,
                    redact(str(path)).split("?")[0],
                )
                await self._sleep(delay)

    async def _attempt(
        self,
        method: str,
        path: str | httpx.URL,
        token: str | None,
        query: dict[str, str | int | float | bool],
        json: Any,
        object_id: str | None,
        spacing: Spacing | None,
    ) -> dict[str, Any]:
        scopes = [APP_SCOPE] if object_id is None else [APP_SCOPE, object_scope(object_id)]
        if spacing is not None:
            scopes.append(_spacing_scope(spacing))
        cap = self._config.rate_limit_max_wait_seconds
        wait = await self._limiter.reserve(scopes, spacing=spacing, max_wait=cap)
        if wait > cap:
            raise ThrottledError(
                f"usage limit reached; calls held for {wait:.0f}s", retry_after=wait
            )
        if wait > 0:
            await self._sleep(wait)

        headers = {"Authorization": f"Bearer {token}"} if token is not None else None
        if isinstance(path, httpx.URL):
            # httpx replaces (not merges) a URL's query when given params: merge ourselves.
            request = self._http.build_request(
                method, path.copy_merge_params(query), json=json, headers=headers
            )
        else:
            request = self._http.build_request(
                method, path, params=query, json=json, headers=headers
            )
        breaker = self._breaker(request.url.host)
        breaker.before_call()
        counter = _call_counter.get()
        if counter is not None:
            counter.calls += 1
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            breaker.record_failure()
            where = redact(str(request.url.copy_with(query=None)))
            raise TransientError(
                f"{type(exc).__name__} on {method} {where}",
                ambiguous=not isinstance(exc, _NOT_SENT),
            ) from exc
        except BaseException:
            breaker.release()
            raise

        await self._limiter.record(parse_usage(response.headers).readings(object_id))
        body = _decode(response)
        has_error = isinstance(body, dict) and isinstance(body.get("error"), dict)
        if response.is_success and not has_error:
            breaker.record_success()
            if isinstance(body, dict):
                return body
            if isinstance(body, bool):
                return {"success": body}
            raise GraphError("unexpected non-object response", http_status=response.status_code)

        err = error_from_response(response.status_code, body, response.headers)
        err.forget_secrets(secret_values(token, query))
        if isinstance(err, TransientError):
            breaker.record_failure()
        else:
            breaker.record_success()  # the host answered sensibly
        if isinstance(err, RateLimitedError):
            hold, held = err.retry_after, self._block_scopes(err, object_id)
            if hold is None and err.code == 613 and spacing is not None:
                # The per-second limit of a spaced edge (2 conversations calls a second per
                # Page), tripped when network jitter bunched our spaced calls on arrival: one
                # rolling second clears it. Hold that edge only, and let the call be retried
                # then, instead of holding all the Page's calls for a minute.
                hold = err.retry_after = 1.0 + spacing.interval
                held = [_spacing_scope(spacing)]
            elif hold is None:
                hold = self._config.rate_limit_block_seconds
            await self._limiter.block(held, hold)
        raise err

    @staticmethod
    def _block_scopes(err: RateLimitedError, object_id: str | None) -> list[str]:
        if err.code == 131056:  # WhatsApp pair rate: one recipient, not the whole number
            return []
        if err.code == 4 or object_id is None:  # 4 is the app-wide platform limit
            return [APP_SCOPE]
        return [object_scope(object_id)]

    async def _token_invalid(self, token: str, err: TokenInvalidError) -> None:
        err.token_fingerprint = token_fingerprint(token)
        log.warning("graph token invalid (fingerprint %s): %s", err.token_fingerprint, err)
        if self._on_token_invalid is None:
            return
        try:
            await self._on_token_invalid(err.token_fingerprint, err)
        except Exception:
            log.exception("on_token_invalid hook failed")

    def _paginate(
        self,
        path: str,
        *,
        token: str,
        params: Params | None = None,
        object_id: str | None = None,
        spacing: Spacing | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        async def items() -> AsyncIterator[dict[str, Any]]:
            first = await self._call(
                "GET", path, token=token, params=params, object_id=object_id, spacing=spacing
            )
            async for item in self._follow(first, token, object_id, spacing, max_pages):
                yield item

        return items()

    def _follow(
        self,
        first: dict[str, Any],
        token: str,
        object_id: str | None,
        spacing: Spacing | None,
        max_pages: int | None,
    ) -> AsyncIterator[dict[str, Any]]:
        async def fetch(url: httpx.URL) -> dict[str, Any]:
            return await self._call("GET", url, token=token, object_id=object_id, spacing=spacing)

        return iterate_items(first, fetch, self._config.base_url, max_pages=max_pages)

    def paginate(
        self,
        path: str,
        token: str,
        *,
        params: Params | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a cursor-paged edge, e.g. ``paginate("123/feed", token)``."""
        return self._paginate(path, token=token, params=params, max_pages=max_pages)

    def follow_edge(
        self,
        edge: Mapping[str, Any],
        token: str,
        *,
        page_id: str | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of an edge embedded by field expansion (``{"data": [...], "paging": ...}``,
        e.g. ``conversation["messages"]``): its inline items, then the pages behind ``next``.

        Pass ``page_id`` for conversation edges so the 2 calls/s per Page spacing applies.
        """
        spacing = self._conversations_spacing(page_id) if page_id is not None else None
        return self._follow(dict(edge), token, page_id, spacing, max_pages)


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _spacing_scope(spacing: Spacing) -> str:
    """The limiter scope that holds one spaced edge (after its per-second limit was hit)."""
    return f"spacing:{spacing.key}"
