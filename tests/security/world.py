"""What organization A owns, for proving organization B cannot reach it.

``FACTORIES`` maps every kind of object an id can name to how organization A comes to own one
(through the sandbox: a stored Meta login, a synced Page, synced templates...). The isolation
tests derive the kind of each id they enumerate and look it up here: a kind with no factory
fails the test, so a new kind of id cannot go unchecked.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select

from domain.models import (
    ClientPageMapping,
    Contact,
    Conversation,
    InstagramAccount,
    Message,
    MetaConnection,
    Page,
    Post,
    PostComment,
    Template,
    WebhookEvent,
    WhatsAppAccount,
)
from domain.services.sync.runs import SyncScope
from domain.services.webhooks.apply import ApplyContext, process_event
from domain.services.whatsapp_templates import sync_templates
from graph_client.signature import sign_payload_sha256
from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import Tenant, create_tenant
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected, sync

Form = Literal["uuid", "gid", "meta"]


@dataclass(frozen=True)
class Owned:
    """One object of organization A, in each form an id can take."""

    row_id: uuid.UUID
    type_name: str  # its GraphQL type, for global ids
    meta_id: str | None = None

    def id(self, form: Form) -> str:
        if form == "uuid":
            return str(self.row_id)
        if form == "gid":
            return encode_global_id(self.type_name, self.row_id)
        assert self.meta_id is not None, f"{self.type_name} has no Meta id"
        return self.meta_id

    def missing(self, form: Form) -> str:
        """An id of the same form naming nothing."""
        if form == "uuid":
            return str(uuid.uuid4())
        if form == "gid":
            return encode_global_id(self.type_name, uuid.uuid4())
        assert self.meta_id is not None
        # Meta ids are digits; keep the length so a length check cannot tell them apart.
        return str(secrets.randbelow(9) + 1) + "".join(
            str(secrets.randbelow(10)) for _ in range(len(self.meta_id) - 1)
        )


@dataclass
class World:
    server: SandboxServer
    owner: Tenant  # organization A's owner (token signed by the server)
    stranger: Tenant  # organization B's owner: every role, none of A's objects
    page: Page
    sync_run_id: uuid.UUID
    cache: dict[str, Owned] = field(default_factory=dict)

    async def get(self, kind: str) -> Owned:
        if kind not in self.cache:
            factory = FACTORIES.get(kind)
            assert factory is not None, (
                f"no factory for ids naming a {kind!r}: add one to tests/security/world.py"
            )
            self.cache[kind] = await factory(self)
        return self.cache[kind]

    async def _first(self, model: type, *where: object) -> object:
        async with self.server.runtime.services.session_factory() as session:
            stmt = select(model).where(model.organization_id == self.owner.org_id, *where)  # type: ignore[attr-defined]
            row = (await session.execute(stmt.limit(1))).scalars().first()
        assert row is not None, f"organization A has no {model.__name__}"
        return row


async def build_world(server: SandboxServer, runtime: Runtime) -> World:
    """Organization A: the sandbox demo login stored, its Pages connected, Lucky Shrub fully
    synced (conversations, contacts, messages). Organization B: a fresh organization."""
    tenant, page = await connected(server, runtime, "owner-a")
    run = await sync(server, tenant, page, SyncScope.FULL)
    stranger = await create_tenant(runtime, "stranger-b")
    jwt = server.runtime.services.jwt
    return World(
        server=server,
        owner=Tenant(tenant.principal, jwt.issue(tenant.principal)),
        stranger=Tenant(stranger.principal, jwt.issue(stranger.principal)),
        page=page,
        sync_run_id=run.id,
    )


async def _page(w: World) -> Owned:
    return Owned(w.page.id, "Page", w.page.meta_page_id)


def _first_of(
    model: type, type_name: str, meta_attr: str, *where: Callable[[World], object]
) -> Callable[[World], Awaitable[Owned]]:
    """A factory answering organization A's first ``model`` row (matching ``where``)."""

    async def factory(w: World) -> Owned:
        row = await w._first(model, *(condition(w) for condition in where))
        return Owned(row.id, type_name, getattr(row, meta_attr))  # type: ignore[attr-defined]

    return factory


async def _message(w: World) -> Owned:
    conversation = await w.get("conversation")
    row = await w._first(Message, Message.conversation_id == conversation.row_id)
    assert isinstance(row, Message)
    return Owned(row.id, "Message", row.meta_message_id)


async def _template(w: World) -> Owned:
    account = await w.get("whatsapp_account")
    services = w.server.runtime.services
    await sync_templates(
        services.uow(), services.meta, services.vault,
        organization_id=w.owner.org_id, account_id=account.row_id, now=services.clock.now(),
    )  # fmt: skip
    # An APPROVED one: the only kind Meta lets anyone edit, so the owner's edit goes through.
    row = await w._first(Template, Template.status == "APPROVED")
    assert isinstance(row, Template)
    return Owned(row.id, "Template", row.meta_template_id)


async def _sync_run(w: World) -> Owned:
    return Owned(w.sync_run_id, "SyncRun")


async def _post(w: World) -> Owned:
    post = Post(
        id=uuid.uuid4(),
        organization_id=w.owner.org_id,
        page_id=w.page.id,
        platform="facebook",
        type="text",
        status="draft",
        message="organization A's draft",
        idempotency_key=uuid.uuid4().hex,
    )
    async with w.server.runtime.services.uow() as uow:
        uow.session.add(post)
        await uow.commit()
    return Owned(post.id, "Post")


async def _instagram_media(w: World) -> Owned:
    """A media item of A's Instagram account, which A maps to a client (the meta-module
    serves a post only to the organization that mapped its account)."""
    ig = await w.get("instagram_account")
    async with w.server.runtime.services.uow() as uow:
        uow.session.add(
            ClientPageMapping(
                organization_id=w.owner.org_id,
                client_id="security-probe",
                page_id=w.page.id,
                fb_page_id=w.page.meta_page_id,
                ig_account_id=ig.meta_id,
            )
        )
        await uow.commit()
    assert ig.meta_id is not None
    media = w.server.sandbox.store.get(ig.meta_id).media[0]
    return Owned(uuid.uuid4(), "InstagramMedia", media.id)


async def _deliver(w: World, payload: dict[str, object]) -> uuid.UUID:
    """``payload`` as Meta's signed delivery to the receiver, then applied as a worker would."""
    services = w.server.runtime.services
    body = json.dumps(payload).encode()
    signature = sign_payload_sha256(body, w.server.runtime.settings.META_APP_SECRET)
    async with w.server.client() as http:
        answer = await http.post(
            "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": signature}
        )
    assert answer.status_code == 200, answer.text
    async with services.session_factory() as session:
        stmt = select(WebhookEvent.id).where(
            WebhookEvent.body_sha256 == hashlib.sha256(body).hexdigest()
        )
        event_id: uuid.UUID = (await session.execute(stmt)).scalar_one()
    ctx = ApplyContext(services.uow, services.meta, services.vault, services.clock)
    assert await process_event(ctx, event_id) == "processed"
    return event_id


async def _webhook_event(w: World) -> Owned:
    """A delivery applied to A: a message the sandbox's Meta sends to A's Page."""
    mid = f"m_{uuid.uuid4().hex}"
    event_id = await _deliver(
        w,
        {"object": "page", "entry": [{"id": w.page.meta_page_id, "time": 1, "messaging": [{
            "sender": {"id": "31000000000001"}, "recipient": {"id": w.page.meta_page_id},
            "timestamp": 1767225600000, "message": {"mid": mid, "text": "hello"},
        }]}]},
    )  # fmt: skip
    return Owned(event_id, "WebhookEvent")


async def _post_comment(w: World) -> Owned:
    """A comment on a post of A's Page, both learnt from the Page's feed webhook."""
    page = w.page.meta_page_id
    post_id, comment_id = f"{page}_{uuid.uuid4().int % 10**15}", f"{uuid.uuid4().int % 10**15}"
    for value in (
        {"item": "status", "verb": "add", "post_id": post_id, "message": "A's post",
         "from": {"id": page}, "created_time": 1767225600},
        {"item": "comment", "verb": "add", "post_id": post_id, "comment_id": comment_id,
         "parent_id": post_id, "message": "A's comment", "created_time": 1767225660,
         "from": {"id": "31000000000001", "name": "A's customer"}},
    ):  # fmt: skip
        change = {"field": "feed", "value": value}
        entry = {"id": page, "time": value["created_time"], "changes": [change]}
        await _deliver(w, {"object": "page", "entry": [entry]})
    row = await w._first(PostComment, PostComment.meta_comment_id == comment_id)
    assert isinstance(row, PostComment)
    return Owned(row.id, "PostComment", row.meta_comment_id)


async def _organization(w: World) -> Owned:
    return Owned(w.owner.org_id, "Organization")


async def _user(w: World) -> Owned:
    return Owned(w.owner.principal.user_id, "User")


FACTORIES: dict[str, Callable[[World], Awaitable[Owned]]] = {
    "page": _page,
    "conversation": _first_of(
        Conversation,
        "Conversation",
        "meta_conversation_id",
        lambda w: Conversation.page_id == w.page.id,
    ),
    "contact": _first_of(
        Contact, "Contact", "platform_user_id", lambda w: Contact.page_id == w.page.id
    ),
    "message": _message,
    "meta_connection": _first_of(MetaConnection, "MetaConnection", "meta_user_id"),
    "instagram_account": _first_of(InstagramAccount, "InstagramAccount", "meta_ig_id"),
    "whatsapp_account": _first_of(WhatsAppAccount, "WhatsAppAccount", "waba_id"),
    "template": _template,
    "sync_run": _sync_run,
    "post": _post,
    "post_comment": _post_comment,
    "instagram_media": _instagram_media,
    "webhook_event": _webhook_event,
    "organization": _organization,
    "user": _user,
}
