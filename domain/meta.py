"""What the domain needs from Meta (a port), in the domain's own terms.

The adapter (tasks/meta_gateway.py) implements ``MetaGateway`` on the Graph client and
translates Graph errors into the ``MetaError`` family below, so services never see httpx or
graph_client types.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from domain.errors import DomainError, ErrorCode


def token_fingerprint(token: str) -> str:
    """A stable, non-reversible name for a token (the same one the Graph client reports when
    Meta rejects a token), so a rejection can be traced to its row without the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class MetaError(DomainError):
    """Meta refused or failed a call; carries Meta's code for the caller to show."""

    code = ErrorCode.META_API

    def __init__(
        self,
        message: str,
        *,
        meta_code: int | None = None,
        meta_subcode: int | None = None,
        fbtrace_id: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.meta_code = meta_code
        self.meta_subcode = meta_subcode
        self.fbtrace_id = fbtrace_id
        self.transient = transient
        self.retry_after = retry_after


class MetaTokenInvalid(MetaError):
    """The token is expired, revoked or lacks a session: reauthorize, never retry."""

    code = ErrorCode.REAUTHORIZATION_REQUIRED


class MetaRateLimited(MetaError):
    code = ErrorCode.RATE_LIMITED


class MetaPermissionDenied(MetaError):
    pass


class MetaUnavailable(MetaError):
    """Nothing was sent: Meta has been failing and the client holds calls back for
    ``retry_after`` seconds (its circuit breaker). Nothing happened on Meta."""


class MetaOutcomeUnknown(MetaError):
    """A creating call may have reached Meta and been applied, but no answer came back (a
    read timeout, a bare 5xx). Never repeat it: read Meta to learn what happened."""


# What an insights call reads: a Page, a Page post, or an Instagram media item.
InsightsOf = Literal["page", "post", "ig_media"]


@dataclass(frozen=True)
class MetaPost:
    """A Page post or an Instagram media item, with its public counts."""

    meta_id: str
    message: str | None = None
    created_time: datetime | None = None
    type: str | None = None  # Facebook status_type, or Instagram media_type
    product_type: str | None = None  # Instagram FEED | REELS | STORY
    permalink: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    # Instagram: the IG account that owns the media (Meta names it only to its owner's tokens).
    owner_id: str | None = None


@dataclass(frozen=True)
class MetaPostWindow:
    """One page of a cursor-paged listing."""

    items: list[MetaPost]
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class ContainerState:
    status_code: str  # IN_PROGRESS | FINISHED | ERROR | EXPIRED | PUBLISHED
    status: str | None = None


@dataclass(frozen=True)
class PublishingQuota:
    usage: int
    total: int | None


@dataclass(frozen=True)
class TokenInfo:
    is_valid: bool
    meta_user_id: str | None
    token_type: str | None
    scopes: list[str]
    # scope -> the asset ids it covers (None: every asset)
    granular_scopes: dict[str, list[str] | None]
    expires_at: datetime | None  # None: never expires
    data_access_expires_at: datetime | None
    error: str | None = None

    def targets(self, *scopes: str) -> set[str]:
        """Asset ids named by any of ``scopes`` (business-owned assets show up only here)."""
        found: set[str] = set()
        for scope in scopes:
            found.update(self.granular_scopes.get(scope) or [])
        return found


@dataclass(frozen=True)
class MetaPageInfo:
    meta_page_id: str
    name: str
    access_token: str | None = field(repr=False, default=None)
    category: str | None = None
    picture_url: str | None = None
    instagram_id: str | None = None
    fan_count: int | None = None
    followers_count: int | None = None
    about: str | None = None
    phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class InstagramInfo:
    meta_ig_id: str
    username: str | None = None
    name: str | None = None
    profile_picture_url: str | None = None
    biography: str | None = None
    website: str | None = None
    followers_count: int | None = None
    follows_count: int | None = None
    media_count: int | None = None


@dataclass(frozen=True)
class WhatsAppInfo:
    waba_id: str
    name: str | None = None
    phone_numbers: list[dict[str, Any]] = field(default_factory=list)
    business_profile: dict[str, Any] = field(default_factory=dict)

    @property
    def quality_rating(self) -> str | None:
        ratings = [p.get("quality_rating") for p in self.phone_numbers if p.get("quality_rating")]
        # The account is as healthy as its worst number.
        for level in ("RED", "YELLOW", "GREEN"):
            if level in ratings:
                return level
        return ratings[0] if ratings else None


@dataclass(frozen=True)
class MetaTemplate:
    """A message template as Meta reports it (upper-case status and category)."""

    meta_template_id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]] = field(default_factory=list)
    rejected_reason: str | None = None
    quality_score: str | None = None


@dataclass(frozen=True)
class TemplateSubmitted:
    """Meta's answer to a new template: its id, and a status that may already be final."""

    meta_template_id: str
    status: str
    category: str


@dataclass(frozen=True)
class MessageDataPoint:
    """One bucket of WhatsApp message analytics (Unix seconds; Meta omits zero counts)."""

    start: int
    end: int
    sent: int = 0
    delivered: int = 0


@dataclass(frozen=True)
class MetaMessage:
    meta_message_id: str
    created_time: datetime
    # Meta shows details only for a conversation's 20 most recent messages; older ones are
    # known by id and time only (detailed False), never invented.
    detailed: bool
    text: str | None = None
    sender_id: str | None = None
    recipient_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to: str | None = None


@dataclass(frozen=True)
class MetaParticipant:
    user_id: str
    name: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class MetaConversation:
    meta_conversation_id: str
    platform: str
    updated_time: datetime
    unread_count: int = 0
    message_count: int | None = None
    snippet: str | None = None
    folder: str | None = None
    participants: list[MetaParticipant] = field(default_factory=list)
    messages: list[MetaMessage] = field(default_factory=list)  # newest first
    messages_complete: bool = False  # every message id was read


# MetaConversation's status fields, each read only when asked for (selective sync).
CONVERSATION_STATUS_FIELDS = ("updated_time", "unread_count", "message_count", "snippet", "folder")


@dataclass(frozen=True)
class ConversationRead:
    """What to read of each conversation; by default everything metasync stores. Ids and the
    participants' ids are always read: they are how conversations and contacts are matched."""

    fields: frozenset[str] = frozenset(CONVERSATION_STATUS_FIELDS)
    participant_names: bool = True
    messages: bool = True


@dataclass(frozen=True)
class MetaProfile:
    name: str | None
    picture_url: str | None


class CallCounter(Protocol):
    calls: int


class MetaGateway(Protocol):
    async def exchange_code(self, code: str, redirect_uri: str) -> str: ...

    async def long_lived(self, token: str) -> tuple[str, datetime | None]: ...

    async def inspect(self, token: str) -> TokenInfo: ...

    async def me(self, token: str) -> tuple[str, str | None]: ...

    async def pages(self, user_token: str, extra_page_ids: set[str]) -> list[MetaPageInfo]: ...

    async def instagram_account(self, ig_id: str, page_token: str) -> InstagramInfo: ...

    async def whatsapp_account(self, waba_id: str, token: str) -> WhatsAppInfo: ...

    async def whatsapp_templates(self, waba_id: str, token: str) -> list[MetaTemplate]:
        """Every template of the WABA (all pages of Meta's listing)."""
        ...

    async def create_whatsapp_template(
        self,
        waba_id: str,
        token: str,
        *,
        name: str,
        language: str,
        category: str,
        components: Sequence[dict[str, Any]],
        parameter_format: str | None = None,
    ) -> TemplateSubmitted: ...

    async def edit_whatsapp_template(
        self,
        template_id: str,
        token: str,
        *,
        components: Sequence[dict[str, Any]] | None = None,
        category: str | None = None,
    ) -> None: ...

    async def delete_whatsapp_template(
        self, waba_id: str, token: str, name: str, hsm_id: str | None = None
    ) -> None: ...

    async def whatsapp_message_analytics(
        self, waba_id: str, token: str, start: int, end: int, granularity: str
    ) -> list[MessageDataPoint]:
        """Message analytics (``granularity``: HALF_HOUR, DAY or MONTH)."""
        ...

    async def subscribe_page(
        self, page_id: str, page_token: str, fields: Sequence[str] | None = None
    ) -> None:
        """Subscribe the app to the Page's webhooks (``fields``: all metasync uses)."""
        ...

    async def subscribe_whatsapp(self, waba_id: str, token: str) -> None:
        """Subscribe the app to the WhatsApp Business Account's webhooks."""
        ...

    async def page_subscribed_fields(self, page_id: str, page_token: str) -> list[str] | None:
        """The fields this app is subscribed to on the Page; None when not subscribed."""
        ...

    async def unsubscribe_page(self, page_id: str, page_token: str) -> None: ...

    async def page(
        self, page_id: str, page_token: str, fields: Collection[str] | None = None
    ) -> MetaPageInfo:
        """The Page's details; ``fields`` (MetaPageInfo attribute names) limits what is read
        (the rest come back None)."""
        ...

    async def update_page(self, page_id: str, page_token: str, fields: dict[str, str]) -> None: ...

    def conversations(
        self,
        page_id: str,
        page_token: str,
        *,
        platform: str,
        updated_since: datetime | None = None,
        read: ConversationRead = ConversationRead(),
        limit: int | None = None,
    ) -> AsyncIterator[MetaConversation]:
        """Newest first, every folder; stops at the first conversation not updated after
        ``updated_since`` (its ``updated_time`` is then read whatever ``read`` says), and
        after ``limit`` conversations."""
        ...

    async def conversation(
        self,
        conversation_id: str,
        page_id: str,
        page_token: str,
        *,
        platform: str,
        read: ConversationRead = ConversationRead(),
    ) -> MetaConversation: ...

    async def user_profile(
        self,
        user_id: str,
        page_token: str,
        *,
        platform: str,
        fields: Collection[str] = ("name", "picture_url"),
    ) -> MetaProfile:
        """A person's name and picture (``fields``: either or both)."""
        ...

    async def mark_seen(self, page_id: str, page_token: str, recipient_id: str) -> None: ...

    # --- publishing (creating calls raise MetaOutcomeUnknown when the outcome is unknown) --

    async def create_feed_post(
        self,
        page_id: str,
        page_token: str,
        *,
        message: str | None = None,
        link: str | None = None,
        attached_photo_ids: Sequence[str] = (),
        published: bool = True,
        scheduled_at: datetime | None = None,
    ) -> str: ...

    async def create_photo(
        self, page_id: str, page_token: str, *, url: str, caption: str | None, published: bool
    ) -> tuple[str, str | None]:
        """The photo's id and, when published, its post's id."""
        ...

    async def create_video(
        self, page_id: str, page_token: str, *, url: str, description: str | None
    ) -> str: ...

    async def page_posts(
        self,
        page_id: str,
        page_token: str,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
    ) -> MetaPostWindow:
        """The Page's own published posts, newest first."""
        ...

    async def page_post(self, post_id: str, page_token: str) -> MetaPost: ...

    async def page_video(self, video_id: str, page_token: str) -> MetaPost:
        """A Page video (what ``create_video`` answers is the video's id, not a post's)."""
        ...

    async def delete_object(self, object_id: str, page_token: str) -> None: ...

    async def ig_create_container(self, ig_id: str, page_token: str, **params: Any) -> str: ...

    async def ig_container_state(self, container_id: str, page_token: str) -> ContainerState: ...

    async def ig_publish(self, ig_id: str, page_token: str, container_id: str) -> str: ...

    async def ig_quota(self, ig_id: str, page_token: str) -> PublishingQuota: ...

    async def ig_media(
        self,
        ig_id: str,
        page_token: str,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
    ) -> MetaPostWindow: ...

    async def ig_media_item(self, media_id: str, page_token: str) -> MetaPost:
        """One media item, with its ``owner_id`` when Meta names it."""
        ...

    # --- insights ----------------------------------------------------------------------------

    async def insights(
        self,
        kind: InsightsOf,
        object_id: str,
        page_token: str,
        metrics: Sequence[str],
        *,
        period: str | None = None,
    ) -> dict[str, Any]:
        """Each metric's latest value (a Page's daily metrics: the last day Meta closed).
        One refused metric fails the call with Meta's #100: the caller decides what to drop."""
        ...

    def count_calls(self) -> AbstractContextManager[CallCounter]:
        """Counts the Graph calls made inside the block (by this task and its children)."""
        ...


class StateStore(Protocol):
    """Short-lived single-use values (OAuth state): Redis GETDEL, or in-process."""

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: int) -> None: ...

    async def take(self, key: str) -> dict[str, Any] | None: ...
