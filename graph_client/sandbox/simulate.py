"""Things people and Meta do on their own, for tests and demos: inbound messages, echoes from
Page Inbox, deliveries, reads, reactions, WhatsApp statuses, template decisions, feed activity.

Each returns what happened, including whether a webhook was queued and, if not, why (the
asset may not have subscribed the app, as on Meta).
"""

from __future__ import annotations

import base64
from typing import Any

from graph_client.sandbox.core import Core
from graph_client.sandbox.events import PAGE_INBOX_APP_ID
from graph_client.sandbox.models import (
    WABA,
    Conversation,
    IGUser,
    Page,
    Person,
    PhoneNumber,
    Post,
    Template,
    WAMessage,
)
from graph_client.sandbox.routes import messenger, posts, wa_templates, whatsapp


class SimulationError(LookupError):
    """The simulation names something the sandbox does not have."""


def _page_and_platform(core: Core, page_id: str | None, ig_user_id: str | None) -> tuple[Page, str]:
    if ig_user_id:
        ig = core.store.get(ig_user_id)
        if not isinstance(ig, IGUser):
            raise SimulationError(f"no Instagram account {ig_user_id}")
        page = core.store.page(ig.page_id)
        platform = "instagram"
    else:
        page = core.store.page(page_id or "")
        platform = "messenger"
    if page is None:
        raise SimulationError(f"no Page {page_id}")
    return page, platform


def conversation_for(
    core: Core,
    *,
    page_id: str | None = None,
    ig_user_id: str | None = None,
    person_id: str | None = None,
    person_name: str | None = None,
) -> Conversation:
    """The conversation with ``person_id``; a new person (and conversation) for ``person_name``;
    otherwise the Page's most recent conversation on that platform."""
    page, platform = _page_and_platform(core, page_id, ig_user_id)
    store = core.store
    if person_id:
        conv = store.conversation_with(page.id, person_id)
        if conv is None or conv.platform != platform:
            raise SimulationError(f"no {platform} conversation with {person_id} on {page.id}")
        return conv
    if person_name:
        return _new_conversation(core, page, platform, person_name)
    convs = [c for c in page.conversations if c.platform == platform]
    if not convs:
        return _new_conversation(core, page, platform, "Sandbox Visitor")
    return max(convs, key=lambda c: c.updated_time)


def _new_conversation(core: Core, page: Page, platform: str, name: str) -> Conversation:
    store = core.store
    first, _, last = name.partition(" ")
    person = Person(
        id=store.ids.fresh_numeric("person", digits=16),
        platform=platform,
        page_id=page.id,
        name=name,
        first_name=first,
        last_name=last,
    )
    if platform == "instagram":
        person.username = "".join(ch for ch in name.lower() if ch.isalnum() or ch == ".")
    store.add(person.id, person)
    number = store.ids.fresh_numeric("conv", digits=15)
    conv_id = (
        base64.urlsafe_b64encode(f"ig_t:{number}".encode()).decode().rstrip("=")
        if platform == "instagram"
        else f"t_{number}"
    )
    conv = Conversation(conv_id, page.id, platform, person.id, "inbox", core.now(), messages=[])
    page.conversations.append(conv)
    store.add(conv.id, conv)
    return conv


def inbound_message(
    core: Core,
    *,
    text: str | None = "Hello!",
    attachments: list[dict[str, Any]] | None = None,
    reply_to: str | None = None,
    **who: Any,
) -> dict[str, Any]:
    conv = conversation_for(core, **who)
    message, webhook = messenger.receive_from_person(core, conv, text, attachments, reply_to)
    return {
        "message_id": message.id,
        "conversation_id": conv.id,
        "sender_id": conv.person_id,
        "webhook": webhook,
    }


def echo(core: Core, *, text: str = "Sent from Page Inbox", **who: Any) -> dict[str, Any]:
    conv = conversation_for(core, **who)
    message = messenger.send_from_page(core, conv, text, None, app_id=str(PAGE_INBOX_APP_ID))
    return {"message_id": message.id, "conversation_id": conv.id, "webhook": "echo queued"}


def delivery(core: Core, **who: Any) -> dict[str, Any]:
    conv = conversation_for(core, **who)
    mids = [m.id for m in core.store.messages_of(conv) if m.from_page][-1:]
    return {
        "conversation_id": conv.id,
        "mids": mids,
        "webhook": messenger.delivery(core, conv, mids),
    }


def read(core: Core, **who: Any) -> dict[str, Any]:
    conv = conversation_for(core, **who)
    return {"conversation_id": conv.id, "webhook": messenger.read(core, conv)}


def reaction(
    core: Core,
    *,
    message_id: str | None = None,
    reaction: str = "love",
    emoji: str = "\u2764\ufe0f",
    action: str = "react",
    **who: Any,
) -> dict[str, Any]:
    conv = conversation_for(core, **who)
    messages = core.store.messages_of(conv)
    target = next((m for m in messages if m.id == message_id), None) if message_id else None
    if target is None:
        outbound = [m for m in messages if m.from_page]
        if message_id or not outbound:
            raise SimulationError(f"no message {message_id or '(sent by the Page)'} to react to")
        target = outbound[-1]
    webhook = messenger.react(core, conv, target, reaction, emoji, action)
    return {"conversation_id": conv.id, "message_id": target.id, "webhook": webhook}


def _phone(core: Core, phone_number_id: str) -> PhoneNumber:
    phone = core.store.get(phone_number_id)
    if not isinstance(phone, PhoneNumber):
        raise SimulationError(f"no WhatsApp phone number {phone_number_id}")
    return phone


def wa_inbound(
    core: Core,
    *,
    phone_number_id: str,
    wa_id: str | None = None,
    name: str = "Sheena Nelson",
    text: str = "Hello!",
) -> dict[str, Any]:
    phone = _phone(core, phone_number_id)
    sender = wa_id or f"1650555{len(phone.contacts) % 10**4:04d}"
    message, webhook = whatsapp.receive_wa_message(core, phone, sender, name, text)
    return {"message_id": message.id, "wa_id": sender, "webhook": webhook}


def wa_status(
    core: Core, *, message_id: str, status: str = "delivered", error_code: int | None = None
) -> dict[str, Any]:
    for obj in core.store.objects.values():
        if isinstance(obj, PhoneNumber) and message_id in obj.messages:
            message: WAMessage = obj.messages[message_id]
            errors = None
            if status == "failed":
                code = error_code or 131049
                errors = [
                    {
                        "code": code,
                        "title": "This message was not delivered to maintain healthy ecosystem "
                        "engagement.",
                        "message": "This message was not delivered to maintain healthy "
                        "ecosystem engagement.",
                        "error_data": {
                            "details": "In order to maintain a healthy ecosystem "
                            "engagement, the message failed to be delivered."
                        },
                        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/"
                        "error-codes/",
                    }
                ]
            webhook = whatsapp.wa_status(core, obj, message, status, errors)
            return {"message_id": message_id, "status": status, "webhook": webhook}
    raise SimulationError(f"no WhatsApp message {message_id}")


def template_status(
    core: Core, *, template_id: str, event: str = "APPROVED", reason: str | None = None
) -> dict[str, Any]:
    template = core.store.get(template_id)
    if not isinstance(template, Template):
        raise SimulationError(f"no template {template_id}")
    waba = core.store.get(template.waba_id)
    assert isinstance(waba, WABA)
    event = event.upper()
    rejection = dict(wa_templates.REJECTION) if event == "REJECTED" else None
    default_reason = "INVALID_FORMAT" if event == "REJECTED" else "NONE"
    core.store.timers.pop(template.id, None)
    webhook = wa_templates.set_template_status(
        core, waba, template, event, reason or default_reason, rejection
    )
    return {"template_id": template.id, "status": template.status, "webhook": webhook}


def feed(
    core: Core,
    *,
    page_id: str,
    item: str = "comment",
    verb: str = "add",
    message: str = "Nice post!",
    post_id: str | None = None,
    from_name: str = "Sheena Nelson",
    reaction_type: str = "like",
) -> dict[str, Any]:
    page = core.store.page(page_id)
    if page is None:
        raise SimulationError(f"no Page {page_id}")
    from_id = core.store.ids.numeric("fan", from_name, digits=17)
    now = core.now()
    post = (
        core.store.get(post_id)
        if post_id
        else (max(page.posts, key=lambda p: p.created_time) if page.posts else None)
    )
    if item != "status" and not isinstance(post, Post):
        raise SimulationError(f"no post {post_id or '(the Page has none)'}")
    value: dict[str, Any] = {"from": {"id": from_id, "name": from_name}}
    result: dict[str, Any] = {}
    if item == "comment" and isinstance(post, Post):
        comment = posts.add_comment(core, post, message, from_id, from_name, None)
        value.update(
            {
                "post": {"status_type": post.status_type, "is_published": post.is_published},
                "message": message,
                "post_id": post.id,
                "comment_id": comment.id,
                "created_time": int(now),
                "item": "comment",
                "parent_id": post.id,
                "verb": verb,
            }
        )
        result["comment_id"] = comment.id
    elif item == "reaction" and isinstance(post, Post):
        if verb == "add":
            post.reactions[reaction_type] = post.reactions.get(reaction_type, 0) + 1
        value.update(
            {
                "item": "reaction",
                "post_id": post.id,
                "verb": verb,
                "reaction_type": reaction_type,
                "created_time": int(now),
                "parent_id": post.id,
            }
        )
    else:
        value.update(
            {
                "item": item,
                "post_id": post.id if isinstance(post, Post) else f"{page.id}_0",
                "verb": verb,
                "published": 1,
                "created_time": int(now),
                "message": message,
            }
        )
    result["webhook"] = posts.feed_event(core, page, value)
    return result
