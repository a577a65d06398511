"""The webhook inbox: every signed delivery is stored raw before Meta gets its 200.

Nothing Meta sends is dropped: a body that is not JSON, or not an object metasync knows, is
stored as ``failed`` with the reason. An identical redelivery (same bytes) is the same row.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.models import WebhookEvent, WebhookEventStatus
from domain.repositories.webhook_inbox import insert_deliveries
from domain.uow import UnitOfWork

KNOWN_OBJECTS = {"page", "instagram", "whatsapp_business_account"}
PROCESS_ACTOR = "process_webhook_event"
MAX_ENTRIES = 1000


@dataclass(frozen=True)
class Stored:
    event_id: uuid.UUID
    created: bool
    status: str


def inspect_body(raw: bytes) -> tuple[str | None, list[str], str | None]:
    """``(object, dedup keys, problem)`` of a raw delivery, without trusting its shape."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, [], f"body is not valid JSON: {exc}"
    if not isinstance(body, dict):
        return None, [], "body is not a JSON object"
    kind = body.get("object")
    if not isinstance(kind, str) or kind not in KNOWN_OBJECTS:  # a list is not hashable
        return str(kind) if kind is not None else None, [], f"unknown object {kind!r}"
    entries = body.get("entry")
    if not isinstance(entries, list):
        return kind, [], "no entry list"
    if len(entries) > MAX_ENTRIES:
        return kind, [], f"{len(entries)} entries, more than Meta's {MAX_ENTRIES}"
    return kind, sorted(_ids(entries))[:200], None


def _ids(value: Any) -> set[str]:
    """Meta's ids named anywhere in the delivery (for operators' lookups)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if (key in ("mid", "message_id") and isinstance(item, str)) or (
                key == "id" and isinstance(item, str) and item.startswith(("wamid.", "m_"))
            ):
                found.add(item)
            else:
                found |= _ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _ids(item)
    return found


async def store_deliveries(
    connection: AsyncConnection, raws: Sequence[bytes], now: datetime
) -> tuple[list[Stored], list[uuid.UUID]]:
    """Insert-or-ignore deliveries as one statement on ``connection``; what each answers
    (the same as if it had been stored alone: identical bytes are one row, the first of
    them ``created``) and, in order of arrival, the new well-formed ones to process. The
    caller commits (or runs this in autocommit, where the one insert is its own durable
    transaction) and sends their jobs after: the rows carry ``queued_at``, so a job lost
    before the broker is sent again by the sweeper."""
    digests = [hashlib.sha256(raw).hexdigest() for raw in raws]
    rows: dict[str, dict[str, Any]] = {}
    for raw, digest in zip(raws, digests, strict=True):
        if digest in rows:
            continue
        kind, keys, problem = inspect_body(raw)
        rows[digest] = {
            "id": uuid.uuid4(),
            "object": kind[:40] if kind else None,
            "raw_body": raw,
            "body_sha256": digest,
            "dedup_keys": keys,
            "status": (WebhookEventStatus.FAILED if problem else WebhookEventStatus.RECEIVED).value,
            "error": problem,
            "received_at": now,
            "queued_at": None if problem else now,
            "attempts": 0,
        }
    created = await insert_deliveries(connection, list(rows.values()))
    known: dict[str, tuple[uuid.UUID, str]] = {}
    if len(created) < len(rows):
        earlier = select(WebhookEvent.body_sha256, WebhookEvent.id, WebhookEvent.status).where(
            WebhookEvent.body_sha256.in_([d for d in rows if d not in created])
        )
        for digest, event_id, status in await connection.execute(earlier):
            known[digest] = (event_id, status)
    to_process: list[uuid.UUID] = []
    for digest, row in rows.items():  # in order of arrival
        if digest not in created:
            continue
        known[digest] = (row["id"], row["status"])
        if row["error"] is None:
            to_process.append(row["id"])
    out: list[Stored] = []
    for digest in digests:
        event_id, status = known[digest]
        out.append(Stored(event_id, digest in created, status))
        created.discard(digest)  # the same bytes again in this batch: already stored
    return out, to_process


async def unprocessed(uow: UnitOfWork, older_than: datetime, limit: int = 500) -> list[uuid.UUID]:
    """Deliveries stored but never processed (the broker was down, a worker died)."""
    stmt = (
        select(WebhookEvent.id)
        .where(
            WebhookEvent.status == WebhookEventStatus.RECEIVED.value,
            WebhookEvent.received_at < older_than,
        )
        .order_by(WebhookEvent.received_at)
        .limit(limit)
    )
    return list((await uow.session.execute(stmt)).scalars())


# Each attempt doubles how long the sweeper leaves an event alone, up to 32 times.
MAX_BACKOFF_DOUBLINGS = 5


async def requeue_stale(
    uow: UnitOfWork, now: datetime, retry_after: timedelta, limit: int = 500
) -> list[uuid.UUID]:
    """Queue again (after the caller commits) deliveries still "received" whose processing
    was last queued or picked up ``retry_after`` x 2^attempts ago: their job was lost with
    Redis, never sent, or died with its worker. Events still waiting in a long queue are
    left alone for longer each time, so a backlog is not multiplied by re-sends."""
    age = func.coalesce(WebhookEvent.queued_at, WebhookEvent.received_at)
    rows = (
        await uow.session.execute(
            select(WebhookEvent.id, age, WebhookEvent.attempts)
            .where(
                WebhookEvent.status == WebhookEventStatus.RECEIVED.value, age < now - retry_after
            )
            .order_by(age)
            .limit(limit)
        )
    ).all()
    due = [
        event_id
        for event_id, last, attempts in rows
        if last <= now - retry_after * 2 ** min(attempts, MAX_BACKOFF_DOUBLINGS)
    ]
    if due:
        await uow.session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(due))
            .values(queued_at=now)
            .execution_options(synchronize_session=False)
        )
    for event_id in due:
        uow.enqueue(PROCESS_ACTOR, event_id=str(event_id))
    return due


async def select_for_replay(
    uow: UnitOfWork, *, status: str | None, since: datetime | None, limit: int = 100_000
) -> list[uuid.UUID]:
    """Stored deliveries to apply again, oldest first. Applying is idempotent, so replaying
    an already-processed delivery changes nothing."""
    stmt = select(WebhookEvent.id).order_by(WebhookEvent.received_at).limit(limit)
    if status is not None:
        stmt = stmt.where(WebhookEvent.status == status)
    if since is not None:
        stmt = stmt.where(WebhookEvent.received_at >= since)
    return list((await uow.session.execute(stmt)).scalars())


async def reopen(uow: UnitOfWork, event_id: uuid.UUID) -> None:
    """Mark a delivery to be processed again (a failed one gets another chance)."""
    event = await uow.session.get(WebhookEvent, event_id)
    if event is not None and event.status != WebhookEventStatus.RECEIVED.value:
        event.status, event.error = WebhookEventStatus.RECEIVED.value, None
