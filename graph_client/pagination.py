"""Cursor pagination over Graph edges.

A page is ``{"data": [...], "paging": {"cursors": {...}, "next": "<url>"}}``. We follow
``paging.next`` and stop when it is absent: cursors alone do not mean there is more (Meta
keeps them on the last page). The same walk works for an edge embedded by field expansion,
e.g. ``conversation["messages"]``, whose own ``next`` points at ``/{conversation-id}/messages``.

Meta's ``next`` URLs repeat the ``access_token``; :func:`next_request_url` drops it (the client
sends the token in a header) and re-targets the URL at our configured host, so a URL in a
response can never send our token elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx

_CREDENTIAL_PARAMS = ("access_token", "appsecret_proof")

FetchUrl = Callable[[httpx.URL], Awaitable[dict[str, Any]]]


def next_url(page: Mapping[str, Any]) -> str | None:
    """``paging.next`` of a page, or None on the last page."""
    paging = page.get("paging")
    if not isinstance(paging, dict):
        return None
    nxt = paging.get("next")
    return nxt if isinstance(nxt, str) and nxt else None


def page_items(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = page.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def next_request_url(url: str, base_url: str) -> httpx.URL:
    """``url`` (a ``paging.next``) with credentials removed, aimed at ``base_url``'s origin.

    The path is kept whole (it carries the version and any mount prefix such as
    ``/sandbox``); only scheme, host and port come from our configuration.
    """
    base = httpx.URL(base_url)
    parsed = httpx.URL(url)
    params = parsed.params
    for name in _CREDENTIAL_PARAMS:
        params = params.remove(name)
    return parsed.copy_with(
        scheme=base.scheme, host=base.host, port=base.port, query=str(params).encode()
    )


async def iterate_pages(
    first_page: dict[str, Any], fetch: FetchUrl, base_url: str, *, max_pages: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Yield ``first_page`` and every following page until one has no ``next``."""
    page = first_page
    seen: set[str] = set()
    count = 0
    while True:
        yield page
        count += 1
        nxt = next_url(page)
        if nxt is None or (max_pages is not None and count >= max_pages):
            return
        target = next_request_url(nxt, base_url)
        if str(target) in seen:  # a server repeating itself must not loop us forever
            return
        seen.add(str(target))
        page = await fetch(target)


async def iterate_items(
    first_page: dict[str, Any], fetch: FetchUrl, base_url: str, *, max_pages: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Yield every item of every page (see :func:`iterate_pages`)."""
    async for page in iterate_pages(first_page, fetch, base_url, max_pages=max_pages):
        for item in page_items(page):
            yield item
