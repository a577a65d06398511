"""Reading what was published, and how it performs, from Meta.

For one Page or Instagram account: its newest posts are read with their public counts (posts
published elsewhere are recorded too), each recent post's insights are read, and a snapshot
of every post and of the account is kept, so trends can be drawn over time. Only metrics
Meta still serves are asked for (facts §0.2, "Insights"); should Meta refuse one anyway, it
is dropped and the others are read, not the whole account given up."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select

from domain.errors import NotFoundError
from domain.meta import InsightsOf, MetaError, MetaGateway, MetaPost, MetaTokenInvalid
from domain.models import (
    AccountSnapshot,
    ChannelStatus,
    InstagramAccount,
    Page,
    Post,
    PostSnapshot,
    PostStatus,
)
from domain.repositories.channels import InstagramAccountRepository, PageRepository
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

log = structlog.get_logger(__name__)

SYNC_ACCOUNT_ACTOR = "sync_account_insights"
SYNC_ALL_ACTOR = "sync_all_insights"

# Never page_impressions*, page_fans*, post_impressions*, nor IG impressions/plays/
# video_views: Meta answers those with #100 since v22/v25.
PAGE_METRICS = ("page_post_engagements", "page_views_total", "page_follows")
FB_POST_METRICS = ("post_clicks", "post_reactions_by_type_total")
IG_MEDIA_METRICS = ("views", "reach", "saved", "shares", "total_interactions")
DEPRECATED_METRICS = frozenset(
    {
        "page_impressions",
        "page_impressions_unique",
        "page_fans",
        "post_impressions",
        "post_impressions_unique",
        "impressions",
        "plays",
        "video_views",
    }
)
# How many of the newest posts are read, and how old a post may be and still get insights
# read daily (older ones keep their last snapshot; their numbers barely move).
POSTS_PER_ACCOUNT = 100
INSIGHTS_WINDOW = timedelta(days=90)
INVALID_METRIC = 100


@dataclass(frozen=True)
class AccountRef:
    """A Page or an Instagram account of an organization, as analytics names it."""

    kind: str  # facebook | instagram
    id: uuid.UUID


async def resolve_account(
    uow: UnitOfWork, organization_id: uuid.UUID, account_id: uuid.UUID
) -> AccountRef:
    """An organization's Instagram account or Page by row id; another's is missing."""
    ig = await InstagramAccountRepository(uow.session, organization_id).get(account_id)
    if ig is not None:
        return AccountRef("instagram", ig.id)
    page = await PageRepository(uow.session, organization_id).get(account_id)
    if page is not None:
        return AccountRef("facebook", page.id)
    raise NotFoundError("Account")


def queue_account_sync(uow: UnitOfWork, organization_id: uuid.UUID, account: AccountRef) -> None:
    """Queue a read of the account's posts and insights (sent after the caller commits)."""
    uow.enqueue(
        SYNC_ACCOUNT_ACTOR,
        organization_id=str(organization_id),
        kind=account.kind,
        account_id=str(account.id),
    )


async def read_metrics(
    meta: MetaGateway,
    kind: InsightsOf,
    object_id: str,
    token: str,
    metrics: Sequence[str],
    *,
    period: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The metrics Meta served, and those it refused. One refused metric makes Meta fail
    the whole call, so on a refusal each metric is asked for alone."""
    wanted = [m for m in metrics if m not in DEPRECATED_METRICS]
    try:
        return await meta.insights(kind, object_id, token, wanted, period=period), []
    except MetaError as exc:
        if exc.meta_code != INVALID_METRIC or len(wanted) == 1:
            if exc.meta_code == INVALID_METRIC:
                return {}, wanted
            raise
    values: dict[str, Any] = {}
    refused: list[str] = []
    for metric in wanted:
        try:
            values.update(await meta.insights(kind, object_id, token, [metric], period=period))
        except MetaError as exc:
            if exc.meta_code != INVALID_METRIC:
                raise
            refused.append(metric)
    return values, refused


def engagement_of(metrics: dict[str, Any]) -> int:
    """Interactions with a post: Instagram's own total, else reactions + comments + shares
    (+ saves on Instagram)."""
    total = metrics.get("total_interactions")
    if isinstance(total, int):
        return total
    return sum(int(metrics.get(k) or 0) for k in ("likes", "comments", "shares", "saved"))


@dataclass
class InsightsSync:
    uow: Callable[[], UnitOfWork]
    meta: MetaGateway
    vault: TokenVault
    now: datetime

    async def run(self, organization_id: uuid.UUID, account: AccountRef) -> int:
        """Read the account's posts and insights from Meta; the number of posts snapshotted."""
        target = await self._target(organization_id, account)
        items = await self._recent(target)
        post_ids = await self._record_posts(organization_id, target, items)
        metrics = {
            meta_id: await self._post_metrics(target, item) for meta_id, item in items.items()
        }
        account_metrics = await self._account_metrics(target)
        async with self.uow() as uow:
            for meta_id, values in metrics.items():
                uow.session.add(
                    PostSnapshot(
                        id=uuid.uuid4(),
                        organization_id=organization_id,
                        post_id=post_ids[meta_id],
                        captured_at=self.now,
                        metrics=values,
                    )
                )
            uow.session.add(
                AccountSnapshot(
                    id=uuid.uuid4(),
                    organization_id=organization_id,
                    page_id=target.page_row if target.ig_id is None else None,
                    instagram_account_id=target.ig_row,
                    captured_at=self.now,
                    metrics=account_metrics,
                )
            )
            await uow.commit()
        return len(metrics)

    async def _target(self, organization_id: uuid.UUID, account: AccountRef) -> _Target:
        async with self.uow() as uow:
            ig = None
            if account.kind == "instagram":
                ig = await uow.session.get(InstagramAccount, account.id)
                page_row = ig.page_id if ig else None
            else:
                page_row = account.id
            page = await uow.session.get(Page, page_row) if page_row else None
            if page is None or page.organization_id != organization_id:
                raise NotFoundError("Account")
            token = unseal(self.vault, page)
            if token is None or page.status != ChannelStatus.ACTIVE.value:
                raise MetaTokenInvalid("the account is disconnected; reconnect it")
            return _Target(
                page_row=page.id,
                page_id=page.meta_page_id,
                ig_row=ig.id if ig else None,
                ig_id=ig.meta_ig_id if ig else None,
                token=token,
            )

    async def _recent(self, target: _Target) -> dict[str, MetaPost]:
        """The newest posts, newest first, keyed by Meta id."""
        found: dict[str, MetaPost] = {}
        after: str | None = None
        while len(found) < POSTS_PER_ACCOUNT:
            limit = min(50, POSTS_PER_ACCOUNT - len(found))
            if target.ig_id is not None:
                window = await self.meta.ig_media(
                    target.ig_id, target.token, limit=limit, after=after
                )
            else:
                window = await self.meta.page_posts(
                    target.page_id, target.token, limit=limit, after=after
                )
            found.update((item.meta_id, item) for item in window.items)
            if not window.after or not window.items:
                break
            after = window.after
        return found

    async def _record_posts(
        self, organization_id: uuid.UUID, target: _Target, items: dict[str, MetaPost]
    ) -> dict[str, uuid.UUID]:
        """Each Meta post's row: the one metasync published, or a new ``published`` row for a
        post made elsewhere (keyed ``meta:<id>``, so reading twice records it once)."""
        async with self.uow() as uow:
            stmt = select(Post).where(
                Post.organization_id == organization_id,
                Post.meta_post_id.in_(list(items)),
            )
            rows = {p.meta_post_id: p for p in (await uow.session.execute(stmt)).scalars()}
            claim_from = await _pending_since(uow, organization_id, target)
            for meta_id, item in items.items():
                row = rows.get(meta_id)
                if row is None and _may_be_pending(item, claim_from):
                    continue
                if row is None:
                    row = _imported(organization_id, target, item)
                    uow.session.add(row)
                    rows[meta_id] = row
                if item.permalink:
                    row.permalink = item.permalink
            await uow.commit()
            return {meta_id: row.id for meta_id, row in rows.items() if meta_id}

    async def _post_metrics(self, target: _Target, item: MetaPost) -> dict[str, Any]:
        values: dict[str, Any] = {
            "likes": item.likes,
            "comments": item.comments,
            "shares": item.shares,
        }
        recent = item.created_time is None or item.created_time >= self.now - INSIGHTS_WINDOW
        refused: list[str] = []
        if recent:
            kind: InsightsOf = "ig_media" if target.ig_id else "post"
            metrics = IG_MEDIA_METRICS if target.ig_id else FB_POST_METRICS
            try:
                read, refused = await read_metrics(
                    self.meta, kind, item.meta_id, target.token, metrics
                )
            except MetaTokenInvalid:
                raise
            except MetaError as exc:
                # One post's insights failing (a deleted post, a story gone after 24 h) leaves
                # its public counts; the others are still read.
                log.warning("post_insights_failed", post=item.meta_id, error=exc.message)
                read = {}
            values.update(_post_values(read))
        values = {k: v for k, v in values.items() if v is not None}
        values["engagement"] = engagement_of(values)
        if refused:
            values["refused"] = refused
        return values

    async def _account_metrics(self, target: _Target) -> dict[str, Any]:
        if target.ig_id is not None:
            info = await self.meta.instagram_account(target.ig_id, target.token)
            return {
                k: v
                for k, v in {
                    "followers": info.followers_count,
                    "follows": info.follows_count,
                    "media": info.media_count,
                }.items()
                if v is not None
            }
        read, refused = await read_metrics(
            self.meta, "page", target.page_id, target.token, PAGE_METRICS, period="day"
        )
        values: dict[str, Any] = {
            "followers": read.get("page_follows"),
            "post_engagements": read.get("page_post_engagements"),
            "views": read.get("page_views_total"),
        }
        values = {k: v for k, v in values.items() if v is not None}
        if refused:
            values["refused"] = refused
        return values


def _post_values(read: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in read.items() if k != "post_reactions_by_type_total"}
    reactions = read.get("post_reactions_by_type_total")
    if isinstance(reactions, dict):
        values["reactions_by_type"] = reactions
    if "post_clicks" in values:
        values["clicks"] = values.pop("post_clicks")
    return values


async def _pending_since(
    uow: UnitOfWork, organization_id: uuid.UUID, target: _Target
) -> datetime | None:
    """When the account's oldest post still awaiting Meta's confirmation was made: a Meta
    post newer than that may be it, and is left for its reconciliation to claim."""
    account = (
        Post.instagram_account_id == target.ig_row
        if target.ig_row
        else (Post.page_id == target.page_row) & Post.instagram_account_id.is_(None)
    )
    pending = [PostStatus.PROCESSING.value, PostStatus.UNCONFIRMED.value]
    stmt = select(func.min(Post.created_at)).where(
        Post.organization_id == organization_id,
        account,
        Post.status.in_(pending),
        Post.deleted_at.is_(None),
    )
    return (await uow.session.execute(stmt)).scalar_one_or_none()


def _may_be_pending(item: MetaPost, claim_from: datetime | None) -> bool:
    if claim_from is None:
        return False
    return item.created_time is None or item.created_time >= claim_from - timedelta(minutes=1)


@dataclass(frozen=True)
class _Target:
    page_row: uuid.UUID
    page_id: str
    ig_row: uuid.UUID | None
    ig_id: str | None
    token: str


_IG_TYPES = {"REELS": "reel", "STORY": "story"}


def _imported(organization_id: uuid.UUID, target: _Target, item: MetaPost) -> Post:
    if target.ig_id is not None:
        platform = "instagram"
        kind = _IG_TYPES.get(item.product_type or "", "")
        kind = kind or ("carousel" if item.type == "CAROUSEL_ALBUM" else "image")
    else:
        platform = "facebook"
        kind = (
            "photo"
            if item.type == "added_photos"
            else "video"
            if item.type == "added_video"
            else "text"
        )
    media = [{"url": item.media_url, "kind": "video" if item.type == "VIDEO" else "image"}]
    return Post(
        id=uuid.uuid4(),
        organization_id=organization_id,
        page_id=target.page_row,
        instagram_account_id=target.ig_row,
        platform=platform,
        type=kind,
        status=PostStatus.PUBLISHED.value,
        message=item.message,
        media=media if item.media_url else [],
        published_at=item.created_time,
        meta_post_id=item.meta_id,
        permalink=item.permalink,
        idempotency_key=f"meta:{item.meta_id}",
    )


async def accounts_to_sync(uow: UnitOfWork) -> list[tuple[uuid.UUID, AccountRef]]:
    """Every active Page and Instagram account (the daily job enqueues one job each)."""
    async with uow:
        pages = await uow.session.execute(
            select(Page.organization_id, Page.id).where(
                Page.deleted_at.is_(None), Page.status == ChannelStatus.ACTIVE.value
            )
        )
        found = [(org, AccountRef("facebook", pid)) for org, pid in pages]
        igs = await uow.session.execute(
            select(InstagramAccount.organization_id, InstagramAccount.id).where(
                InstagramAccount.deleted_at.is_(None),
                InstagramAccount.status == ChannelStatus.ACTIVE.value,
            )
        )
        found += [(org, AccountRef("instagram", iid)) for org, iid in igs]
    return found
