"""SQLAlchemy models for the whole data model of DESIGN.md §5."""

from domain.models.accounts import (
    ConnectionStatus,
    Membership,
    MetaConnection,
    Notification,
    Organization,
    Role,
    User,
)
from domain.models.base import Base, utcnow
from domain.models.channels import (
    ChannelStatus,
    ClientPageMapping,
    InstagramAccount,
    Page,
    WebhookConfig,
    WhatsAppAccount,
)
from domain.models.comments import PostComment
from domain.models.messaging import (
    MESSAGE_STATUS_RANK,
    Contact,
    Conversation,
    Message,
    MessageDirection,
    MessageStatus,
    Platform,
)
from domain.models.operations import (
    AppliedWebhookEvent,
    SyncRun,
    SyncSchedule,
    SyncStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from domain.models.publishing import (
    AccountSnapshot,
    Post,
    PostSnapshot,
    PostStatus,
    Template,
    TemplateStatus,
)

__all__ = [
    "MESSAGE_STATUS_RANK",
    "AccountSnapshot",
    "AppliedWebhookEvent",
    "Base",
    "ChannelStatus",
    "ClientPageMapping",
    "ConnectionStatus",
    "Contact",
    "Conversation",
    "InstagramAccount",
    "Membership",
    "Message",
    "MessageDirection",
    "MessageStatus",
    "MetaConnection",
    "Notification",
    "Organization",
    "Page",
    "Platform",
    "Post",
    "PostComment",
    "PostSnapshot",
    "PostStatus",
    "Role",
    "SyncRun",
    "SyncSchedule",
    "SyncStatus",
    "Template",
    "TemplateStatus",
    "User",
    "WebhookConfig",
    "WebhookEvent",
    "WebhookEventStatus",
    "WhatsAppAccount",
    "utcnow",
]
