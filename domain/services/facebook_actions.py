"""metasync → Facebook: page updates, conversation state, contact edits.

Meta has no API to archive, mute or mark read a Page conversation (facts §0): archive and
mute are metasync's own state, mark-read also sends Messenger's ``mark_seen``. Each result
says what reached Meta (DESIGN.md §8).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from domain.errors import InvalidInputError, NotFoundError
from domain.meta import MetaGateway
from domain.models import Contact, Conversation, Page
from domain.tokens import unseal
from domain.uow import UnitOfWork
from domain.vault import TokenVault

PAGE_EDITABLE = ("about", "phone", "website")
# Stored for "muted forever": far enough to never pass, representable on every backend.
MUTED_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
MAX_TAGS, MAX_TAG_LENGTH = 50, 50
MAX_CUSTOM_FIELDS, MAX_CUSTOM_VALUE = 50, 1000
MAX_NOTES = 10_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,30}$")


@dataclass(frozen=True)
class Effect:
    """What an action did: always applied in metasync; ``applied_on_meta`` says whether
    Meta was told too, and ``meta_note`` why not."""

    applied_on_meta: bool
    meta_note: str | None = None


async def _page(uow: UnitOfWork, organization_id: uuid.UUID, page_id: uuid.UUID) -> Page:
    page = await uow.session.get(Page, page_id)
    if page is None or page.organization_id != organization_id or page.deleted_at:
        raise NotFoundError("Page")
    return page


async def _conversation(
    uow: UnitOfWork, organization_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    row = await uow.session.get(Conversation, conversation_id)
    if row is None or row.organization_id != organization_id or row.deleted_at:
        raise NotFoundError("Conversation")
    return row


def validate_page_fields(fields: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(fields) - set(PAGE_EDITABLE))
    if unknown:
        raise InvalidInputError(
            unknown[0], f"cannot be updated (editable: {', '.join(PAGE_EDITABLE)})"
        )
    clean: dict[str, str] = {}
    for key, value in fields.items():
        if not isinstance(value, str):
            raise InvalidInputError(key, "must be a string")
        value = value.strip()
        if key == "about" and len(value) > 255:
            raise InvalidInputError("about", "must be at most 255 characters")
        if key == "phone" and value and not _PHONE.match(value):
            raise InvalidInputError("phone", "is not a valid phone number")
        if key == "website" and value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidInputError("website", "must be an http(s) URL")
        clean[key] = value
    if not clean:
        raise InvalidInputError("body", f"give at least one of {', '.join(PAGE_EDITABLE)}")
    return clean


async def update_page_on_facebook(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    page_id: uuid.UUID,
    fields: dict[str, Any],
) -> tuple[Page, list[str]]:
    """Send the changed fields to Meta, then store them. Returns the fields that changed;
    Meta's refusal raises its MetaError and nothing is stored."""
    clean = validate_page_fields(fields)
    async with uow:
        page = await _page(uow, organization_id, page_id)
        token = unseal(vault, page)
        changed = {k: v for k, v in clean.items() if getattr(page, k) != v}
        meta_page_id = page.meta_page_id
    if token is None:
        raise InvalidInputError("pageId", "the page has no token: connect it again")
    if changed:
        await meta.update_page(meta_page_id, token, changed)
    async with uow:
        page = await _page(uow, organization_id, page_id)
        for key, value in changed.items():
            setattr(page, key, value)
        await uow.commit()
    return page, list(changed)


async def archive_conversation(
    uow: UnitOfWork, *, organization_id: uuid.UUID, conversation_id: uuid.UUID, archived: bool
) -> tuple[Conversation, Effect]:
    async with uow:
        row = await _conversation(uow, organization_id, conversation_id)
        row.archived = archived
        await uow.commit()
    return row, Effect(False, "Meta has no API to archive a Page conversation")


def parse_mute_until(value: Any, now: datetime) -> datetime | None:
    """``PERMANENTLY``, a future Unix timestamp, or null/0 to unmute."""
    if value is None or value == 0 or value == "0":
        return None
    if value == "PERMANENTLY":
        return MUTED_FOREVER
    try:
        seconds = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("mute_until", 'must be "PERMANENTLY" or a Unix timestamp') from exc
    if isinstance(value, bool) or seconds <= 0:
        raise InvalidInputError("mute_until", 'must be "PERMANENTLY" or a Unix timestamp')
    until = datetime.fromtimestamp(seconds, UTC)
    if until <= now:
        raise InvalidInputError("mute_until", "must be in the future")
    return until


async def mute_conversation(
    uow: UnitOfWork,
    *,
    organization_id: uuid.UUID,
    conversation_id: uuid.UUID,
    mute_until: Any,
    now: datetime,
) -> tuple[Conversation, Effect]:
    until = parse_mute_until(mute_until, now)
    async with uow:
        row = await _conversation(uow, organization_id, conversation_id)
        row.muted_until = until
        await uow.commit()
    return row, Effect(False, "Meta has no API to mute a Page conversation")


async def mark_conversation_read(
    uow: UnitOfWork,
    meta: MetaGateway,
    vault: TokenVault,
    *,
    organization_id: uuid.UUID,
    conversation_id: uuid.UUID,
    now: datetime,
) -> tuple[Conversation, Effect]:
    """Zero the unread count here and send ``mark_seen`` to the person's thread on Meta
    (which shows them the message was seen; Meta's own inbox keeps its own read state)."""
    async with uow:
        row = await _conversation(uow, organization_id, conversation_id)
        page = await uow.session.get(Page, row.page_id) if row.page_id else None
        contact = await uow.session.get(Contact, row.contact_id) if row.contact_id else None
        token = unseal(vault, page) if page else None
        row.unread_count = 0
        row.read_watermark = now
        await uow.commit()
    if page is None or token is None or contact is None:
        return row, Effect(False, "no page token or no contact to send mark_seen to")
    await meta.mark_seen(page.meta_page_id, token, contact.platform_user_id)
    return row, Effect(True, "mark_seen sent; Meta has no API to mark a Page conversation read")


def validate_contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    allowed = {"name", "email", "phone", "custom_fields", "tags", "notes"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInputError(unknown[0], "is not a contact field")
    clean: dict[str, Any] = {}
    for key in ("name", "email", "phone", "notes"):
        if key not in fields:
            continue
        value = fields[key]
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(key, "must be a string or null")
        value = value.strip() if isinstance(value, str) else None
        if key == "name" and (not value or len(value) > 300):
            raise InvalidInputError("name", "must be 1 to 300 characters")
        if key == "email" and value and (not _EMAIL.match(value) or len(value) > 320):
            raise InvalidInputError("email", "is not a valid email address")
        if key == "phone" and value and not _PHONE.match(value):
            raise InvalidInputError("phone", "is not a valid phone number")
        if key == "notes" and value and len(value) > MAX_NOTES:
            raise InvalidInputError("notes", f"must be at most {MAX_NOTES} characters")
        clean[key] = value or None
    if "tags" in fields:
        tags = fields["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidInputError("tags", "must be a list of strings")
        cleaned = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        if len(cleaned) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in cleaned):
            raise InvalidInputError(
                "tags", f"at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters"
            )
        clean["tags"] = cleaned
    if "custom_fields" in fields:
        custom = fields["custom_fields"]
        if not isinstance(custom, dict):
            raise InvalidInputError("custom_fields", "must be an object")
        if len(custom) > MAX_CUSTOM_FIELDS:
            raise InvalidInputError("custom_fields", f"at most {MAX_CUSTOM_FIELDS} fields")
        for key, value in custom.items():
            if not key or len(key) > 100:
                raise InvalidInputError(f"custom_fields.{key}", "keys must be 1 to 100 characters")
            if value is not None and not isinstance(value, str | int | float | bool):
                raise InvalidInputError(f"custom_fields.{key}", "values must be scalars")
            if isinstance(value, str) and len(value) > MAX_CUSTOM_VALUE:
                raise InvalidInputError(
                    f"custom_fields.{key}", f"at most {MAX_CUSTOM_VALUE} characters"
                )
        clean["custom_fields"] = dict(custom)
    if not clean:
        raise InvalidInputError("body", "give at least one contact field")
    return clean


async def update_contact(
    uow: UnitOfWork,
    *,
    organization_id: uuid.UUID,
    contact_id: uuid.UUID,
    fields: dict[str, Any],
) -> Contact:
    """Edit a contact in metasync. A local name edit is kept against later syncs; Meta's
    name keeps being recorded beside it (``meta_name``)."""
    clean = validate_contact_fields(fields)
    async with uow:
        contact = await uow.session.get(Contact, contact_id)
        if contact is None or contact.organization_id != organization_id or contact.deleted_at:
            raise NotFoundError("Contact")
        for key, value in clean.items():
            setattr(contact, key, value)
        if "name" in clean and "name" not in (contact.locally_edited or []):
            contact.locally_edited = [*(contact.locally_edited or []), "name"]
        await uow.commit()
    return contact
