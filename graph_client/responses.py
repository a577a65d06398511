"""Shapes of the Graph responses the app reads field by field.

Meta omits fields that have no value, so most keys are ``NotRequired``. Where the shape is open
(a Page, a post, a template) the client returns ``GraphObject``.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

GraphObject = dict[str, Any]


class AccessToken(TypedDict):
    access_token: str
    token_type: NotRequired[str]
    expires_in: NotRequired[int]


class GranularScope(TypedDict):
    scope: str
    target_ids: NotRequired[list[str]]  # absent means "all assets"


class DebugTokenError(TypedDict, total=False):
    code: int
    message: str
    subcode: int


class DebugTokenData(TypedDict, total=False):
    app_id: str | int
    type: str  # USER | PAGE | APP | SYSTEM_USER
    application: str
    data_access_expires_at: int
    expires_at: int  # 0 = never
    is_valid: bool
    issued_at: int
    metadata: dict[str, Any]
    scopes: list[str]
    granular_scopes: list[GranularScope]
    user_id: str
    profile_id: str
    error: DebugTokenError


class PageAccount(TypedDict):
    """One item of ``/me/accounts``."""

    id: str
    name: NotRequired[str]
    access_token: NotRequired[str]
    category: NotRequired[str]
    category_list: NotRequired[list[dict[str, str]]]
    tasks: NotRequired[list[str]]


class CreatedObject(TypedDict):
    """``{"id": ...}`` answers; photos add ``post_id`` when published."""

    id: str
    post_id: NotRequired[str]
    post_supports_client_mutation_id: NotRequired[bool]


class SendResult(TypedDict, total=False):
    recipient_id: str
    message_id: str


class ContainerStatus(TypedDict):
    id: str
    status_code: NotRequired[str]  # EXPIRED | ERROR | FINISHED | IN_PROGRESS | PUBLISHED
    status: NotRequired[str]


class PublishingLimitConfig(TypedDict, total=False):
    quota_total: int
    quota_duration: int


class PublishingLimit(TypedDict, total=False):
    quota_usage: int
    config: PublishingLimitConfig


class TemplateCreated(TypedDict):
    id: str
    status: NotRequired[str]
    category: NotRequired[str]
