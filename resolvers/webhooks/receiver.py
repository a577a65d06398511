"""``/webhooks/meta`` (and its aliases): Meta's verification handshake and signed deliveries.

A valid delivery is stored in the inbox and acknowledged before any processing; processing
happens in a worker. A missing or wrong signature is a 401 and nothing is stored.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from domain.database import WriterConnection
from domain.services.webhooks.inbox import PROCESS_ACTOR, Stored, store_deliveries
from resolvers.services import AppServices
from resolvers.webhooks.group_commit import GroupCommitInbox, Job

log = structlog.get_logger(__name__)

PATHS = ("/webhooks/meta", "/api/webhook", "/api/meta/webhook/events")
MAX_BODY = 3 * 1024 * 1024  # Meta's documented maximum payload


def inbox_for(services: AppServices) -> GroupCommitInbox:
    """The group-commit inbox the receiver stores through (the app drains and closes it on
    shutdown)."""
    writer = WriterConnection(services.engine)

    async def store(raws: Sequence[bytes]) -> tuple[list[Stored], list[uuid.UUID]]:
        async with writer.use() as connection:
            return await store_deliveries(connection, raws, services.clock.now())

    async def store_many(raws: Sequence[bytes]) -> tuple[list[Stored], list[Job]]:
        try:
            stored, new = await store(raws)
        except Exception as exc:
            # The writer's kept connection is dropped on any failure; the likely one is that
            # PostgreSQL closed it (restart, failover), so once more on a new connection.
            # Safe to repeat: a row the failed attempt did commit is found, not doubled (its
            # job then comes from the sweeper, as the row was committed with queued_at).
            log.info("webhook_store_retried", error=repr(exc))
            stored, new = await store(raws)
        return stored, [(PROCESS_ACTOR, {"event_id": str(event_id)}) for event_id in new]

    def send_jobs(jobs: list[Job]) -> None:
        for actor_name, kwargs in jobs:
            try:
                services.jobs.enqueue(actor_name, **kwargs)
            except Exception as exc:  # broker down: the sweeper sends it once it is back
                log.warning("enqueue_after_commit_failed", actor=actor_name, error=str(exc))

    return GroupCommitInbox(store_many, send_jobs, close=writer.aclose)


def routes(services: AppServices, verify_token: str, inbox: GroupCommitInbox) -> list[Route]:
    async def verify(request: Request) -> Response:
        params = request.query_params
        given = params.get("hub.verify_token", "")
        if params.get("hub.mode") == "subscribe" and hmac.compare_digest(
            given.encode(), verify_token.encode()
        ):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("Forbidden", status_code=403)

    async def receive(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            return PlainTextResponse("Payload Too Large", status_code=413)
        try:
            raw = await _read_bounded(request)
        except ClientDisconnect:
            return PlainTextResponse("Bad Request", status_code=400)
        if raw is None:
            return PlainTextResponse("Payload Too Large", status_code=413)
        signature = request.headers.get("x-hub-signature-256")
        if not services.verify_signature(raw, signature):
            log.warning("webhook_signature_rejected", has_signature=signature is not None)
            return PlainTextResponse("Unauthorized", status_code=401)
        stored = await inbox.store(raw)
        log.info(
            "webhook_stored",
            event_id=str(stored.event_id),
            new=stored.created,
            status=stored.status,
        )
        return PlainTextResponse("EVENT_RECEIVED")

    out: list[Route] = []
    for path in PATHS:
        out.append(Route(path, verify, methods=["GET"]))
        out.append(Route(path, receive, methods=["POST"]))
    return out


async def _read_bounded(request: Request) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            return None
    return bytes(body)
