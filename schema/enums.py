"""GraphQL enums mirroring the domain's."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum
class Platform(enum.Enum):
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"


@strawberry.enum
class MessageDirection(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@strawberry.enum
class MessageStatus(enum.Enum):
    RECEIVED = "received"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@strawberry.enum
class ChannelStatus(enum.Enum):
    ACTIVE = "active"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    DISCONNECTED = "disconnected"


@strawberry.enum
class ErrorCode(enum.Enum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    META_API = "META_API"
    REAUTHORIZATION_REQUIRED = "REAUTHORIZATION_REQUIRED"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"


@strawberry.enum(description="The state of a Meta login (a user or system-user token).")
class ConnectionStatus(enum.Enum):
    ACTIVE = "active"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    EXPIRED = "expired"
    INVALID = "invalid"
    DISCONNECTED = "disconnected"


@strawberry.enum(description="What a Meta login's dialog asks permissions for.")
class OAuthPlatform(enum.Enum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"


@strawberry.enum
class HealthStatus(enum.Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@strawberry.enum
class HealthLevel(enum.Enum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@strawberry.enum(description="What of a change reached Meta (DESIGN.md §8: never pretend).")
class MetaEffect(enum.Enum):
    APPLIED = strawberry.enum_value("applied", description="Meta confirmed the change.")
    LOCAL_ONLY = strawberry.enum_value(
        "local_only",
        description="metasync changed its own state; Meta was not, or could not be, told.",
    )


@strawberry.enum(description="What a Page sync reads from Meta.")
class SyncScope(enum.Enum):
    FULL = strawberry.enum_value(
        "full", description="Page details, then every conversation with its messages and people."
    )
    INCREMENTAL = strawberry.enum_value(
        "incremental", description="Conversations updated since the last sync, with messages."
    )
    DETAILS = strawberry.enum_value("details", description="The Page's own details only.")
    CONTACTS = strawberry.enum_value(
        "contacts", description="Every conversation and its people, without messages."
    )


@strawberry.enum(description="What a sync of one conversation reads from Meta.")
class ConversationSyncScope(enum.Enum):
    MESSAGES = strawberry.enum_value("messages", description="Its messages (and status).")
    STATUS = strawberry.enum_value("status", description="Its unread count and last update.")


@strawberry.enum(description="What a sync run covered (a Page scope or a conversation scope).")
class SyncRunScope(enum.Enum):
    FULL = "full"
    INCREMENTAL = "incremental"
    DETAILS = "details"
    CONTACTS = "contacts"
    MESSAGES = "messages"
    STATUS = "status"


@strawberry.enum
class SyncRunStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
