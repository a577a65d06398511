"""Messenger and Instagram messaging: conversations (read-only, like Meta's), messages, user
profiles, the Send API with sender actions, and the events people cause (for the control API).

Meta's limits kept here: only the 20 most recent messages of a conversation have details (older
ones list with ``id`` and ``created_time`` only, and reading one by id fails as deleted), and the
Conversations API takes ``conversations_calls_per_second`` calls per Page and platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph_client.sandbox import auth, events
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.core import Core
from graph_client.sandbox.errors import MetaError, invalid_parameter, page_token_required
from graph_client.sandbox.graph import KINDS, Kind, render_edge, render_object, route
from graph_client.sandbox.ids import instagram_mid, messenger_mid
from graph_client.sandbox.models import Conversation, IGUser, Message, Page, Person
from graph_client.sandbox.render import Edge, Field, NodeType, Params, plain, register, time_field
from graph_client.sandbox.routes.pages import PAGE_NODE
from graph_client.sandbox.usage import rate_limit_error

RECENT_DETAIL = 20
WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_SECONDS = 7 * 24 * 3600
FOLDERS = ("inbox", "other", "page_done", "spam")
SENDER_ACTIONS = ("mark_seen", "typing_on", "typing_off", "react", "unreact")


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str | None = None
    email: str | None = None
    username: str | None = None


def participant_of_person(person: Person) -> Participant:
    if person.platform == "instagram":
        return Participant(person.id, username=person.username)
    return Participant(person.id, person.name, f"{person.id}@facebook.com")


def participant_of_page(store: Any, page: Page, platform: str) -> Participant:
    if platform == "instagram" and page.ig_user_id:
        ig = store.get(page.ig_user_id)
        if isinstance(ig, IGUser):
            return Participant(ig.id, username=ig.username)
    return Participant(page.id, page.name, f"{page.id}@facebook.com")


register(
    NodeType(
        "Participant",
        {
            "name": plain("name"),
            "email": plain("email"),
            "username": plain("username"),
            "id": plain("id"),
        },
        default_fields=("name", "email", "username", "id"),
    )
)


# --- conversations ------------------------------------------------------------------------------


def _conv_page(ctx: Ctx, conv: Conversation) -> Page:
    page = ctx.store.page(conv.page_id)
    assert page is not None
    return page


def _participants(ctx: Ctx, conv: Conversation, spec: Any) -> list[Participant]:
    person = ctx.store.person(conv.person_id)
    page = _conv_page(ctx, conv)
    out = [participant_of_person(person)] if person else []
    return [*out, participant_of_page(ctx.store, page, conv.platform)]


def _snippet(ctx: Ctx, conv: Conversation, spec: Any) -> str | None:
    messages = ctx.store.messages_of(conv)
    if not messages:
        return None
    last = messages[-1]
    return (last.text or "")[:100] if last.text is not None else ""


def _messages(ctx: Ctx, conv: Conversation, params: Params) -> list[Message]:
    return list(reversed(ctx.store.messages_of(conv)))


register(
    NodeType(
        "Conversation",
        {
            "id": plain("id"),
            "link": Field(lambda c, o, s: f"/{o.page_id}/inbox/?selected_item_id={o.person_id}"),
            "message_count": Field(lambda c, o, s: len(c.store.messages_of(o))),
            "participants": Field(_participants, node="Participant", many=True),
            "senders": Field(_participants, node="Participant", many=True),
            "former_participants": Field(lambda c, o, s: None),
            "snippet": Field(_snippet),
            "unread_count": plain("unread_count"),
            "updated_time": time_field("updated_time"),
            "can_reply": Field(lambda c, o, s: True),
            "is_owner": Field(lambda c, o, s: True),
            "is_subscribed": Field(lambda c, o, s: True),
            "folder": plain("folder"),
            "name": Field(lambda c, o, s: None),
            "scoped_thread_key": Field(lambda c, o, s: None),
            "wallpaper": Field(lambda c, o, s: None),
        },
        edges={"messages": Edge(_messages, "Message", path=lambda conv: f"{conv.id}/messages")},
        default_fields=("updated_time", "id"),
        label="UnifiedThread",
    )
)


def conversations_guard(ctx: Ctx, page: Page, platform: str) -> None:
    """Page token only, and at most N calls per second per Page and platform."""
    token = ctx.token
    if token is None or token.kind != "PAGE" or token.page_id != page.id:
        raise page_token_required()
    core = ctx.core
    if not core.conversations_limiter.allow(f"{page.id}:{platform}", ctx.now):
        target = (page.id, platform)
        headers = core.usage.headers(ctx.now, target, token.kind)
        raise rate_limit_error(613, headers=headers)


def _platform(ctx: Ctx, params: Params) -> str:
    raw = str(params.get("platform") or "messenger")
    if raw.lower() not in {"messenger", "instagram"}:
        raise invalid_parameter(
            f'param platform must be one of {{MESSENGER, INSTAGRAM}} - got "{raw}"'
        )
    return raw.lower()


def _page_conversations(ctx: Ctx, page: Page, params: Params) -> list[Conversation]:
    platform = _platform(ctx, params)
    folder = str(params.get("folder") or "inbox")
    if folder not in FOLDERS:
        allowed = ", ".join(FOLDERS)
        raise invalid_parameter(f'param folder must be one of {{{allowed}}} - got "{folder}"')
    user_id = params.get("user_id")
    convs = [
        conv
        for conv in page.conversations
        if conv.platform == platform
        and (conv.person_id == user_id if user_id else conv.folder == folder)
    ]
    return sorted(convs, key=lambda c: (c.updated_time, c.id), reverse=True)


PAGE_NODE.edges["conversations"] = Edge(
    _page_conversations,
    "Conversation",
    guard=lambda ctx, page: conversations_guard(ctx, page, _platform(ctx, ctx.params)),
    path=lambda page: f"{page.id}/conversations",
)


def _conv_visible(ctx: Ctx, conv: Conversation) -> bool:
    return ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, conv.page_id)


KINDS[Conversation] = Kind(
    "Conversation", _conv_visible, lambda ctx, conv: (conv.page_id, conv.platform)
)


@route(Conversation, None, "GET")
def get_conversation(ctx: Ctx, conv: Conversation) -> dict[str, Any]:
    conversations_guard(ctx, _conv_page(ctx, conv), conv.platform)
    return render_object(ctx, conv)


@route(Conversation, "messages", "GET")
def get_conversation_messages(ctx: Ctx, conv: Conversation) -> dict[str, Any]:
    conversations_guard(ctx, _conv_page(ctx, conv), conv.platform)
    return render_edge(ctx, conv, "messages")


# --- messages -----------------------------------------------------------------------------------


def _conversation_of(ctx: Ctx, message: Message) -> Conversation:
    conv = ctx.store.get(message.conversation_id)
    assert isinstance(conv, Conversation)
    return conv


def is_recent(ctx: Ctx, message: Message) -> bool:
    conv = _conversation_of(ctx, message)
    return message.seq >= len(ctx.store.messages_of(conv)) - RECENT_DETAIL


def _detail(getter: Any) -> Field:
    """A field only the 20 most recent messages of a conversation reveal."""
    return Field(lambda c, m, s: getter(c, m) if is_recent(c, m) else None)


def _sender(ctx: Ctx, message: Message) -> Participant | None:
    conv = _conversation_of(ctx, message)
    person = ctx.store.person(conv.person_id)
    if message.from_page:
        return participant_of_page(ctx.store, _conv_page(ctx, conv), conv.platform)
    return participant_of_person(person) if person else None


def _recipients(ctx: Ctx, message: Message) -> list[Participant]:
    conv = _conversation_of(ctx, message)
    person = ctx.store.person(conv.person_id)
    if message.from_page:
        return [participant_of_person(person)] if person else []
    return [participant_of_page(ctx.store, _conv_page(ctx, conv), conv.platform)]


def _attachments(ctx: Ctx, message: Message) -> dict[str, Any] | None:
    if not message.attachments:
        return None
    data = []
    for index, att in enumerate(message.attachments):
        url = att.get("url", "")
        item: dict[str, Any] = {"id": f"{message.id[-12:]}{index}", "mime_type": "image/jpeg"}
        item["name"] = f"image-{index}.jpg"
        item["size"] = 48213
        item["image_data"] = {
            "width": 720,
            "height": 720,
            "max_width": 720,
            "max_height": 720,
            "url": url,
            "preview_url": url,
            "render_as_sticker": False,
        }
        data.append(item)
    return {"data": data}


def _reactions(ctx: Ctx, message: Message) -> dict[str, Any] | None:
    if not message.reactions:
        return None
    return {
        "data": [{"reaction": r["emoji"], "users": [{"id": r["by"]}]} for r in message.reactions]
    }


def _tags(ctx: Ctx, message: Message) -> dict[str, Any]:
    names = ["inbox", "source:chat"] if not message.from_page else ["inbox", "sent"]
    return {"data": [{"name": name} for name in names]}


register(
    NodeType(
        "Message",
        {
            "id": plain("id"),
            "created_time": time_field("created_time"),
            "from": Field(
                lambda c, m, s: _sender(c, m) if is_recent(c, m) else None, "Participant"
            ),
            "to": Field(
                lambda c, m, s: _recipients(c, m) if is_recent(c, m) else None,
                node="Participant",
                many=True,
            ),
            "message": _detail(lambda c, m: m.text if m.text is not None else ""),
            "attachments": _detail(_attachments),
            "sticker": _detail(lambda c, m: m.sticker),
            "shares": _detail(lambda c, m: None),
            "story": _detail(lambda c, m: None),
            "reactions": _detail(_reactions),
            "tags": _detail(_tags),
            "is_unsupported": _detail(lambda c, m: False),
            "reply_to": _detail(
                lambda c, m: {"mid": m.reply_to, "is_self_reply": False} if m.reply_to else None
            ),
        },
        default_fields=("id", "created_time"),
    )
)


@route(Message, None, "GET")
def get_message(ctx: Ctx, message: Message) -> dict[str, Any]:
    if not is_recent(ctx, message):
        # Meta: details exist only for the 20 most recent messages; older ones read as deleted.
        raise MetaError("(#100) This message has been deleted.", 100)
    return render_object(ctx, message)


KINDS[Message] = Kind(
    "Message",
    lambda ctx, m: _conv_visible(ctx, _conversation_of(ctx, m)),
    lambda ctx, m: (_conversation_of(ctx, m).page_id, _conversation_of(ctx, m).platform),
)


# --- people -------------------------------------------------------------------------------------

register(
    NodeType(
        "PersonProfile",
        {
            "id": plain("id"),
            "name": plain("name"),
            "first_name": Field(
                lambda c, p, s: p.first_name if p.platform == "messenger" else None
            ),
            "last_name": Field(lambda c, p, s: p.last_name if p.platform == "messenger" else None),
            "profile_pic": plain("profile_pic"),
            "username": plain("username"),
            "follower_count": plain("follower_count"),
            "is_user_follow_business": plain("is_user_follow_business"),
            "is_business_follow_user": plain("is_business_follow_user"),
            "is_verified_user": Field(lambda c, p, s: False if p.platform == "instagram" else None),
            "locale": Field(lambda c, p, s: None),
            "timezone": Field(lambda c, p, s: None),
            "gender": Field(lambda c, p, s: None),
        },
        default_fields=("first_name", "last_name", "profile_pic", "id"),
        label="User",
    )
)


def _person_visible(ctx: Ctx, person: Person) -> bool:
    token = ctx.token
    return token is not None and token.kind == "PAGE" and token.page_id == person.page_id


KINDS[Person] = Kind("PersonProfile", _person_visible, lambda ctx, p: (p.page_id, p.platform))


# --- the Send API -------------------------------------------------------------------------------


@route(Page, "messages", "POST")
def send_api(ctx: Ctx, page: Page) -> dict[str, Any]:
    token = ctx.token
    if token is None or token.kind != "PAGE" or token.page_id != page.id:
        raise page_token_required()
    recipient = ctx.json_param("recipient")
    if not isinstance(recipient, dict) or not recipient.get("id"):
        raise invalid_parameter("param recipient must be an object with an id")
    person = ctx.store.person(str(recipient["id"]))
    if person is None or person.page_id != page.id:
        raise MetaError("(#100) No matching user found", 100, subcode=2018001)
    conv = ctx.store.conversation_with(page.id, person.id)
    assert conv is not None
    action = ctx.param("sender_action")
    message = ctx.json_param("message")
    if action is not None:
        if message is not None:
            raise invalid_parameter("sender_action cannot be sent together with message")
        if action not in SENDER_ACTIONS:
            allowed = ", ".join(SENDER_ACTIONS)
            raise invalid_parameter(
                f'param sender_action must be one of {{{allowed}}} - got "{action}"'
            )
        ctx.store.sender_actions.append(
            {"page_id": page.id, "recipient_id": person.id, "sender_action": action, "at": ctx.now}
        )
        return {"recipient_id": person.id}
    if not isinstance(message, dict):
        raise invalid_parameter("param message must be an object")
    text = message.get("text")
    attachment = message.get("attachment")
    if text is None and not isinstance(attachment, dict):
        raise invalid_parameter("param message must contain text or attachment")
    _check_window(ctx, conv)
    attachments = None
    if isinstance(attachment, dict):
        payload = attachment.get("payload") or {}
        url = payload.get("url", "") if isinstance(payload, dict) else ""
        attachments = [{"type": str(attachment.get("type", "image")), "url": url}]
    reply_to = ctx.json_param("reply_to")
    sent = send_from_page(
        ctx.core,
        conv,
        None if text is None else str(text),
        attachments,
        app_id=ctx.core.config.app_id,
        metadata=message.get("metadata"),
        reply_to=reply_to.get("mid") if isinstance(reply_to, dict) else None,
    )
    return {"recipient_id": person.id, "message_id": sent.id}


def _check_window(ctx: Ctx, conv: Conversation) -> None:
    last_inbound = next(
        (m.created_time for m in reversed(ctx.store.messages_of(conv)) if not m.from_page), None
    )
    age = ctx.now - last_inbound if last_inbound is not None else float("inf")
    messaging_type = (ctx.param("messaging_type") or "RESPONSE").upper()
    tag = (ctx.param("tag") or "").upper()
    if messaging_type == "MESSAGE_TAG" and tag:
        limit = HUMAN_AGENT_SECONDS if tag == "HUMAN_AGENT" else float("inf")
    else:
        limit = WINDOW_SECONDS
    if age > limit:
        subcode = 2534022 if conv.platform == "instagram" else 2018278
        raise MetaError(
            "(#10) This message is sent outside of allowed window. Learn more about the new "
            "policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
            10,
            subcode=subcode,
        )


@route(IGUser, "messages", "POST")
def ig_send_api(ctx: Ctx, ig: IGUser) -> dict[str, Any]:
    page = ctx.store.page(ig.page_id)
    assert page is not None
    return send_api(ctx, page)


# --- what people and the Page do (shared with the control API) ----------------------------------


def _entry_ids(core: Core, conv: Conversation) -> tuple[str, str, str]:
    """(webhook object, entry id, business-side id) for a conversation's platform."""
    page = core.store.page(conv.page_id)
    assert page is not None
    if conv.platform == "instagram" and page.ig_user_id:
        return "instagram", page.ig_user_id, page.ig_user_id
    return "page", page.id, page.id


def _subscribed(core: Core, conv: Conversation) -> list[str] | None:
    """The fields the asset subscribed the app to; for Instagram, the Page's subscription only
    has to exist (Instagram's fields are chosen on the app's ``instagram`` subscription)."""
    page = core.store.page(conv.page_id)
    assert page is not None
    fields = page.subscribed_apps.get(core.store.app.id)
    if fields is not None and conv.platform == "instagram":
        return []
    return fields


def _append(core: Core, conv: Conversation, from_page: bool, **values: Any) -> Message:
    messages = core.store.messages_of(conv)
    seq = len(messages)
    mid = (
        instagram_mid(conv.id, seq) if conv.platform == "instagram" else messenger_mid(conv.id, seq)
    )
    message = Message(mid, conv.id, seq, core.now(), from_page, **values)
    messages.append(message)
    conv.updated_time = message.created_time
    return message


def receive_from_person(
    core: Core,
    conv: Conversation,
    text: str | None,
    attachments: list[dict[str, Any]] | None = None,
    reply_to: str | None = None,
) -> tuple[Message, dict[str, Any]]:
    message = _append(core, conv, False, text=text, attachments=attachments, reply_to=reply_to)
    conv.unread_count += 1
    if conv.folder == "page_done":
        conv.folder = "inbox"
    obj, entry_id, business_id = _entry_ids(core, conv)
    body = events.message_body(message.id, text, attachments, reply_to)
    payload = events.messaging(
        obj, entry_id, message.created_time, conv.person_id, business_id, "message", body
    )
    result = core.deliver(payload, obj=obj, field="messages", subscribed=_subscribed(core, conv))
    return message, result


def send_from_page(
    core: Core,
    conv: Conversation,
    text: str | None,
    attachments: list[dict[str, Any]] | None,
    *,
    app_id: str,
    metadata: str | None = None,
    reply_to: str | None = None,
) -> Message:
    message = _append(
        core,
        conv,
        True,
        text=text,
        attachments=attachments,
        app_id=app_id,
        metadata=metadata,
        reply_to=reply_to,
    )
    conv.unread_count = 0
    echo(core, conv, message)
    if core.config.auto_receipts and conv.platform == "messenger":
        delivery(core, conv, [message.id])
    return message


def echo(core: Core, conv: Conversation, message: Message) -> dict[str, Any]:
    obj, entry_id, business_id = _entry_ids(core, conv)
    body = events.echo_body(
        message.id, message.app_id or "", message.text, message.attachments, message.metadata
    )
    payload = events.messaging(
        obj, entry_id, message.created_time, business_id, conv.person_id, "message", body
    )
    # Instagram has no separate message_echoes field: echoes come with messages.
    field = "messages" if obj == "instagram" else "message_echoes"
    return core.deliver(payload, obj=obj, field=field, subscribed=_subscribed(core, conv))


def delivery(core: Core, conv: Conversation, mids: list[str]) -> dict[str, Any]:
    obj, entry_id, business_id = _entry_ids(core, conv)
    now = core.now()
    value = {"mids": mids, "watermark": events.ms(now)}
    payload = events.messaging(obj, entry_id, now, conv.person_id, business_id, "delivery", value)
    subscribed = _subscribed(core, conv)
    return core.deliver(payload, obj=obj, field="message_deliveries", subscribed=subscribed)


def read(core: Core, conv: Conversation) -> dict[str, Any]:
    obj, entry_id, business_id = _entry_ids(core, conv)
    now = core.now()
    if obj == "instagram":
        outbound = [m for m in core.store.messages_of(conv) if m.from_page]
        value: dict[str, Any] = {"mid": outbound[-1].id if outbound else ""}
        field = "messaging_seen"
    else:
        value = {"watermark": events.ms(now)}
        field = "message_reads"
    payload = events.messaging(obj, entry_id, now, conv.person_id, business_id, "read", value)
    return core.deliver(payload, obj=obj, field=field, subscribed=_subscribed(core, conv))


def react(
    core: Core, conv: Conversation, message: Message, reaction: str, emoji: str, action: str
) -> dict[str, Any]:
    if action == "react":
        message.reactions.append({"reaction": reaction, "emoji": emoji, "by": conv.person_id})
    else:
        message.reactions = [r for r in message.reactions if r["by"] != conv.person_id]
    obj, entry_id, business_id = _entry_ids(core, conv)
    now = core.now()
    value = {"reaction": reaction, "emoji": emoji, "action": action, "mid": message.id}
    payload = events.messaging(obj, entry_id, now, conv.person_id, business_id, "reaction", value)
    subscribed = _subscribed(core, conv)
    return core.deliver(payload, obj=obj, field="message_reactions", subscribed=subscribed)
