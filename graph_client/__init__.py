"""Async client for Meta's Graph API, its error tree, pagination and usage/rate accounting.

This package imports nothing else of metasync; it receives a :class:`GraphConfig`.
"""

from graph_client._core import CallCount, counting_calls
from graph_client._redact import token_fingerprint
from graph_client.breaker import BreakerState, CircuitBreaker
from graph_client.client import GraphClient
from graph_client.config import GraphConfig
from graph_client.errors import (
    CircuitOpenError,
    GraphError,
    IGPublishingError,
    InvalidParameterError,
    MediaNotReadyError,
    OutsideMessagingWindowError,
    PermissionDeniedError,
    PolicyBlockError,
    RateLimitedError,
    TemplateError,
    ThrottledError,
    TokenInvalidError,
    TransientError,
    WhatsAppError,
    error_from_response,
)
from graph_client.limiter import (
    InProcessLimiter,
    Limiter,
    LimiterPolicy,
    RedisLimiter,
    Spacing,
    limiter_from_config,
)
from graph_client.responses import (
    AccessToken,
    ContainerStatus,
    CreatedObject,
    DebugTokenData,
    GranularScope,
    GraphObject,
    PageAccount,
    PublishingLimit,
    SendResult,
    TemplateCreated,
)
from graph_client.signature import appsecret_proof, verify_payload_signature
from graph_client.usage import Usage, parse_usage

__all__ = [
    "AccessToken",
    "BreakerState",
    "CallCount",
    "CircuitBreaker",
    "CircuitOpenError",
    "ContainerStatus",
    "CreatedObject",
    "DebugTokenData",
    "GranularScope",
    "GraphClient",
    "GraphConfig",
    "GraphError",
    "GraphObject",
    "IGPublishingError",
    "InProcessLimiter",
    "InvalidParameterError",
    "Limiter",
    "LimiterPolicy",
    "MediaNotReadyError",
    "OutsideMessagingWindowError",
    "PageAccount",
    "PermissionDeniedError",
    "PolicyBlockError",
    "PublishingLimit",
    "RateLimitedError",
    "RedisLimiter",
    "SendResult",
    "Spacing",
    "TemplateCreated",
    "TemplateError",
    "ThrottledError",
    "TokenInvalidError",
    "TransientError",
    "Usage",
    "WhatsAppError",
    "appsecret_proof",
    "counting_calls",
    "error_from_response",
    "limiter_from_config",
    "parse_usage",
    "token_fingerprint",
    "verify_payload_signature",
]
