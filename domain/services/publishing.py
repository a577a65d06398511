"""Publishing posts to Pages and Instagram accounts through the post queue.

A post is created (validated, keyed for idempotency) and answered at once; the queue actor
publishes it, at most one post every 2 s per account, retrying transient failures with
backoff up to 3 attempts. A creating call whose outcome Meta never confirmed leaves the post
``unconfirmed``: the next run reads Meta to find it and never publishes blindly again."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select

from domain.errors import InvalidInputError, NotFoundError
from domain.meta import MetaError, MetaGateway, MetaOutcomeUnknown, MetaPost, MetaUnavailable
from domain.models import InstagramAccount, Page, Post, PostStatus
from domain.ports import Clock, RateGate
from domain.repositories.channels import InstagramAccountRepository, PageRepository
from domain.services.publish_errors import PublishFailure, explain
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

PUBLISH_ACTOR = "publish_post"
SWEEP_ACTOR = "sweep_posts"
MAX_ATTEMPTS = 3
# The spec's queue: one post every 2 s per account, shared by every worker.
SPACING_SECONDS = 2.0
# Meta's scheduling window for Page posts (facts §5), applied to every platform alike.
SCHEDULE_MIN = timedelta(minutes=10)
SCHEDULE_MAX = timedelta(days=30)
# Containers are polled with growing waits for at most 5 minutes (facts §8).
POLL_LIMIT_SECONDS = 300.0
NOT_READY = (9007, 2207027)
_SUBCODE_IN_STATUS = re.compile(r"\b2207\d{3}\b")
IMAGE_EXTENSIONS = {"jpg", "jpeg"}
VIDEO_EXTENSIONS = {"mp4", "mov"}
# A post still ``processing`` this long after its last change lost its worker mid-publish.
STALE_PROCESSING = timedelta(minutes=10)
UNAVAILABLE = "Meta is unavailable right now; the post was not published. Trying again."


def status_channel(post_id: uuid.UUID) -> str:
    return f"post:{post_id}"


@dataclass(frozen=True)
class MediaItem:
    url: str
    kind: str  # image | video
    thumbnail_url: str | None = None
    # The request field the URL came from, so a refusal names it (contentUrl, mediaUrls[1]).
    field: str = "contentUrl"


@dataclass(frozen=True)
class PostRequest:
    account_id: uuid.UUID
    platform: str  # facebook | instagram
    kind: str  # feed | reel | story
    message: str | None = None
    link: str | None = None
    media: Sequence[MediaItem] = ()
    scheduled_at: datetime | None = None
    idempotency_key: str | None = None


def _post_type(req: PostRequest) -> str:
    images = [m for m in req.media if m.kind == "image"]
    videos = [m for m in req.media if m.kind == "video"]
    if videos and (images or len(videos) > 1):
        raise InvalidInputError("contentUrl", "a post takes one video, or images only")
    if req.platform == "facebook":
        if req.kind != "feed":
            raise InvalidInputError("postType", "Facebook posts are feed posts")
        if videos:
            return "video"
        if images:
            return "photo" if len(images) == 1 else "multi_photo"
        if not (req.message or req.link):
            raise InvalidInputError("caption", "a text post needs a caption or a link")
        return "link" if req.link else "text"
    if not req.media:
        raise InvalidInputError("contentUrl", "Instagram posts need an image or a video")
    if req.kind == "story":
        if len(req.media) > 1:
            raise InvalidInputError("contentUrl", "a story takes one image or video")
        return "story"
    if req.kind == "reel" or videos:
        if not videos:
            raise InvalidInputError("contentType", "a reel is a video")
        return "reel"
    if len(images) > 10:
        raise InvalidInputError("mediaUrls", "a carousel takes at most 10 items")
    return "carousel" if len(images) > 1 else "image"


def _public_url(url: str, field: str) -> str:
    """The URL's path, once it is one Meta can fetch (Meta downloads media over http(s))."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInputError(field, "must be a public http(s) URL")
    return parsed.path


def _check_media(req: PostRequest) -> None:
    for item in req.media:
        path = _public_url(item.url, item.field)
        if item.thumbnail_url:
            _public_url(item.thumbnail_url, "thumbnailUrl")
        ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        allowed = IMAGE_EXTENSIONS if item.kind == "image" else VIDEO_EXTENSIONS
        # Instagram takes JPEG images only (facts §8); an URL without extension is left to
        # Meta, whose refusal comes back through the error catalogue.
        if req.platform == "instagram" and ext and ext not in allowed:
            names = " or ".join(sorted(allowed))
            raise InvalidInputError(item.field, f"Instagram {item.kind}s must be {names}")


def check_schedule(scheduled_at: datetime | None, now: datetime, field: str) -> None:
    if scheduled_at is None:
        return
    if not now + SCHEDULE_MIN <= scheduled_at <= now + SCHEDULE_MAX:
        raise InvalidInputError(field, "must be between 10 minutes and 30 days from now")


async def create_post(
    uow: UnitOfWork, organization_id: uuid.UUID, req: PostRequest, now: datetime
) -> tuple[Post, bool]:
    """The new post (queued, or scheduled) and True; or the post already made with this
    idempotency key and False. The caller commits; the publish job goes after the commit."""
    if req.platform not in ("facebook", "instagram"):
        raise InvalidInputError("platform", "must be facebook or instagram")
    post_type = _post_type(req)
    _check_media(req)
    check_schedule(req.scheduled_at, now, "scheduledFor")
    if req.idempotency_key:
        existing = await _by_key(uow, organization_id, req.idempotency_key)
        if existing is not None:
            return existing, False
    page_id, ig_id = await _account(uow, organization_id, req)
    post = Post(
        id=uuid.uuid4(),
        organization_id=organization_id,
        page_id=page_id,
        instagram_account_id=ig_id,
        platform=req.platform,
        type=post_type,
        status=(PostStatus.SCHEDULED if req.scheduled_at else PostStatus.QUEUED).value,
        message=req.message,
        link=req.link,
        media=[{"url": m.url, "kind": m.kind, "thumbnail_url": m.thumbnail_url} for m in req.media],
        scheduled_at=req.scheduled_at,
        idempotency_key=req.idempotency_key or str(uuid.uuid4()),
    )
    uow.session.add(post)
    await uow.session.flush()
    if post.status == PostStatus.QUEUED.value:
        uow.enqueue(PUBLISH_ACTOR, post_id=str(post.id))
    return post, True


async def _by_key(uow: UnitOfWork, organization_id: uuid.UUID, key: str) -> Post | None:
    stmt = select(Post).where(Post.organization_id == organization_id, Post.idempotency_key == key)
    return (await uow.session.execute(stmt)).scalar_one_or_none()


async def _account(
    uow: UnitOfWork, organization_id: uuid.UUID, req: PostRequest
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    if req.platform == "facebook":
        page = await PageRepository(uow.session, organization_id).get(req.account_id)
        if page is None:
            raise NotFoundError("Account")
        return page.id, None
    ig = await InstagramAccountRepository(uow.session, organization_id).get(req.account_id)
    if ig is None or ig.page_id is None:
        raise NotFoundError("Account")
    return ig.page_id, ig.id


async def get_post(uow: UnitOfWork, organization_id: uuid.UUID, post_id: uuid.UUID) -> Post:
    post = await uow.session.get(Post, post_id)
    if post is None or post.organization_id != organization_id or post.deleted_at is not None:
        raise NotFoundError("Post")
    return post


# Meta's Instagram API has no way to delete published media (facts §8 lists none).
INSTAGRAM_KEEPS_MEDIA = (
    "Instagram does not let apps delete published posts; delete it in the Instagram app."
)


async def delete_post(
    uow: UnitOfWork, meta: MetaGateway, vault: TokenVault, post: Post, now: datetime
) -> bool:
    """Soft-delete the post; a published Facebook one is deleted on Meta first (True when it
    was). A published Instagram post stays on Instagram (see INSTAGRAM_KEEPS_MEDIA)."""
    deleted_on_meta = False
    published = post.status == PostStatus.PUBLISHED.value
    if published and post.meta_post_id and post.platform == "facebook":
        page = await uow.session.get(Page, post.page_id)
        token = unseal(vault, page) if page else None
        if token is None:
            raise InvalidInputError("postId", "the account is disconnected; delete it on Meta")
        await meta.delete_object(post.meta_post_id, token)
        deleted_on_meta = True
    post.deleted_at = now
    return deleted_on_meta


# --- the queue --------------------------------------------------------------------------


@dataclass
class Publisher:
    uow: Callable[[], UnitOfWork]
    meta: MetaGateway
    vault: TokenVault
    clock: Clock
    gate: RateGate
    sleep: Callable[[float], Any] = field(default=asyncio.sleep)

    async def run(self, post_id: uuid.UUID) -> bool:
        """One attempt at publishing; True when the job should run again later."""
        async with self.uow() as uow:
            post = await uow.session.get(Post, post_id)
            if post is None or post.deleted_at is not None:
                return False
            if post.status == PostStatus.PROCESSING.value:
                # A previous run died between Meta's answer and ours: read Meta first.
                post.status = PostStatus.UNCONFIRMED.value
            if post.status not in (PostStatus.QUEUED.value, PostStatus.UNCONFIRMED.value):
                return False
            target = await self._target(uow, post)
            unconfirmed = post.status == PostStatus.UNCONFIRMED.value
            snapshot = _Snapshot.of(post)
            await self._save(uow, post)
        if target is None:
            return await self._finish(post_id, failure=_DISCONNECTED)
        if unconfirmed:
            try:
                found = await self._reconcile(snapshot, target)
            except MetaError as exc:
                return await self._failed(post_id, exc)
            if found is not None:
                return await self._finish(post_id, published=found)
            if snapshot.attempts >= MAX_ATTEMPTS:
                return await self._finish(post_id, failure=_GAVE_UP)
        async with self.uow() as uow:
            post = await uow.session.get(Post, post_id)
            assert post is not None
            post.status = PostStatus.PROCESSING.value
            post.attempts += 1
            await self._save(uow, post)
        try:
            published = await self._publish(snapshot, target)
        except MetaOutcomeUnknown:
            async with self.uow() as uow:
                post = await uow.session.get(Post, post_id)
                assert post is not None
                post.status = PostStatus.UNCONFIRMED.value
                post.last_error = "Meta did not confirm the post; checking Meta before retrying."
                await self._save(uow, post)
            return True
        except MetaUnavailable:
            return await self._not_sent(post_id)
        except MetaError as exc:
            return await self._failed(post_id, exc)
        return await self._finish(post_id, published=published)

    async def _not_sent(self, post_id: uuid.UUID) -> bool:
        """The client held the call back (Meta has been failing, its breaker is open), so
        nothing was published: the attempt does not count, and the job runs again later."""
        async with self.uow() as uow:
            post = await uow.session.get(Post, post_id)
            assert post is not None
            post.attempts = max(0, post.attempts - 1)
            post.status = PostStatus.QUEUED.value
            post.last_error = UNAVAILABLE
            await self._save(uow, post)
        return True

    async def _failed(self, post_id: uuid.UUID, exc: MetaError) -> bool:
        return await self._finish(post_id, failure=explain(exc))

    async def _finish(
        self,
        post_id: uuid.UUID,
        *,
        published: MetaPost | None = None,
        failure: PublishFailure | None = None,
    ) -> bool:
        async with self.uow() as uow:
            post = await uow.session.get(Post, post_id)
            assert post is not None
            again = False
            if published is not None:
                post.status = PostStatus.PUBLISHED.value
                post.meta_post_id = published.meta_id
                post.permalink = published.permalink
                post.published_at = published.created_time or self.clock.now()
                post.last_error = post.last_error_code = None
            elif failure is not None:
                post.last_error, post.last_error_code = failure.message, failure.code
                again = failure.retryable and post.attempts < MAX_ATTEMPTS
                # An unconfirmed post whose check of Meta failed is checked again, never
                # queued for a blind publish.
                waiting = (
                    PostStatus.UNCONFIRMED
                    if post.status == PostStatus.UNCONFIRMED.value
                    else PostStatus.QUEUED
                )
                post.status = (waiting if again else PostStatus.FAILED).value
            await self._save(uow, post)
        return again

    async def _save(self, uow: UnitOfWork, post: Post) -> None:
        uow.publish(status_channel(post.id), post_event(post))
        await uow.commit()

    async def _wait_turn(self, target: _Target) -> None:
        """Held until this account's last post is 2 s old. Taken right before the call that
        makes the post public (not at the job's start), so what the account's audience sees
        is paced even when Instagram spends minutes preparing a container."""
        key = f"publish:{target.account_key}"
        while (wait := await self.gate.hit(key, 1, SPACING_SECONDS)) is not None:
            await self.sleep(wait)

    async def _target(self, uow: UnitOfWork, post: Post) -> _Target | None:
        page = await uow.session.get(Page, post.page_id) if post.page_id else None
        token = unseal(self.vault, page) if page else None
        if page is None or token is None:
            return None
        ig = None
        if post.instagram_account_id:
            ig = await uow.session.get(InstagramAccount, post.instagram_account_id)
            if ig is None:
                return None
        return _Target(page.meta_page_id, ig.meta_ig_id if ig else None, token)

    # --- Meta ---------------------------------------------------------------------------

    async def _publish(self, post: _Snapshot, target: _Target) -> MetaPost:
        if target.ig_id is None:
            return await self._publish_facebook(post, target)
        return await self._publish_instagram(post, target, target.ig_id)

    async def _publish_facebook(self, post: _Snapshot, target: _Target) -> MetaPost:
        meta, page_id, token = self.meta, target.page_id, target.token
        urls = [m["url"] for m in post.media]
        if post.type == "photo":
            await self._wait_turn(target)
            photo_id, post_id = await meta.create_photo(
                page_id, token, url=urls[0], caption=post.message, published=True
            )
            meta_id = post_id or photo_id
        elif post.type == "video":
            await self._wait_turn(target)
            video_id = await meta.create_video(
                page_id, token, url=urls[0], description=post.message
            )
            return await self._read_back(video_id, token, kind="video")
        else:
            # Several photos: each uploaded unpublished, then one post attaching them all.
            photo_ids = [
                (await meta.create_photo(page_id, token, url=u, caption=None, published=False))[0]
                for u in urls
            ]
            await self._wait_turn(target)
            meta_id = await meta.create_feed_post(
                page_id, token, message=post.message, link=post.link, attached_photo_ids=photo_ids
            )
        return await self._read_back(meta_id, token, kind="post")

    async def _publish_instagram(self, post: _Snapshot, target: _Target, ig_id: str) -> MetaPost:
        meta, token = self.meta, target.token
        quota = await meta.ig_quota(ig_id, token)
        if quota.total is not None and quota.usage >= quota.total:
            raise MetaError("publishing limit reached", meta_code=9, meta_subcode=2207042)
        container = await self._container(post, ig_id, token)
        await self._until_finished(container, token)
        await self._wait_turn(target)
        for attempt in range(4):
            try:
                media_id = await meta.ig_publish(ig_id, token, container)
                break
            except MetaError as exc:
                # Meta says "not ready" even right after FINISHED: wait a little and retry.
                if (exc.meta_code, exc.meta_subcode) != NOT_READY or attempt == 3:
                    raise
                await self.sleep(2.0 * (attempt + 1))
        return await self._read_back(media_id, token, kind="ig")

    async def _container(self, post: _Snapshot, ig_id: str, token: str) -> str:
        meta = self.meta
        caption = post.message
        params: dict[str, Any]
        if post.type == "carousel":
            children = [
                await meta.ig_create_container(
                    ig_id, token, image_url=m["url"], is_carousel_item=True
                )
                for m in post.media
            ]
            params = {"media_type": "CAROUSEL", "children": ",".join(children)}
        else:
            item = post.media[0]
            url_key = "video_url" if item["kind"] == "video" else "image_url"
            params = {url_key: item["url"]}
            if post.type == "reel":
                params["media_type"] = "REELS"
                if item.get("thumbnail_url"):
                    params["cover_url"] = item["thumbnail_url"]
            elif post.type == "story":
                params["media_type"] = "STORIES"
        if caption and post.type != "story":
            params["caption"] = caption
        container = await meta.ig_create_container(ig_id, token, **params)
        # Remembered at once: reconciliation asks this container whether it was published.
        async with self.uow() as uow:
            row = await uow.session.get(Post, post.id)
            assert row is not None
            row.meta_container_ids = [container]
            await uow.commit()
        return container

    async def _until_finished(self, container: str, token: str) -> None:
        waited, delay = 0.0, 1.0
        while True:
            state = await self.meta.ig_container_state(container, token)
            if state.status_code == "FINISHED":
                return
            if state.status_code == "ERROR":
                # Meta puts the error's subcode in the status text ("... error code 2207026"),
                # which the catalogue turns into a reason (format, download timeout...).
                text = state.status or "Instagram could not process the media."
                found = _SUBCODE_IN_STATUS.search(text)
                raise MetaError(text, meta_subcode=int(found.group()) if found else None)
            if state.status_code == "EXPIRED":
                raise MetaError("container expired", meta_code=24, meta_subcode=2207008)
            if waited >= POLL_LIMIT_SECONDS:
                raise MetaError("Instagram is still processing the media", transient=True)
            await self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)

    async def _read_back(self, meta_id: str, token: str, *, kind: str) -> MetaPost:
        try:
            if kind == "ig":
                return await self.meta.ig_media_item(meta_id, token)
            if kind == "video":
                return await self.meta.page_video(meta_id, token)
            return await self.meta.page_post(meta_id, token)
        except MetaError:
            # Published either way: the permalink is a nicety, not worth a failed post.
            return MetaPost(meta_id=meta_id)

    async def _reconcile(self, post: _Snapshot, target: _Target) -> MetaPost | None:
        """The post on Meta if an earlier, unconfirmed attempt did publish it."""
        meta, token = self.meta, target.token
        if target.ig_id is not None:
            if not post.container_ids:
                return None
            state = await meta.ig_container_state(post.container_ids[-1], token)
            if state.status_code != "PUBLISHED":
                return None  # the same container can be published now, never twice
            window = await meta.ig_media(target.ig_id, token, limit=25)
        else:
            window = await meta.page_posts(target.page_id, token, limit=25)
        since = post.created_at - timedelta(minutes=1)
        for item in window.items:
            if item.created_time is not None and item.created_time < since:
                continue
            if (item.message or None) == (post.message or None):
                return item
        return None


@dataclass(frozen=True)
class _Target:
    page_id: str
    ig_id: str | None
    token: str

    @property
    def account_key(self) -> str:
        return self.ig_id or self.page_id


@dataclass(frozen=True)
class _Snapshot:
    """What publishing reads of a post, detached from its session."""

    id: uuid.UUID
    type: str
    message: str | None
    link: str | None
    media: list[dict[str, Any]]
    container_ids: list[str]
    created_at: datetime
    attempts: int

    @classmethod
    def of(cls, post: Post) -> _Snapshot:
        return cls(
            post.id,
            post.type,
            post.message,
            post.link,
            list(post.media),
            list(post.meta_container_ids),
            post.created_at,
            post.attempts,
        )


_DISCONNECTED = PublishFailure("disconnected", "The account is disconnected; reconnect it.", False)
_GAVE_UP = PublishFailure("unconfirmed", "Meta never confirmed the post after 3 attempts.", False)


def post_event(post: Post) -> dict[str, Any]:
    return {
        "postId": str(post.id),
        "status": post.status,
        "attempts": post.attempts,
        "metaPostId": post.meta_post_id,
        "permalink": post.permalink,
        "error": post.last_error,
    }


async def due_posts(uow: UnitOfWork, now: datetime) -> list[uuid.UUID]:
    """Scheduled posts whose time came, queued ones whose job was lost, and ones left
    processing by a dead worker: all moved to ``queued``/kept and returned for enqueueing."""
    stale = now - STALE_PROCESSING
    stmt = select(Post).where(
        Post.deleted_at.is_(None),
        (
            (Post.status == PostStatus.SCHEDULED.value) & (Post.scheduled_at <= now)
            | (Post.status.in_([PostStatus.QUEUED.value, PostStatus.UNCONFIRMED.value]))
            & (Post.updated_at <= stale)
            | (Post.status == PostStatus.PROCESSING.value) & (Post.updated_at <= stale)
        ),
    )
    posts = list((await uow.session.execute(stmt)).scalars())
    for post in posts:
        if post.status == PostStatus.SCHEDULED.value:
            post.status = PostStatus.QUEUED.value
        uow.enqueue(PUBLISH_ACTOR, post_id=str(post.id))
    return [p.id for p in posts]


async def retry_post(uow: UnitOfWork, organization_id: uuid.UUID, post_id: uuid.UUID) -> Post:
    """A failed post queued again with fresh attempts. One that ever reached Meta's publish
    call is queued ``unconfirmed``, so Meta is read before anything is sent again."""
    post = await get_post(uow, organization_id, post_id)
    if post.status != PostStatus.FAILED.value:
        raise InvalidInputError(
            "id", f"only a failed post can be retried (this one is {post.status})"
        )
    reached_meta = post.attempts > 0 or bool(post.meta_container_ids)
    post.status = (PostStatus.UNCONFIRMED if reached_meta else PostStatus.QUEUED).value
    post.attempts = 0
    post.last_error = post.last_error_code = None
    uow.publish(status_channel(post.id), post_event(post))
    uow.enqueue(PUBLISH_ACTOR, post_id=str(post.id))
    return post
