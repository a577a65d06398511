"""The per-request GraphQL context, and the loader registry it hands to field resolvers.

Loaders are made fresh for each operation (HTTP request, or each operation on a WebSocket)
by the ``PerOperationLoaders`` extension; they live in a context variable because the
operations of one WebSocket share one context object but each runs in its own task.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from strawberry.dataloader import DataLoader

from domain.models import (
    Contact,
    Conversation,
    InstagramAccount,
    Message,
    MetaConnection,
    Page,
    Post,
    PostComment,
    SyncRun,
    SyncSchedule,
    Template,
    WhatsAppAccount,
)
from domain.pagination import Slice
from domain.repositories.sync_stats import PageTotals
from domain.services.identity import Principal
from domain.services.post_analytics import PostMetrics


class Loaders(Protocol):
    """What field resolvers may load; built by ``resolvers.loaders``."""

    page: DataLoader[uuid.UUID, Page | None]
    conversation: DataLoader[uuid.UUID, Conversation | None]
    message: DataLoader[uuid.UUID, Message | None]
    contact: DataLoader[uuid.UUID, Contact | None]
    meta_connection: DataLoader[uuid.UUID, MetaConnection | None]
    instagram_account: DataLoader[uuid.UUID, InstagramAccount | None]
    whatsapp_account: DataLoader[uuid.UUID, WhatsAppAccount | None]
    instagram_account_of_page: DataLoader[uuid.UUID, InstagramAccount | None]
    conversations_of_page: DataLoader[tuple[Hashable, ...], Slice[Conversation]]
    conversation_count_of_page: DataLoader[tuple[Hashable, ...], int]
    contacts_of_page: DataLoader[tuple[Hashable, ...], Slice[Contact]]
    contact_count_of_page: DataLoader[tuple[Hashable, ...], int]
    messages_of_conversation: DataLoader[tuple[Hashable, ...], Slice[Message]]
    message_count_of_conversation: DataLoader[uuid.UUID, int]
    sync_run: DataLoader[uuid.UUID, SyncRun | None]
    sync_totals_of_page: DataLoader[uuid.UUID, PageTotals]
    active_sync_run_of_page: DataLoader[uuid.UUID, SyncRun | None]
    sync_runs_of_page: DataLoader[tuple[Hashable, ...], Slice[SyncRun]]
    sync_run_count_of_page: DataLoader[uuid.UUID, int]
    sync_schedule_of_page: DataLoader[uuid.UUID, SyncSchedule | None]
    template: DataLoader[uuid.UUID, Template | None]
    templates_of_account: DataLoader[tuple[Hashable, ...], Slice[Template]]
    template_count_of_account: DataLoader[tuple[Hashable, ...], int]
    post: DataLoader[uuid.UUID, Post | None]
    posts_of_page: DataLoader[tuple[Hashable, ...], Slice[Post]]
    post_count_of_page: DataLoader[tuple[Hashable, ...], int]
    media_of_instagram: DataLoader[tuple[Hashable, ...], Slice[Post]]
    media_count_of_instagram: DataLoader[tuple[Hashable, ...], int]
    post_metrics: DataLoader[uuid.UUID, PostMetrics | None]
    post_comment: DataLoader[uuid.UUID, PostComment | None]
    comments_of_post: DataLoader[tuple[Hashable, ...], Slice[PostComment]]
    comment_count_of_post: DataLoader[str, int]
    comment_by_meta_id: DataLoader[str, PostComment | None]


_current_loaders: ContextVar[Loaders | None] = ContextVar("metasync_loaders", default=None)


@dataclass
class Context:
    """What every resolver sees. ``principal`` is None only before a WebSocket's
    ``connection_init`` has been accepted."""

    principal: Principal | None
    make_loaders: Callable[[Principal], Loaders]
    services: Any  # resolvers.app.AppServices; typed loosely to keep schema → resolvers out
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] = field(default_factory=dict)

    @property
    def viewer(self) -> Principal:
        if self.principal is None:
            raise PermissionError("not authenticated")
        return self.principal

    @property
    def loaders(self) -> Loaders:
        current = _current_loaders.get()
        if current is None:
            current = self.make_loaders(self.viewer)
            _current_loaders.set(current)
        return current

    def start_operation(self) -> None:
        """Install fresh loaders for the operation about to run in this task.

        They must be set before execution starts: graphql-core runs sibling fields in
        child tasks, which copy the context variables of this one, so all of them share
        these loaders (and batch together)."""
        _current_loaders.set(self.make_loaders(self.viewer) if self.principal else None)
