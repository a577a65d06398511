"""spec/meta-module-api.md sections 4 and 5: a mapped client's Instagram profile and media
grid, and one Instagram post in detail.

The grid is cached for 300 s per Instagram account under the documented key
``ig_grid_{ig_account_id}`` (in Redis when configured, so every API process shares it). A
post is served only when Meta names one of the organization's mapped Instagram accounts as
its owner: an id of another organization's post answers exactly like an unknown one.

Answers keep Meta's field names and time format, as the document does, so the cached grid
is what Meta said, not a rendering of it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.errors import DomainError, NotFoundError
from domain.meta import (
    InstagramInfo,
    MetaError,
    MetaGateway,
    MetaPermissionDenied,
    MetaPost,
)
from domain.ports import Cache, JSONDict
from domain.repositories.channels import PageRepository
from domain.repositories.client_mappings import ClientPageMappingRepository
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

GRID_TTL_SECONDS = 300
# The newest media of the account; the document's grid has no paging.
GRID_MEDIA_LIMIT = 25
# Meta's (#100) "Unsupported get request. Object ... does not exist, cannot be loaded due to
# missing permissions": the id is nothing this token can read.
_UNREADABLE_CODE = 100


class PageTokenUnavailable(DomainError):
    """The mapping's Page has no stored token any more (removed or disconnected): to the
    caller, the same as a token Meta no longer accepts."""

    def __init__(self) -> None:
        super().__init__("The mapped Page has no stored token")


def grid_cache_key(ig_account_id: str) -> str:
    return f"ig_grid_{ig_account_id}"


def meta_time(value: datetime | None) -> str | None:
    """Meta's own format: ``2025-12-18T10:30:00+0000``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z") if value else None


def profile_fields(info: InstagramInfo) -> JSONDict:
    return {
        "followers_count": info.followers_count,
        "follows_count": info.follows_count,
        "media_count": info.media_count,
        "username": info.username,
        "profile_picture_url": info.profile_picture_url,
    }


def media_fields(post: MetaPost) -> JSONDict:
    return {
        "id": post.meta_id,
        "caption": post.message,
        "media_url": post.media_url,
        "media_type": post.type,
        "thumbnail_url": post.thumbnail_url,
        "timestamp": meta_time(post.created_time),
        "permalink": post.permalink,
        # Additive: FEED, REELS or STORY (a VIDEO may be either of the first two).
        "media_product_type": post.product_type,
    }


def post_fields(post: MetaPost) -> JSONDict:
    return {**media_fields(post), "like_count": post.likes, "comments_count": post.comments}


async def client_instagram_grid(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    cache: Cache,
    *,
    organization_id: uuid.UUID,
    client_id: str,
) -> JSONDict | None:
    """``{"profile": ..., "media": [...]}`` of the Instagram account the client is mapped to
    (through its Page's stored token), from the cache when fresh; None when none of the
    client's Pages has an Instagram account. NotFound when the client has no mapping in the
    organization."""
    async with uow:
        mappings = await ClientPageMappingRepository(uow.session, organization_id).for_client(
            client_id
        )
        if not mappings:
            raise NotFoundError("Mapping")
        mapping = mappings[0]  # one with an Instagram account, if any has one
        ig_account_id, page_id = mapping.ig_account_id, mapping.page_id
        if ig_account_id is None:
            return None
        page = await PageRepository(uow.session, organization_id).get(page_id) if page_id else None
        token = unseal(vault, page) if page is not None else None
    key = grid_cache_key(ig_account_id)
    cached = await cache.get(key)
    if cached is not None:
        return cached
    if token is None:
        raise PageTokenUnavailable()
    # A rejected token (190) raises MetaTokenInvalid; the Graph client has already marked
    # the Page holding it reauthorization_required by then.
    info = await gateway.instagram_account(ig_account_id, token)
    window = await gateway.ig_media(ig_account_id, token, limit=GRID_MEDIA_LIMIT)
    grid: JSONDict = {
        "profile": profile_fields(info),
        "media": [media_fields(item) for item in window.items],
    }
    await cache.set(key, grid, GRID_TTL_SECONDS)
    return grid


async def mapped_instagram_post(
    uow: UnitOfWork,
    gateway: MetaGateway,
    vault: TokenVault,
    cache: Cache,
    *,
    organization_id: uuid.UUID,
    post_id: str,
) -> MetaPost:
    """The Instagram media ``post_id``, read with the Page token of an Instagram account the
    organization mapped, and served only when Meta names a mapped account as its owner.

    Each mapped account is asked in turn (one whose cached grid lists the post first), until
    a token reads it with a mapped owner. NotFound when none does; when some account could
    not be asked (Meta rejected its token or failed, or its Page has no stored token), that
    failure is raised instead, since the post may be behind it."""
    async with uow:
        rows = await ClientPageMappingRepository(uow.session, organization_id).instagram_pages()
        mapped = {ig for ig, _ in rows}
        tokens: dict[str, str] = {}
        for ig, page in rows:
            token = unseal(vault, page)
            if token is not None:
                tokens.setdefault(ig, token)
    failure: MetaError | None = None
    for ig in await _likely_owners_first(cache, list(tokens), post_id):
        try:
            post = await gateway.ig_media_item(post_id, tokens[ig])
        except MetaError as exc:
            if not _unreadable(exc):
                failure = failure or exc
            continue
        # A token may read more than its own account's media (on Meta, a user's Pages can
        # share a business): only an owner mapped here makes the post this organization's.
        if post.owner_id in mapped:
            return post
    if failure is not None:
        raise failure
    if mapped - set(tokens):  # an account whose Page lost its token could not be asked
        raise PageTokenUnavailable()
    raise NotFoundError("Post")


def _unreadable(exc: MetaError) -> bool:
    """Meta says this token cannot read that id (missing, someone else's, not a media)."""
    return isinstance(exc, MetaPermissionDenied) or exc.meta_code == _UNREADABLE_CODE


async def _likely_owners_first(cache: Cache, accounts: list[str], post_id: str) -> list[str]:
    """The documented flow copies a post id from a grid, so an account whose cached grid
    lists it is almost surely the owner: asking it first saves a Graph call per account."""

    def listed(grid: dict[str, Any] | None) -> bool:
        media = grid.get("media") if grid else None
        return isinstance(media, list) and any(
            isinstance(m, dict) and m.get("id") == post_id for m in media
        )

    flags = {ig: listed(await cache.get(grid_cache_key(ig))) for ig in accounts}
    return sorted(accounts, key=lambda ig: not flags[ig])
