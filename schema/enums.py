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
