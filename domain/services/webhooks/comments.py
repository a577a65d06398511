"""Comments on Page posts, from the ``feed`` webhook: added, edited, hidden, unhidden, removed.

Applying each event once is the inbox's job (``applied_webhook_events``). This module makes
the result independent of the order Meta delivers the events in:

- whichever change about a comment arrives first creates its row, by insert-or-ignore on
  (organization, Meta comment id): two workers racing create it once, the database decides;
- the row is then locked and changed. Its text follows the newest change that carries one
  (``last_event_at``): an ``add`` arriving after an ``edited`` keeps the edited text;
- ``hidden`` follows the newest hide or unhide (``hidden_changed_at``);
- a removal is final: the text goes, the row stays as a tombstone, and a late ``add`` or
  ``edited`` cannot bring the comment back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from domain.models import PostComment
from domain.repositories.inserts import insert_or_ignore
from domain.services.webhooks.events import UnitEvent
from domain.uow import UnitOfWork

if TYPE_CHECKING:
    from domain.services.webhooks.apply import Target

VERBS = frozenset({"add", "edited", "remove", "hide", "unhide"})


def _meta_id(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _author(value: dict[str, Any]) -> dict[str, Any]:
    found = value.get("from")
    return found if isinstance(found, dict) else {}


def _seconds(value: Any, default: datetime) -> datetime:
    """``created_time`` in feed changes is Unix seconds (Messenger's timestamps are ms)."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default


async def on_comment(uow: UnitOfWork, target: Target, unit: UnitEvent) -> None:
    assert target.page is not None
    value = unit.payload
    verb = value.get("verb")
    comment_id, post_id = _meta_id(value.get("comment_id")), _meta_id(value.get("post_id"))
    if verb not in VERBS or not comment_id or not post_id:
        return
    author = _author(value)
    parent = _meta_id(value.get("parent_id"))
    created_time = _seconds(value.get("created_time"), unit.at)
    await insert_or_ignore(
        uow.session,
        PostComment,
        {
            "id": uuid.uuid4(),
            "organization_id": target.organization_id,
            "page_id": target.page.id,
            "meta_post_id": post_id,
            "meta_comment_id": comment_id,
            # Meta names the post as the parent of a comment on the post itself.
            "parent_meta_comment_id": parent if parent and parent != post_id else None,
            "author_meta_id": _meta_id(author.get("id")) or None,
            "author_name": author.get("name"),
            "created_time": created_time,
            "hidden": False,
        },
        ("organization_id", "meta_comment_id"),
    )
    row = (
        await uow.session.execute(
            select(PostComment)
            .where(
                PostComment.organization_id == target.organization_id,
                PostComment.meta_comment_id == comment_id,
            )
            # Two changes of one comment applied at once: the second waits for the first.
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    _apply(row, verb, value, unit.at, created_time)


def _apply(
    row: PostComment, verb: str, value: dict[str, Any], at: datetime, created_time: datetime
) -> None:
    if row.deleted_at is not None:
        return  # removed: final, whatever arrives after
    if verb == "remove":
        row.deleted_at, row.message, row.last_event_at = at, None, at
        return
    if verb in ("hide", "unhide"):
        if row.hidden_changed_at is None or at >= row.hidden_changed_at:
            row.hidden, row.hidden_changed_at = verb == "hide", at
    elif verb == "add" and "created_time" in value:
        row.created_time = created_time  # the add's own time; an earlier edit only guessed it
    author = _author(value)
    row.author_meta_id = row.author_meta_id or _meta_id(author.get("id")) or None
    row.author_name = row.author_name or author.get("name")
    if "message" not in value:
        return
    # The text as of ``at``. On a tie an edit wins: it cannot be older than what it edits.
    last = row.last_event_at
    if last is None or at > last or (verb == "edited" and at == last):
        row.message, row.last_event_at = value.get("message"), at
        if verb == "edited":
            row.edited_at = at
