"""``GraphClient``: the async client for Meta's Graph API.

One ``httpx.AsyncClient`` per instance (keep-alive pool and timeouts from :class:`GraphConfig`),
base URL ``config.base_url``. Every call made with a token sends it as
``Authorization: Bearer`` (never in the query string) plus ``appsecret_proof``. Calls go
through the usage limiter, a circuit breaker per host and the retry policy in
:mod:`graph_client.retry`; failures raise the :mod:`graph_client.errors` tree.

Invalid tokens: a 190/102 raises :class:`TokenInvalidError` (never retried) carrying
``token_fingerprint``, a hash of the token. Callers that know which connection they used simply
catch it and mark the connection ``reauthorization_required``. For a central hook pass
``on_token_invalid=async def (fingerprint, error)``; it runs before the error propagates and
its own failures are logged, not raised.

Tests and sandbox mode plug Meta in through ``transport`` (``httpx.ASGITransport(app=...)`` or
``httpx.MockTransport``); ``sleep`` and ``clock`` make waits instant and deterministic.

Usage::

    async with GraphClient(config) as graph:
        async for page in graph.me_accounts(user_token):
            ...
"""

from __future__ import annotations

from graph_client._facebook import FacebookEndpoints
from graph_client._instagram import InstagramEndpoints
from graph_client._whatsapp import WhatsAppEndpoints


class GraphClient(FacebookEndpoints, InstagramEndpoints, WhatsAppEndpoints):
    """``GraphClient(config, *, transport=None, limiter=None, sleep=asyncio.sleep,
    clock=time.monotonic, on_token_invalid=None)``; see the module docstring."""
