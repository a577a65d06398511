"""DataLoaders, made per operation: each batch runs once per tick in its own read session,
with one statement for the whole batch, and returns results in key order."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
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
from domain.repositories.accounts import MetaConnectionRepository
from domain.repositories.base import OrgScoped
from domain.repositories.channels import (
    InstagramAccountRepository,
    PageRepository,
    WhatsAppAccountRepository,
)
from domain.repositories.messaging import (
    ContactRepository,
    ConversationFilter,
    ConversationRepository,
    MessageRepository,
)
from domain.repositories.post_comments import PostCommentRepository
from domain.repositories.posts import PostFilter, PostRepository
from domain.repositories.sync_runs import SyncRunRepository
from domain.repositories.sync_schedules import SyncScheduleRepository
from domain.repositories.sync_stats import PageTotals
from domain.repositories.templates import TemplateRepository
from domain.services.identity import Principal
from domain.services.post_analytics import PostMetrics, post_metrics

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = TypeVar("P", bound=Hashable)  # a parent key: a row id, or a Meta id
R = TypeVar("R", bound=OrgScoped[Any])

Key = tuple[Hashable, ...]


@dataclass
class RequestLoaders:
    page: DataLoader[uuid.UUID, Page | None]
    conversation: DataLoader[uuid.UUID, Conversation | None]
    message: DataLoader[uuid.UUID, Message | None]
    contact: DataLoader[uuid.UUID, Contact | None]
    meta_connection: DataLoader[uuid.UUID, MetaConnection | None]
    instagram_account: DataLoader[uuid.UUID, InstagramAccount | None]
    whatsapp_account: DataLoader[uuid.UUID, WhatsAppAccount | None]
    instagram_account_of_page: DataLoader[uuid.UUID, InstagramAccount | None]
    conversations_of_page: DataLoader[Key, Slice[Conversation]]
    conversation_count_of_page: DataLoader[Key, int]
    contacts_of_page: DataLoader[Key, Slice[Contact]]
    contact_count_of_page: DataLoader[Key, int]
    messages_of_conversation: DataLoader[Key, Slice[Message]]
    message_count_of_conversation: DataLoader[uuid.UUID, int]
    sync_run: DataLoader[uuid.UUID, SyncRun | None]
    sync_totals_of_page: DataLoader[uuid.UUID, PageTotals]
    active_sync_run_of_page: DataLoader[uuid.UUID, SyncRun | None]
    sync_runs_of_page: DataLoader[Key, Slice[SyncRun]]
    sync_run_count_of_page: DataLoader[uuid.UUID, int]
    post: DataLoader[uuid.UUID, Post | None]
    posts_of_page: DataLoader[Key, Slice[Post]]
    post_count_of_page: DataLoader[Key, int]
    media_of_instagram: DataLoader[Key, Slice[Post]]
    media_count_of_instagram: DataLoader[Key, int]
    post_metrics: DataLoader[uuid.UUID, PostMetrics | None]
    post_comment: DataLoader[uuid.UUID, PostComment | None]
    # Comments hang off Meta's post id (see PostComment), so these are keyed by it.
    comments_of_post: DataLoader[Key, Slice[PostComment]]
    comment_count_of_post: DataLoader[str, int]
    comment_by_meta_id: DataLoader[str, PostComment | None]
    sync_schedule_of_page: DataLoader[uuid.UUID, SyncSchedule | None]
    template: DataLoader[uuid.UUID, Template | None]
    templates_of_account: DataLoader[Key, Slice[Template]]
    template_count_of_account: DataLoader[Key, int]


def make_loader_factory(
    session_factory: async_sessionmaker[AsyncSession],
) -> Callable[[Principal], RequestLoaders]:
    def build(principal: Principal) -> RequestLoaders:
        return _build(session_factory, principal.organization_id)

    return build


def _build(factory: async_sessionmaker[AsyncSession], org: uuid.UUID) -> RequestLoaders:
    def repo_batch(
        repo_cls: type[R], fetch: Callable[[R, list[K]], Awaitable[dict[K, V]]], missing: V
    ) -> Callable[[list[K]], Awaitable[list[V]]]:
        async def load(keys: list[K]) -> list[V]:
            async with factory() as session:
                found = await fetch(repo_cls(session, org), keys)
            return [found.get(key, missing) for key in keys]

        return load

    def by_id(repo_cls: type[OrgScoped[Any]]) -> DataLoader[uuid.UUID, Any]:
        async def fetch(repo: OrgScoped[Any], keys: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
            return await repo.get_many(keys)

        return DataLoader(repo_batch(repo_cls, fetch, None))

    async def instagram_of_pages(
        repo: InstagramAccountRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, InstagramAccount | None]:
        return {**await repo.by_pages(keys)}

    async def conversations(
        repo: ConversationRepository, keys: list[Key]
    ) -> dict[Key, Slice[Conversation]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[Conversation]]:
            first, after, criteria = params
            assert isinstance(criteria, ConversationFilter)
            return await repo.first_by_pages(
                ids, first=int(str(first)), after=_opt_str(after), filter=criteria
            )

        return await _grouped(keys, run)

    async def conversation_counts(repo: ConversationRepository, keys: list[Key]) -> dict[Key, int]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
            (criteria,) = params
            assert isinstance(criteria, ConversationFilter)
            return await repo.count_by_pages(ids, criteria)

        return await _grouped(keys, run)

    async def contacts(repo: ContactRepository, keys: list[Key]) -> dict[Key, Slice[Contact]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[Contact]]:
            first, after, search = params
            return await repo.first_by_pages(
                ids, first=int(str(first)), after=_opt_str(after), search=_opt_str(search)
            )

        return await _grouped(keys, run)

    async def contact_counts(repo: ContactRepository, keys: list[Key]) -> dict[Key, int]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
            (search,) = params
            return await repo.count_by_pages(ids, _opt_str(search))

        return await _grouped(keys, run)

    async def messages(repo: MessageRepository, keys: list[Key]) -> dict[Key, Slice[Message]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[Message]]:
            first, after = params
            return await repo.first_by_conversations(
                ids, first=int(str(first)), after=_opt_str(after)
            )

        return await _grouped(keys, run)

    async def message_counts(
        repo: MessageRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        return await repo.count_by_conversations(keys)

    async def sync_totals(
        repo: SyncRunRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, PageTotals]:
        return await repo.page_totals(keys)

    async def active_sync_runs(
        repo: SyncRunRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, SyncRun | None]:
        return {**await repo.active_by_pages(keys)}

    async def sync_runs(repo: SyncRunRepository, keys: list[Key]) -> dict[Key, Slice[SyncRun]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[SyncRun]]:
            first, after = params
            return await repo.first_by_pages(ids, first=int(str(first)), after=_opt_str(after))

        return await _grouped(keys, run)

    async def sync_run_counts(
        repo: SyncRunRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        return await repo.count_by_pages(keys)

    async def sync_schedules(
        repo: SyncScheduleRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, SyncSchedule | None]:
        return {**await repo.by_pages(keys)}

    async def templates(repo: TemplateRepository, keys: list[Key]) -> dict[Key, Slice[Template]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[Template]]:
            first, after, statuses = params
            assert isinstance(statuses, tuple)
            return await repo.first_by_accounts(
                ids, first=int(str(first)), after=_opt_str(after), statuses=statuses
            )

        return await _grouped(keys, run)

    async def template_counts(repo: TemplateRepository, keys: list[Key]) -> dict[Key, int]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
            (statuses,) = params
            assert isinstance(statuses, tuple)
            return await repo.count_by_accounts(ids, statuses)

        return await _grouped(keys, run)

    async def page_posts(repo: PostRepository, keys: list[Key]) -> dict[Key, Slice[Post]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[Post]]:
            first, after, criteria = params
            assert isinstance(criteria, PostFilter)
            return await repo.of_pages(ids, criteria, first=int(str(first)), after=_opt_str(after))

        return await _grouped(keys, run)

    async def page_post_counts(repo: PostRepository, keys: list[Key]) -> dict[Key, int]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
            (criteria,) = params
            assert isinstance(criteria, PostFilter)
            return await repo.count_of_pages(ids, criteria)

        return await _grouped(keys, run)

    async def ig_media(repo: PostRepository, keys: list[Key]) -> dict[Key, Slice[Post]]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, Slice[Post]]:
            first, after, criteria = params
            assert isinstance(criteria, PostFilter)
            return await repo.of_instagram_accounts(
                ids, criteria, first=int(str(first)), after=_opt_str(after)
            )

        return await _grouped(keys, run)

    async def ig_media_counts(repo: PostRepository, keys: list[Key]) -> dict[Key, int]:
        async def run(params: Key, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
            (criteria,) = params
            assert isinstance(criteria, PostFilter)
            return await repo.count_of_instagram_accounts(ids, criteria)

        return await _grouped(keys, run)

    async def metrics_of_posts(
        repo: PostRepository, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, PostMetrics | None]:
        posts = await repo.get_many(keys)
        found = await post_metrics(repo.session, repo.organization_id, list(posts.values()))
        return {**found}

    async def post_comments(
        repo: PostCommentRepository, keys: list[Key]
    ) -> dict[Key, Slice[PostComment]]:
        async def run(params: Key, ids: list[str]) -> dict[str, Slice[PostComment]]:
            first, after = params
            return await repo.first_by_posts(ids, first=int(str(first)), after=_opt_str(after))

        return await _grouped(keys, run, str)

    async def post_comment_counts(repo: PostCommentRepository, keys: list[str]) -> dict[str, int]:
        return await repo.count_by_posts(keys)

    async def comments_by_meta_id(
        repo: PostCommentRepository, keys: list[str]
    ) -> dict[str, PostComment | None]:
        return {**await repo.by_meta_ids(keys)}

    empty: Slice[Any] = Slice(items=[], cursors=[], has_next=False)
    no_totals = PageTotals(conversations=0, contacts=0, messages=0)
    return RequestLoaders(
        page=by_id(PageRepository),
        conversation=by_id(ConversationRepository),
        message=by_id(MessageRepository),
        contact=by_id(ContactRepository),
        meta_connection=by_id(MetaConnectionRepository),
        instagram_account=by_id(InstagramAccountRepository),
        whatsapp_account=by_id(WhatsAppAccountRepository),
        instagram_account_of_page=DataLoader(
            repo_batch(InstagramAccountRepository, instagram_of_pages, None)
        ),
        conversations_of_page=DataLoader(repo_batch(ConversationRepository, conversations, empty)),
        conversation_count_of_page=DataLoader(
            repo_batch(ConversationRepository, conversation_counts, 0)
        ),
        contacts_of_page=DataLoader(repo_batch(ContactRepository, contacts, empty)),
        contact_count_of_page=DataLoader(repo_batch(ContactRepository, contact_counts, 0)),
        messages_of_conversation=DataLoader(repo_batch(MessageRepository, messages, empty)),
        message_count_of_conversation=DataLoader(repo_batch(MessageRepository, message_counts, 0)),
        sync_run=by_id(SyncRunRepository),
        sync_totals_of_page=DataLoader(repo_batch(SyncRunRepository, sync_totals, no_totals)),
        active_sync_run_of_page=DataLoader(repo_batch(SyncRunRepository, active_sync_runs, None)),
        sync_runs_of_page=DataLoader(repo_batch(SyncRunRepository, sync_runs, empty)),
        template=by_id(TemplateRepository),
        templates_of_account=DataLoader(repo_batch(TemplateRepository, templates, empty)),
        template_count_of_account=DataLoader(repo_batch(TemplateRepository, template_counts, 0)),
        sync_run_count_of_page=DataLoader(repo_batch(SyncRunRepository, sync_run_counts, 0)),
        post=by_id(PostRepository),
        posts_of_page=DataLoader(repo_batch(PostRepository, page_posts, empty)),
        post_count_of_page=DataLoader(repo_batch(PostRepository, page_post_counts, 0)),
        media_of_instagram=DataLoader(repo_batch(PostRepository, ig_media, empty)),
        media_count_of_instagram=DataLoader(repo_batch(PostRepository, ig_media_counts, 0)),
        post_metrics=DataLoader(repo_batch(PostRepository, metrics_of_posts, None)),
        post_comment=by_id(PostCommentRepository),
        comments_of_post=DataLoader(repo_batch(PostCommentRepository, post_comments, empty)),
        comment_count_of_post=DataLoader(repo_batch(PostCommentRepository, post_comment_counts, 0)),
        comment_by_meta_id=DataLoader(repo_batch(PostCommentRepository, comments_by_meta_id, None)),
        sync_schedule_of_page=DataLoader(repo_batch(SyncScheduleRepository, sync_schedules, None)),
    )


async def _grouped(
    keys: Sequence[Key],
    run: Callable[[Key, list[P]], Awaitable[dict[P, V]]],
    parent_type: type[P] = uuid.UUID,  # type: ignore[assignment]
) -> dict[Key, V]:
    """Keys are ``(parent id, *params)``; one query per distinct params (normally one)."""
    groups: dict[Key, list[P]] = defaultdict(list)
    for key in keys:
        parent = key[0]
        assert isinstance(parent, parent_type)
        groups[key[1:]].append(parent)
    out: dict[Key, V] = {}
    for params, parents in groups.items():
        for parent, value in (await run(params, parents)).items():
            out[(parent, *params)] = value
    return out


def _opt_str(value: Hashable) -> str | None:
    return None if value is None else str(value)
