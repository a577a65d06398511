"""The sandbox's in-memory objects, one dataclass per Meta node.

Times are Unix seconds (floats); rendering turns them into ``+0000`` strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_TASKS = ["MANAGE", "CREATE_CONTENT", "MODERATE", "MESSAGING", "ADVERTISE", "ANALYZE"]


@dataclass(slots=True, eq=False)
class App:
    id: str
    name: str
    # object ("page" | "instagram" | "whatsapp_business_account") -> subscription
    subscriptions: dict[str, AppSubscription] = field(default_factory=dict)


@dataclass(slots=True)
class AppSubscription:
    object: str
    callback_url: str
    verify_token: str
    fields: list[str]


@dataclass(slots=True, eq=False)
class User:
    id: str
    name: str
    first_name: str
    last_name: str
    email: str | None
    page_tasks: dict[str, list[str]] = field(default_factory=dict)
    business_ids: list[str] = field(default_factory=list)
    waba_ids: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Page:
    id: str
    name: str
    category: str
    category_id: str
    created_time: float
    about: str | None = None
    description: str | None = None
    phone: str | None = None
    website: str | None = None
    emails: list[str] = field(default_factory=list)
    username: str | None = None
    # Other updatable profile fields (bio, mission, hours, location, ...), as last written.
    extra: dict[str, Any] = field(default_factory=dict)
    fan_count: int = 0
    followers_count: int = 0
    # Pages owned by a business portfolio are left out of /me/accounts (facts §0.3).
    business_id: str | None = None
    ig_user_id: str | None = None
    # app id -> subscribed webhook fields (POST /{page-id}/subscribed_apps)
    subscribed_apps: dict[str, list[str]] = field(default_factory=dict)
    conversations: list[Conversation] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Person:
    """Someone who messaged a Page: a Messenger PSID or an Instagram IGSID."""

    id: str
    platform: str  # "messenger" | "instagram"
    page_id: str
    name: str
    first_name: str
    last_name: str
    username: str | None = None
    profile_pic: str | None = None
    follower_count: int | None = None
    is_user_follow_business: bool | None = None
    is_business_follow_user: bool | None = None


@dataclass(slots=True, eq=False)
class Message:
    id: str
    conversation_id: str
    seq: int
    created_time: float
    from_page: bool
    text: str | None = None
    attachments: list[dict[str, Any]] | None = None
    sticker: str | None = None
    reply_to: str | None = None
    # The app that sent it (echoes carry it); None for the person's messages.
    app_id: str | None = None
    metadata: str | None = None
    reactions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Conversation:
    id: str
    page_id: str
    platform: str  # "messenger" | "instagram"
    person_id: str
    folder: str
    updated_time: float
    unread_count: int = 0
    # Seeded messages are generated on first access (cheap big datasets).
    seeded_count: int = 0
    seed_index: int = 0
    messages: list[Message] | None = None


@dataclass(slots=True, eq=False)
class Comment:
    id: str
    post_id: str
    message: str
    from_id: str
    from_name: str
    created_time: float
    parent_id: str | None = None
    like_count: int = 0
    is_hidden: bool = False
    can_hide: bool = True
    replies: list[Comment] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Post:
    id: str  # "{page-id}_{post-id}"
    page_id: str
    created_time: float
    message: str | None = None
    updated_time: float | None = None
    is_published: bool = True
    scheduled_publish_time: float | None = None
    status_type: str = "mobile_status_update"
    full_picture: str | None = None
    link: str | None = None
    photo_ids: list[str] = field(default_factory=list)
    shares: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    created_by_app: bool = False


@dataclass(slots=True, eq=False)
class Photo:
    id: str
    page_id: str
    url: str
    created_time: float
    caption: str | None = None
    published: bool = True
    post_id: str | None = None


@dataclass(slots=True, eq=False)
class Video:
    id: str
    page_id: str
    file_url: str
    created_time: float
    title: str | None = None
    description: str | None = None
    published: bool = True
    post_id: str | None = None


@dataclass(slots=True, eq=False)
class IGUser:
    id: str
    ig_id: int
    page_id: str
    username: str
    name: str
    biography: str | None = None
    website: str | None = None
    followers_count: int = 0
    follows_count: int = 0
    profile_picture_url: str | None = None
    media: list[IGMedia] = field(default_factory=list)
    publish_times: list[float] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class IGMedia:
    id: str
    ig_user_id: str
    media_type: str  # IMAGE | VIDEO | CAROUSEL_ALBUM
    media_product_type: str  # FEED | REELS | STORY
    timestamp: float
    caption: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    permalink: str | None = None
    shortcode: str | None = None
    like_count: int = 0
    comments_count: int = 0
    children: list[str] = field(default_factory=list)
    is_comment_enabled: bool = True
    alt_text: str | None = None


@dataclass(slots=True, eq=False)
class IGContainer:
    id: str
    ig_user_id: str
    media_type: str  # IMAGE | VIDEO | REELS | STORIES | CAROUSEL
    created_at: float
    image_url: str | None = None
    video_url: str | None = None
    cover_url: str | None = None
    caption: str | None = None
    children: list[str] = field(default_factory=list)
    is_carousel_item: bool = False
    published_media_id: str | None = None
    error_status: str | None = None


@dataclass(slots=True, eq=False)
class WABA:
    id: str
    name: str
    business_id: str
    currency: str = "USD"
    timezone_id: str = "1"
    message_template_namespace: str = ""
    phone_numbers: list[PhoneNumber] = field(default_factory=list)
    templates: list[Template] = field(default_factory=list)
    # template name -> deletion time (a deleted name cannot be reused for 30 days)
    deleted_names: dict[str, float] = field(default_factory=dict)
    subscribed_apps: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class WAContact:
    wa_id: str
    name: str
    last_inbound_at: float | None = None


@dataclass(slots=True, eq=False)
class WAMessage:
    id: str
    phone_number_id: str
    wa_id: str
    inbound: bool
    type: str
    timestamp: float
    body: dict[str, Any] = field(default_factory=dict)
    status: str = "sent"
    category: str = "service"


@dataclass(slots=True, eq=False)
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    quality_rating: str = "GREEN"
    code_verification_status: str = "VERIFIED"
    name_status: str = "APPROVED"
    status: str = "CONNECTED"
    messaging_limit_tier: str = "TIER_1K"
    throughput_level: str = "STANDARD"
    platform_type: str = "CLOUD_API"
    is_official_business_account: bool = False
    profile: dict[str, Any] = field(default_factory=dict)
    contacts: dict[str, WAContact] = field(default_factory=dict)
    messages: dict[str, WAMessage] = field(default_factory=dict)

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.display_phone_number if ch.isdigit())


@dataclass(slots=True, eq=False)
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    created_at: float
    parameter_format: str = "POSITIONAL"
    sub_category: str | None = None
    rejected_reason: str | None = None
    rejection_info: dict[str, str] | None = None
    previous_category: str | None = None
    last_edit_at: float | None = None


@dataclass(slots=True, eq=False)
class Token:
    value: str
    kind: str  # USER | PAGE | APP
    issued_at: float
    expires_at: float  # 0 = never
    user_id: str | None = None
    page_id: str | None = None
    scopes: list[str] = field(default_factory=list)
    # scope -> target ids (None: all assets)
    granular: dict[str, list[str] | None] = field(default_factory=dict)
    data_access_expires_at: float = 0
    long_lived: bool = False
    parent: str | None = None  # page tokens: the user token they came from
    revoked_subcode: int | None = None
    revoked_message: str | None = None


@dataclass(slots=True, eq=False)
class OAuthCode:
    code: str
    user_id: str
    redirect_uri: str
    scopes: list[str]
    created_at: float
    used: bool = False
