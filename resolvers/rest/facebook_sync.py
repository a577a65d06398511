"""spec/facebook-sync-api.md family: the eleven /api/facebook endpoints.

Syncs FROM Facebook are ``sync_runs`` executed by a worker. These endpoints keep the spec's
synchronous answer by waiting for the run up to ``sync_wait_seconds``; a run still going
after that is answered 202 with its id and status (follow it with sync-status or the
GraphQL subscription). Writes TO Facebook say what reached Meta (DESIGN.md §8): Meta has no
API to archive or mute a Page conversation, and mark-read sends ``mark_seen`` only.

Roles (domain.services.permissions): every member may read, sync, archive, mute, mark read
and edit contacts; only owners and admins may update a Page on Facebook.

Errors: ``{"success": false, "message", "status"}`` plus additive ``field``, ``code`` and
Meta's ``meta_code``. Meta failing is a 502 (the spec's "500 — Facebook API error": 502
tells the caller the failure was Meta's, not metasync's); a token Meta rejects is a 401
asking for a new Facebook login; Meta's rate limit and the spec's own sync limits are 429
with ``Retry-After``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from domain.errors import DomainError
from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid
from domain.models import Contact, SyncRun
from domain.services.facebook_actions import (
    Effect,
    archive_conversation,
    mark_conversation_read,
    mute_conversation,
    update_contact,
    update_page_on_facebook,
)
from domain.services.permissions import Action
from domain.services.sync.engine import KINDS
from domain.services.sync.fields import SyncSelection, known_fields, selection_for, split_names
from domain.services.sync.reports import (
    Listing,
    contacts_of_run,
    conversations_of_run,
    kind_counts,
    messages_of_run,
    page_status,
    run_conversation,
    run_page,
    synced,
)
from domain.services.sync.requests import request_sync
from domain.services.sync.runs import SyncScope
from domain.services.sync.upserts import Counts
from domain.services.sync.waiting import finished, run_failure
from resolvers.http import JSONResponse
from resolvers.rest.common import (
    BOOLEAN,
    DATE_TIME,
    NULLABLE_DATE_TIME,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array_of,
    iso,
    meta_details,
    object_schema,
    require,
    retry_after_header,
    translating_meta_errors,
    uuid_value,
)
from resolvers.rest.families import FACEBOOK_SYNC, RestError
from resolvers.rest.routing import Endpoint, Handler, RestContext, as_rest_error

Json = dict[str, Any]


def meta_failure(exc: MetaError) -> RestError:
    """How this family answers when Meta refuses or fails, with Meta's code."""
    details = meta_details(exc, snake_case=True)
    if isinstance(exc, MetaTokenInvalid):
        return RestError(
            401,
            f"Facebook rejected the Page's token ({exc.message}): log in with Facebook again",
            code="REAUTHORIZATION_REQUIRED",
            details={**details, "reauthorization_required": True},
        )
    if isinstance(exc, MetaRateLimited):
        return RestError(
            429,
            f"Facebook's rate limit was reached; retry later ({exc.message})",
            code="META_RATE_LIMITED",
            details=details,
            headers=retry_after_header(exc),
        )
    return RestError(
        502, f"Facebook API error: {exc.message}", code="META_API_ERROR", details=details
    )


# --- runs ----------------------------------------------------------------------------------


class _StillRunning(Exception):
    """The run did not finish within the wait: answered 202 with the run."""

    def __init__(self, run: SyncRun) -> None:
        super().__init__(str(run.id))
        self.run = run


class _RunFailed(Exception):
    """The run failed: answered as its reason is, naming the run."""

    def __init__(self, run: SyncRun, reason: DomainError) -> None:
        super().__init__(reason.message)
        self.run, self.reason = run, reason

    def answer(self) -> RestError:
        reason = self.reason
        err = meta_failure(reason) if isinstance(reason, MetaError) else as_rest_error(reason)
        assert err is not None  # a DomainError always maps
        return replace(err, details={**(err.details or {}), "run_id": str(self.run.id)})


def _accepted(run: SyncRun) -> JSONResponse:
    return JSONResponse(
        {
            "success": True,
            "status": run.status,
            "run_id": str(run.id),
            "page_id": str(run.page_id) if run.page_id else None,
            "fields": run.selected_fields,
            "message": "The sync is still running; check GET "
            f"/api/facebook/pages/{run.page_id}/sync-status for its outcome",
        },
        status_code=202,
    )


async def _finished_run(
    ctx: RestContext,
    scope: SyncScope,
    *,
    page_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
) -> SyncRun:
    services = ctx.services
    run = await request_sync(
        services.uow,
        services.bus,
        organization_id=ctx.viewer.organization_id,
        scope=scope,
        page_id=page_id,
        conversation_id=conversation_id,
        gate=services.rate_gate,
        limits=services.sync_limits,
        wait_seconds=services.sync_wait_seconds,
        selection=await _selection(ctx, scope),
    )
    if not finished(run):
        raise _StillRunning(run)
    failure = run_failure(run)
    if failure is not None:
        raise _RunFailed(run, failure)
    return run


async def _selection(ctx: RestContext, scope: SyncScope) -> SyncSelection | None:
    """Selective sync: ``fields`` in the JSON body (an array or a comma-separated string) or
    in the query string (``?fields=a,b``); absent means every field."""
    body = await ctx.json_body()
    raw = body["fields"] if "fields" in body else ctx.request.query_params.get("fields")
    return selection_for(scope, split_names(raw))


def _counts(counts: Counts) -> Json:
    return {
        "created_count": counts.created,
        "updated_count": counts.updated,
        "unchanged_count": counts.unchanged,
    }


def _truncated(listing: Listing[Any]) -> Json:
    return {"truncated": True} if listing.truncated else {}


def _page_path(ctx: RestContext) -> uuid.UUID:
    return uuid_value(ctx.request.path_params["pageId"], "pageId")


def _conversation_path(ctx: RestContext) -> uuid.UUID:
    return uuid_value(ctx.request.path_params["conversationId"], "conversationId")


def _effect(effect: Effect) -> Json:
    return {"applied_on_meta": effect.applied_on_meta, "meta_note": effect.meta_note}


# --- Facebook → metasync ---------------------------------------------------------------------


async def sync_page_details(ctx: RestContext) -> Json:
    run = await _finished_run(ctx, SyncScope.DETAILS, page_id=_page_path(ctx))
    page = await run_page(ctx.services.uow, ctx.viewer.organization_id, run)
    return {
        "success": True,
        "page": {
            "id": str(page.id),
            "name": page.name,
            "category": page.category,
            "about": page.about,
            "fan_count": page.fan_count,
            "synced_at": iso(run.finished_at),
            "facebook_page_id": page.meta_page_id,
            "phone": page.phone,
            "website": page.website,
            "followers_count": page.followers_count,
        },
        "changed": kind_counts(run, "page").updated > 0,
        "run_id": str(run.id),
    }


async def sync_messages(ctx: RestContext) -> Json:
    run = await _finished_run(ctx, SyncScope.MESSAGES, conversation_id=_conversation_path(ctx))
    listing = await messages_of_run(ctx.services.uow, ctx.viewer.organization_id, run)
    counts = kind_counts(run, "messages")
    return {
        "success": True,
        "synced_count": synced(counts),
        "messages": [
            {
                "id": str(m.id),
                "facebook_message_id": m.facebook_message_id,
                "created": m.created,
                "from": m.sender,
                "from_id": m.sender_id,
                "created_time": iso(m.created_time),
            }
            for m in listing.rows
        ],
        **_truncated(listing),
        **_counts(counts),
        "run_id": str(run.id),
    }


async def sync_contacts(ctx: RestContext) -> Json:
    run = await _finished_run(ctx, SyncScope.CONTACTS, page_id=_page_path(ctx))
    listing = await contacts_of_run(ctx.services.uow, ctx.viewer.organization_id, run)
    counts = kind_counts(run, "contacts")
    return {
        "success": True,
        "synced_count": synced(counts),
        "contacts": [
            {"id": str(c.id), "name": c.name, "facebook_id": c.facebook_id, "created": c.created}
            for c in listing.rows
        ],
        **_truncated(listing),
        **_counts(counts),
        "run_id": str(run.id),
    }


async def sync_conversation_status(ctx: RestContext) -> Json:
    run = await _finished_run(ctx, SyncScope.STATUS, conversation_id=_conversation_path(ctx))
    conversation = await run_conversation(ctx.services.uow, ctx.viewer.organization_id, run)
    return {
        "success": True,
        "unread_count": conversation.unread_count,
        "synced_at": iso(run.finished_at),
        "conversation_id": str(conversation.id),
        "folder": conversation.folder,
        "run_id": str(run.id),
    }


async def full_sync(ctx: RestContext) -> Json:
    run = await _finished_run(ctx, SyncScope.FULL, page_id=_page_path(ctx))
    org_id, make_uow = ctx.viewer.organization_id, ctx.services.uow
    page = await run_page(make_uow, org_id, run)
    conversations = await conversations_of_run(make_uow, org_id, run)
    contacts = kind_counts(run, "contacts")
    return {
        "success": True,
        "page_id": str(page.id),
        "sync_results": {
            "page_details": {
                "success": True,
                "page": {
                    "id": str(page.id),
                    "name": page.name,
                    "fan_count": page.fan_count,
                    "synced_at": iso(run.finished_at),
                },
            },
            "contacts": {"success": True, "synced_count": synced(contacts), **_counts(contacts)},
            "conversations": [
                {
                    "id": str(c.id),
                    "messages_synced": c.messages,
                    "facebook_conversation_id": c.facebook_conversation_id,
                }
                for c in conversations.rows
            ],
            **({"conversations_truncated": True} if conversations.truncated else {}),
        },
        "synced_at": iso(run.finished_at),
        "run_id": str(run.id),
        "counts": {
            **{kind: kind_counts(run, kind).as_dict() for kind in KINDS},
            "total": {
                "created": run.created_count,
                "updated": run.updated_count,
                "unchanged": run.unchanged_count,
            },
        },
        "graph_calls": run.graph_calls,
        "fields": run.selected_fields,
    }


async def sync_status(ctx: RestContext) -> Json:
    status = await page_status(ctx.services.uow, ctx.viewer.organization_id, _page_path(ctx))
    page, last = status.page, status.last_run
    return {
        "success": True,
        "page": {
            "id": str(page.id),
            "name": page.name,
            "status": page.status,
            "last_synced_at": iso(page.last_synced_at),
            "facebook_page_id": page.meta_page_id,
        },
        "statistics": {
            "total_conversations": status.totals.conversations,
            "total_contacts": status.totals.contacts,
            "last_sync": iso(page.last_synced_at),
            "total_messages": status.totals.messages,
        },
        "last_run": None
        if last is None
        else {
            "id": str(last.id),
            "scope": last.scope,
            "trigger": last.trigger,
            "status": last.status,
            "error": last.error,
            "fields": last.selected_fields,
            "created": last.created_count,
            "updated": last.updated_count,
            "unchanged": last.unchanged_count,
            "started_at": iso(last.started_at),
            "finished_at": iso(last.finished_at),
        },
    }


# --- metasync → Facebook ---------------------------------------------------------------------


async def update_page(ctx: RestContext) -> Json:
    require(ctx, Action.UPDATE_PAGE_ON_META)
    page_id = _page_path(ctx)
    body = await ctx.json_body()
    services = ctx.services
    _, changed = await update_page_on_facebook(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        page_id=page_id,
        fields=body,
    )
    return {
        "success": True,
        "message": "Page updated successfully"
        if changed
        else "Nothing to update: the page already has these values",
        "updated_fields": changed,
        # Only changed fields are sent; Meta is not called when nothing changed.
        "applied_on_meta": bool(changed),
    }


def _optional_bool(body: Json, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise RestError(400, f"{name}: must be true or false", field=name)
    return value


async def archive(ctx: RestContext) -> Json:
    conversation_id = _conversation_path(ctx)
    # Additive: {"archived": false} takes a conversation out of the archive.
    archived = _optional_bool(await ctx.json_body(), "archived", True)
    _, effect = await archive_conversation(
        ctx.services.uow(),
        organization_id=ctx.viewer.organization_id,
        conversation_id=conversation_id,
        archived=archived,
    )
    return {
        "success": True,
        "message": "Conversation archived" if archived else "Conversation unarchived",
        "archived": archived,
        **_effect(effect),
    }


async def mute(ctx: RestContext) -> Json:
    conversation_id = _conversation_path(ctx)
    body = await ctx.json_body()
    if "mute_until" not in body:
        raise RestError(
            400, 'mute_until: is required ("PERMANENTLY", a Unix timestamp, or null)', "mute_until"
        )
    services = ctx.services
    row, effect = await mute_conversation(
        services.uow(),
        organization_id=ctx.viewer.organization_id,
        conversation_id=conversation_id,
        mute_until=body["mute_until"],
        now=services.clock.now(),
    )
    message = (
        f"Conversation muted until {body['mute_until']}"
        if row.muted_until is not None
        else "Conversation unmuted"
    )
    return {
        "success": True,
        "message": message,
        "muted_until": iso(row.muted_until),
        **_effect(effect),
    }


async def mark_read(ctx: RestContext) -> Json:
    conversation_id = _conversation_path(ctx)
    services = ctx.services
    row, effect = await mark_conversation_read(
        services.uow(),
        services.meta,
        services.vault,
        organization_id=ctx.viewer.organization_id,
        conversation_id=conversation_id,
        now=services.clock.now(),
    )
    return {
        "success": True,
        "message": "Conversation marked as read",
        "unread_count": row.unread_count,
        **_effect(effect),
    }


def _contact(contact: Contact) -> Json:
    return {
        "id": str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "custom_fields": contact.custom_fields,
        "tags": contact.tags,
        "notes": contact.notes,
        "facebook_id": contact.platform_user_id,
        "facebook_name": contact.meta_name,
    }


async def update_contact_in_system(ctx: RestContext) -> Json:
    contact_id = uuid_value(ctx.request.path_params["contactId"], "contactId")
    body = await ctx.json_body()
    contact = await update_contact(
        ctx.services.uow(),
        organization_id=ctx.viewer.organization_id,
        contact_id=contact_id,
        fields=body,
    )
    return {
        "success": True,
        "contact": _contact(contact),
        "applied_on_meta": False,
        "meta_note": "Contact details are kept in metasync; Meta has no API to edit a person",
    }


# --- declarations ----------------------------------------------------------------------------


def _answering_runs(handler: Handler) -> Handler:
    async def run(ctx: RestContext) -> Any:
        try:
            return await handler(ctx)
        except _StillRunning as still:
            return _accepted(still.run)
        except _RunFailed as failed:
            raise failed.answer() from failed.reason

    return run


def _endpoint(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    documented: Json,
    additive: Json | None = None,
    request: Json | None = None,
    *,
    errors: tuple[int, ...] = (),
    runs: bool = False,
) -> Endpoint:
    """``runs``: the endpoint waits for a sync run (a 202 when it outlasts the wait; the
    run's failure answered like Meta's, and the spec's sync limits as 429) and takes the
    selective-sync ``fields``."""
    return Endpoint(
        FACEBOOK_SYNC,
        method,
        path,
        translating_meta_errors(_answering_runs(handler), meta_failure),
        summary,
        # Every endpoint waiting for a run takes the selective-sync ``fields``.
        request_schema=_SELECTIVE_BODY if runs else request,
        body_required=not runs,
        description=_SELECTIVE_NOTE if runs else None,
        query_params={"fields": _FIELDS_QUERY} if runs else {},
        response_schema=object_schema({"success": {"const": True}, **documented}, additive),
        errors=(*errors, *_META_ERRORS) if runs else errors,
        other_responses={202: _ACCEPTED} if runs else {},
    )


_SELECTIVE_NOTE = (
    "metasync extension — selective field sync: an optional `fields` (in the JSON body as an "
    "array or a comma-separated string, or as `?fields=a,b`) limits what is read from "
    "Facebook and written; unselected columns keep their values. Names: "
    + ", ".join(known_fields())
    + " (a part's own name selects all of it). A name the sync does not read, or an unknown "
    "one, is a 400 naming `fields`."
)
_FIELDS_QUERY: Json = {"type": "string", "description": "comma-separated field names"}
_SELECTIVE_BODY: Json = {
    "type": "object",
    "properties": {
        "fields": {
            "oneOf": [
                {"type": "array", "items": {"type": "string", "enum": known_fields()}},
                _FIELDS_QUERY,
            ]
        }
    },
}


_INT = {"type": "integer"}
_NULLABLE_INT = {"type": ["integer", "null"]}
_COUNTS = {"created_count": _INT, "updated_count": _INT, "unchanged_count": _INT}
_EFFECT = {"applied_on_meta": BOOLEAN, "meta_note": NULLABLE_STRING}
_RUN = {"run_id": STRING}
_SELECTED = {"type": ["array", "null"], "items": STRING}  # the run's selection (null: all)
# What meta_failure answers (a token Meta rejects is the 401 every endpoint documents).
_META_ERRORS = (429, 502)
_ACCEPTED = object_schema(
    {"success": {"const": True}, "status": STRING, "run_id": STRING, "message": STRING},
    {"page_id": NULLABLE_STRING},
)

ENDPOINTS: list[Endpoint] = [
    _endpoint(
        "POST",
        "/api/facebook/pages/{pageId}/sync-from-facebook",
        sync_page_details,
        "Pull the Page's details (name, category, about, fan count) from Facebook",
        {
            "page": object_schema(
                {
                    "id": STRING,
                    "name": STRING,
                    "category": NULLABLE_STRING,
                    "about": NULLABLE_STRING,
                    "fan_count": _NULLABLE_INT,
                    "synced_at": DATE_TIME,
                }
            )
        },
        {"changed": BOOLEAN, **_RUN},
        runs=True,
    ),
    _endpoint(
        "POST",
        "/api/facebook/conversations/{conversationId}/sync-messages-from-facebook",
        sync_messages,
        "Pull a conversation's messages from Facebook (details for its 20 most recent)",
        {
            "synced_count": _INT,
            "messages": array_of(
                object_schema(
                    {
                        "id": STRING,
                        "facebook_message_id": STRING,
                        "created": BOOLEAN,
                        "from": NULLABLE_STRING,
                    }
                )
            ),
        },
        {**_COUNTS, **_RUN, "truncated": BOOLEAN},
        runs=True,
    ),
    _endpoint(
        "POST",
        "/api/facebook/pages/{pageId}/sync-contacts-from-facebook",
        sync_contacts,
        "Pull the Page's contacts (conversation participants) from Facebook",
        {
            "synced_count": _INT,
            "contacts": array_of(
                object_schema(
                    {
                        "id": STRING,
                        "name": NULLABLE_STRING,
                        "facebook_id": STRING,
                        "created": BOOLEAN,
                    }
                )
            ),
        },
        {**_COUNTS, **_RUN, "truncated": BOOLEAN},
        runs=True,
    ),
    _endpoint(
        "PUT",
        "/api/facebook/pages/{pageId}/update-to-facebook",
        update_page,
        "Update the Page's about, phone or website on Facebook (owners and admins)",
        {"message": STRING, "updated_fields": STRINGS},
        {"applied_on_meta": BOOLEAN},
        request={
            "type": "object",
            "properties": {"about": STRING, "phone": STRING, "website": STRING},
            "example": {"about": "Plants and pots, delivered", "website": "https://shop.example"},
        },
        errors=(403, *_META_ERRORS),
    ),
    _endpoint(
        "POST",
        "/api/facebook/conversations/{conversationId}/sync-status-from-facebook",
        sync_conversation_status,
        "Pull a conversation's unread count from Facebook",
        {"unread_count": _INT, "synced_at": DATE_TIME},
        {"conversation_id": STRING, "folder": NULLABLE_STRING, **_RUN},
        runs=True,
    ),
    _endpoint(
        "POST",
        "/api/facebook/conversations/{conversationId}/archive-on-facebook",
        archive,
        "Archive a conversation (in metasync: Meta has no archive API)",
        {"message": STRING},
        {"archived": BOOLEAN, **_EFFECT},
        request={"type": "object", "properties": {"archived": BOOLEAN}},
    ),
    _endpoint(
        "POST",
        "/api/facebook/conversations/{conversationId}/mute-on-facebook",
        mute,
        "Mute a conversation (in metasync: Meta has no mute API)",
        {"message": STRING},
        {"muted_until": NULLABLE_DATE_TIME, **_EFFECT},
        request={
            **object_schema({"mute_until": {"type": ["string", "integer", "null"]}}),
            "example": {"mute_until": "PERMANENTLY"},
        },
    ),
    _endpoint(
        "POST",
        "/api/facebook/conversations/{conversationId}/mark-read-on-facebook",
        mark_read,
        "Mark a conversation read (in metasync, and mark_seen sent to the person)",
        {"message": STRING},
        {"unread_count": _INT, **_EFFECT},
        errors=_META_ERRORS,
    ),
    _endpoint(
        "PUT",
        "/api/facebook/contacts/{contactId}/update-in-system",
        update_contact_in_system,
        "Update a contact's details in metasync",
        {
            "contact": object_schema(
                {
                    "id": STRING,
                    "name": NULLABLE_STRING,
                    "email": NULLABLE_STRING,
                    "phone": NULLABLE_STRING,
                },
                {
                    "custom_fields": {"type": "object"},
                    "tags": STRINGS,
                    "notes": NULLABLE_STRING,
                    "facebook_id": STRING,
                    "facebook_name": NULLABLE_STRING,
                },
            )
        },
        _EFFECT,
        request={
            "type": "object",
            "properties": {
                "name": STRING,
                "email": NULLABLE_STRING,
                "phone": NULLABLE_STRING,
                "custom_fields": {"type": "object"},
                "tags": STRINGS,
                "notes": NULLABLE_STRING,
            },
        },
    ),
    _endpoint(
        "GET",
        "/api/facebook/pages/{pageId}/sync-status",
        sync_status,
        "The Page's sync status and statistics",
        {
            "page": object_schema(
                {
                    "id": STRING,
                    "name": STRING,
                    "status": STRING,
                    "last_synced_at": NULLABLE_DATE_TIME,
                }
            ),
            "statistics": object_schema(
                {
                    "total_conversations": _INT,
                    "total_contacts": _INT,
                    "last_sync": NULLABLE_DATE_TIME,
                },
                {"total_messages": _INT},
            ),
        },
        {"last_run": {"type": ["object", "null"]}},
    ),
    _endpoint(
        "POST",
        "/api/facebook/pages/{pageId}/full-sync-from-facebook",
        full_sync,
        "Pull everything (details, contacts, conversations, messages); once per 5 minutes",
        {
            "page_id": STRING,
            "sync_results": object_schema(
                {
                    "page_details": {"type": "object"},
                    "contacts": object_schema({"success": BOOLEAN, "synced_count": _INT}, _COUNTS),
                    "conversations": array_of(
                        object_schema({"id": STRING, "messages_synced": _INT})
                    ),
                }
            ),
            "synced_at": DATE_TIME,
        },
        {**_RUN, "counts": {"type": "object"}, "graph_calls": _INT, "fields": _SELECTED},
        runs=True,
    ),
]
