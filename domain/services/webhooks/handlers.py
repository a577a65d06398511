"""The effect of each kind of unit event, inside the transaction that records it applied."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from domain.models import (
    MESSAGE_STATUS_RANK,
    Contact,
    Conversation,
    Message,
    MessageDirection,
    MessageStatus,
    Notification,
    Post,
    PostStatus,
    Template,
)
from domain.services.webhooks.comments import on_comment
from domain.services.webhooks.events import UnitEvent
from domain.services.whatsapp_templates import publish_status
from domain.uow import UnitOfWork

if TYPE_CHECKING:
    from domain.services.webhooks.apply import Target

Profile = tuple[str | None, str | None] | None


class NotStoredYet(Exception):
    """The event is about something metasync has not stored yet (a reaction or a status
    that overtook its message; a read before the conversation's first message). Meta does
    not order deliveries, so the event waits for it instead of being dropped."""


Handler = Callable[[UnitOfWork, "Target", UnitEvent, Profile], Awaitable[None]]


def events_channel(channel_id: uuid.UUID) -> str:
    """Live conversation events of a Page or WhatsApp account (GraphQL subscriptions)."""
    return f"conversation_events:{channel_id}"


def _channel_id(target: Target) -> uuid.UUID:
    owner = target.page or target.whatsapp
    assert owner is not None
    return owner.id


def _publish(uow: UnitOfWork, target: Target, kind: str, conv: Conversation, **extra: Any) -> None:
    uow.publish(
        events_channel(_channel_id(target)),
        {"type": kind, "conversation_id": str(conv.id), **extra},
    )


async def _contact(
    uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile, name: str | None = None
) -> Contact:
    assert unit.person_id is not None
    scope: Any = (
        Contact.page_id == target.page.id
        if target.page is not None
        else Contact.whatsapp_account_id == _channel_id(target)
    )
    contact = (
        await uow.session.execute(
            select(Contact).where(
                scope,
                Contact.platform == unit.platform,
                Contact.platform_user_id == unit.person_id,
            )
        )
    ).scalar_one_or_none()
    if contact is not None:
        return contact
    found_name, picture = profile or (name, None)
    contact = Contact(
        id=uuid.uuid4(),
        organization_id=target.organization_id,
        page_id=target.page.id if target.page else None,
        whatsapp_account_id=target.whatsapp.id if target.whatsapp else None,
        platform=unit.platform,
        platform_user_id=unit.person_id,
        # A placeholder until the profile API answers (the next contacts sync fills it).
        name=found_name or name or f"{unit.platform.title()} user {unit.person_id[-4:]}",
        meta_name=found_name or name,
        picture_url=picture,
        meta_picture_url=picture,
    )
    uow.session.add(contact)
    await uow.session.flush()
    return contact


async def _conversation(
    uow: UnitOfWork, target: Target, unit: UnitEvent, contact: Contact
) -> Conversation:
    """The conversation with this person. Webhooks do not name Meta's conversation id, so
    a new one gets a provisional id that the next sync replaces with Meta's."""
    scope: Any = (
        Conversation.page_id == target.page.id
        if target.page is not None
        else Conversation.whatsapp_account_id == _channel_id(target)
    )
    conv = (
        await uow.session.execute(
            select(Conversation)
            .where(
                scope,
                Conversation.contact_id == contact.id,
                Conversation.deleted_at.is_(None),
            )
            .with_for_update()  # see CONCURRENT below
        )
    ).scalar_one_or_none()
    if conv is None:
        owner = target.page.meta_page_id if target.page else target.whatsapp.waba_id  # type: ignore[union-attr]
        conv = Conversation(
            id=uuid.uuid4(),
            organization_id=target.organization_id,
            page_id=target.page.id if target.page else None,
            whatsapp_account_id=target.whatsapp.id if target.whatsapp else None,
            contact_id=contact.id,
            platform=unit.platform,
            meta_conversation_id=provisional_id(owner, unit.platform, contact.platform_user_id),
            updated_time=unit.at,
        )
        uow.session.add(conv)
        await uow.session.flush()
    return conv


def provisional_id(owner: str, platform: str, person: str) -> str:
    return f"pending:{platform}:{owner}:{person}"


def _text_and_attachments(message: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    quick = message.get("quick_reply")
    if isinstance(quick, dict):
        attachments.append({"type": "quick_reply", "payload": quick.get("payload")})
    return message.get("text"), attachments


async def _insert_message(
    uow: UnitOfWork,
    target: Target,
    conv: Conversation,
    mid: str,
    *,
    direction: MessageDirection,
    at: datetime,
    text: str | None,
    attachments: list[dict[str, Any]],
    **extra: Any,
) -> Message | None:
    """The message unless it exists already (sent by us, or seen by a sync first)."""
    existing = (
        await uow.session.execute(
            select(Message).where(
                Message.organization_id == target.organization_id, Message.meta_message_id == mid
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return None
    status = (
        _status_from_watermarks(conv, at)
        if direction == MessageDirection.OUTBOUND
        else MessageStatus.RECEIVED
    )
    row = Message(
        id=uuid.uuid4(),
        organization_id=target.organization_id,
        conversation_id=conv.id,
        meta_message_id=mid,
        direction=direction.value,
        status=status.value,
        text=text,
        attachments=attachments,
        created_time=at,
        **extra,
    )
    uow.session.add(row)
    if at >= conv.updated_time:
        conv.updated_time = at
        conv.snippet = (text or (attachments[0].get("type") if attachments else None) or "")[:500]
    if direction == MessageDirection.INBOUND:
        conv.unread_count += 1
    return row


def _status_from_watermarks(conv: Conversation, at: datetime) -> MessageStatus:
    """A read or delivery receipt that arrived before this message covers it already."""
    if conv.read_watermark is not None and at <= conv.read_watermark:
        return MessageStatus.READ
    if conv.delivery_watermark is not None and at <= conv.delivery_watermark:
        return MessageStatus.DELIVERED
    return MessageStatus.SENT


async def on_message(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    contact = await _contact(uow, target, unit, profile)
    conv = await _conversation(uow, target, unit, contact)
    text, attachments = _text_and_attachments(unit.payload)
    reply_to = (unit.payload.get("reply_to") or {}).get("mid")
    row = await _insert_message(
        uow, target, conv, str(unit.payload.get("mid")),
        direction=MessageDirection.INBOUND, at=unit.at, text=text, attachments=attachments,
        sender_id=unit.person_id, reply_to_meta_id=reply_to,
    )  # fmt: skip
    if row is not None:
        _publish(uow, target, "message", conv, message_id=str(row.id))


async def on_echo(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    """Our own sends come back as echoes (matched by mid: already stored); so do messages a
    person typed in Meta's inbox (``app_id`` 263902037430900), which are new to us."""
    contact = await _contact(uow, target, unit, profile)
    conv = await _conversation(uow, target, unit, contact)
    text, attachments = _text_and_attachments(unit.payload)
    app_id = unit.payload.get("app_id")
    row = await _insert_message(
        uow, target, conv, str(unit.payload.get("mid")),
        direction=MessageDirection.OUTBOUND, at=unit.at, text=text, attachments=attachments,
        recipient_id=unit.person_id, app_id=str(app_id) if app_id else None,
    )  # fmt: skip
    if row is not None:
        _publish(uow, target, "message", conv, message_id=str(row.id))


async def _conversation_of(uow: UnitOfWork, target: Target, unit: UnitEvent) -> Conversation | None:
    if target.page is None or not unit.person_id:
        return None
    return (
        await uow.session.execute(
            select(Conversation)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(
                Conversation.page_id == target.page.id,
                Contact.platform_user_id == unit.person_id,
                Contact.platform == unit.platform,
            )
            .with_for_update(of=Conversation)  # see CONCURRENT below
        )
    ).scalar_one_or_none()


async def _advance(uow: UnitOfWork, conv: Conversation, to: MessageStatus, until: datetime) -> None:
    """Outbound messages up to the watermark reach ``to``; a status never goes backwards."""
    lower = [s.value for s, rank in MESSAGE_STATUS_RANK.items() if rank < MESSAGE_STATUS_RANK[to]]
    await uow.session.execute(
        update(Message)
        .where(
            Message.conversation_id == conv.id,
            Message.direction == MessageDirection.OUTBOUND.value,
            Message.created_time <= until,
            Message.status.in_([s for s in lower if s != MessageStatus.RECEIVED.value]),
        )
        .values(status=to.value)
    )


def _watermark(value: Any, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(float(value) / 1000, UTC)
    except (TypeError, ValueError):
        return default


async def on_delivery(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    conv = await _conversation_of(uow, target, unit)
    if conv is None:
        raise NotStoredYet(f"conversation with {unit.person_id}")
    mark = _watermark(unit.payload.get("watermark"), unit.at)
    await _advance(uow, conv, MessageStatus.DELIVERED, mark)
    conv.delivery_watermark = max(filter(None, [conv.delivery_watermark, mark]))
    _publish(uow, target, "delivery", conv, watermark=mark.isoformat())


async def on_read(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    conv = await _conversation_of(uow, target, unit)
    if conv is None:
        raise NotStoredYet(f"conversation with {unit.person_id}")
    mark = _watermark(unit.payload.get("watermark"), unit.at)
    await _advance(uow, conv, MessageStatus.READ, mark)
    conv.read_watermark = max(filter(None, [conv.read_watermark, mark]))
    _publish(uow, target, "read", conv, watermark=mark.isoformat())


async def _message_by_mid(uow: UnitOfWork, target: Target, mid: Any) -> Message | None:
    if not mid:
        return None
    return (
        await uow.session.execute(
            select(Message)
            .where(
                Message.organization_id == target.organization_id,
                Message.meta_message_id == str(mid),
            )
            .with_for_update()  # see CONCURRENT below
        )
    ).scalar_one_or_none()


# CONCURRENT: workers apply events of one conversation at the same time. Its counters and
# watermarks, and a message's status and reactions, are read, changed and written back, so
# the rows are locked until the event's transaction ends (PostgreSQL; SQLite has a single
# writer anyway). Without it two new messages counted one unread, and a late "delivered"
# could overwrite a "read" committed in between (found by bench/webhook_loss.py).


async def _stored_message(uow: UnitOfWork, target: Target, mid: Any) -> Message | None:
    """The message ``mid`` names; it may not be stored yet (None when no mid at all)."""
    if not mid:
        return None
    message = await _message_by_mid(uow, target, mid)
    if message is None:
        raise NotStoredYet(f"message {mid}")
    return message


async def on_reaction(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    """One reaction per person; the newest wins (a late older one changes nothing). Taking a
    reaction back leaves a ``removed`` entry carrying its time, so a react that Meta
    delivers after the newer unreact cannot bring it back."""
    message = await _stored_message(uow, target, unit.payload.get("mid"))
    if message is None:
        return
    at = unit.at.isoformat()
    current = next((r for r in message.reactions if r.get("by") == unit.person_id), None)
    if current is not None and str(current.get("at") or "") > at:
        return
    mine = [r for r in message.reactions if r.get("by") != unit.person_id]
    if unit.payload.get("action") == "unreact":
        entry = {"by": unit.person_id, "reaction": None, "emoji": None, "at": at, "removed": True}
    else:
        entry = {
            "by": unit.person_id,
            "reaction": unit.payload.get("reaction"),
            "emoji": unit.payload.get("emoji"),
            "at": at,
        }
    message.reactions = [*mine, entry]


async def on_postback(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    contact = await _contact(uow, target, unit, profile)
    conv = await _conversation(uow, target, unit, contact)
    mid = unit.payload.get("mid") or unit.key
    attachments = [{"type": "postback", "payload": unit.payload.get("payload")}]
    row = await _insert_message(
        uow, target, conv, str(mid), direction=MessageDirection.INBOUND, at=unit.at,
        text=unit.payload.get("title"), attachments=attachments, sender_id=unit.person_id,
    )  # fmt: skip
    if row is not None:
        _publish(uow, target, "message", conv, message_id=str(row.id))


async def on_edit(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    message = await _stored_message(uow, target, unit.payload.get("mid"))
    # The newest edit wins, whichever arrives last.
    if message is not None and (message.edited_at is None or unit.at >= message.edited_at):
        message.text = unit.payload.get("text", message.text)
        message.edited_at = unit.at


async def on_unsend(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    """The person took the message back: its content goes, its place in the thread stays."""
    message = await _stored_message(uow, target, unit.payload.get("mid"))
    if message is not None:
        message.deleted, message.text, message.attachments = True, None, []


async def on_feed(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    """Page posts added, edited or removed; comments on them (see ``comments``)."""
    value = unit.payload
    if target.page is not None and value.get("item") == "comment":
        await on_comment(uow, target, unit)
        return
    if target.page is None or value.get("item") not in ("status", "post", "photo", "video"):
        return
    post_id = str(value.get("post_id") or "")
    if not post_id:
        return
    # A video post is known to metasync by its video's id when metasync published it.
    known_ids = [post_id, *([str(value["video_id"])] if value.get("video_id") else [])]
    post = (
        (
            await uow.session.execute(
                select(Post).where(
                    Post.organization_id == target.organization_id,
                    Post.meta_post_id.in_(known_ids),
                )
            )
        )
        .scalars()
        .first()
    )
    verb = value.get("verb")
    if post is None and verb == "add" and await _publishing_it(uow, target, value):
        return  # metasync's own post, in flight: the publisher records it, not a mirror row
    if post is None and verb in ("add", "edited"):
        post = Post(
            id=uuid.uuid4(),
            organization_id=target.organization_id,
            page_id=target.page.id,
            platform="facebook",
            type="photo" if value.get("item") == "photo" else "text",
            status=PostStatus.PUBLISHED.value,
            meta_post_id=post_id,
            published_at=unit.at,
            idempotency_key=f"meta:{post_id}",
        )
        uow.session.add(post)
    if post is None:
        return
    if verb == "remove":
        post.deleted_at = unit.at
    elif value.get("message") is not None:
        post.message = value.get("message")


async def _publishing_it(uow: UnitOfWork, target: Target, value: dict[str, Any]) -> bool:
    """Whether the added post is one metasync is publishing itself and has no Meta id for
    yet: its webhook can beat the publish call's answer, or come when that answer was lost.
    Such a post is stored ``processing`` (or ``unconfirmed``) before Meta is called."""
    assert target.page is not None
    author = (value.get("from") or {}).get("id")
    if author is not None and str(author) != target.page.meta_page_id:
        return False
    message = value.get("message")
    in_flight = select(Post.id).where(
        Post.organization_id == target.organization_id,
        Post.page_id == target.page.id,
        Post.meta_post_id.is_(None),
        Post.deleted_at.is_(None),
        Post.status.in_([PostStatus.PROCESSING.value, PostStatus.UNCONFIRMED.value]),
        Post.message.is_(None) if message is None else Post.message == message,
    )
    return (await uow.session.execute(in_flight.limit(1))).first() is not None


async def on_wa_message(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    contact = await _contact(uow, target, unit, None, name=unit.payload.get("profile_name"))
    conv = await _conversation(uow, target, unit, contact)
    text, attachments = whatsapp_content(unit.payload)
    row = await _insert_message(
        uow, target, conv, str(unit.payload.get("id")), direction=MessageDirection.INBOUND,
        at=unit.at, text=text, attachments=attachments, sender_id=unit.person_id,
        reply_to_meta_id=(unit.payload.get("context") or {}).get("id"),
    )  # fmt: skip
    if row is not None:
        _publish(uow, target, "message", conv, message_id=str(row.id))


def whatsapp_content(message: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """Text and attachments of any WhatsApp message type."""
    kind = str(message.get("type", "unknown"))
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    assert isinstance(body, dict)
    if kind == "text":
        return body.get("body"), []
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or body.get("nfm_reply") or {}
        return reply.get("title") or reply.get("body"), [{"type": "interactive", **body}]
    if kind == "button":
        return body.get("text"), [{"type": "button", "payload": body.get("payload")}]
    if kind == "reaction":
        return None, [{"type": "reaction", **body}]
    return body.get("caption"), [{"type": kind, **body}]


async def on_wa_status(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    message = await _stored_message(uow, target, unit.payload.get("id"))
    if message is None:
        return
    try:
        new = MessageStatus(str(unit.payload.get("status")))
    except ValueError:
        return
    old = MessageStatus(message.status)
    if old == MessageStatus.FAILED or MESSAGE_STATUS_RANK[new] <= MESSAGE_STATUS_RANK[old]:
        return  # a late "delivered" after "read" is ignored; failed is final
    message.status = new.value
    if new == MessageStatus.FAILED:
        errors = unit.payload.get("errors") or []
        message.error = errors[0] if errors else {"message": "failed"}


async def on_wa_error(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    uow.session.add(
        Notification(
            id=uuid.uuid4(),
            organization_id=target.organization_id,
            kind="whatsapp_error",
            subject_type="whatsapp_account",
            subject_id=_channel_id(target),
            message=f"WhatsApp error {unit.payload.get('code')}: {unit.payload.get('title')}",
            payload=dict(unit.payload),
        )
    )


async def on_template(uow: UnitOfWork, target: Target, unit: UnitEvent, profile: Profile) -> None:
    template_id = unit.payload.get("message_template_id")
    if template_id is None or target.whatsapp is None:
        return
    template = (
        await uow.session.execute(
            select(Template).where(
                Template.whatsapp_account_id == target.whatsapp.id,
                Template.meta_template_id == str(template_id),
            )
        )
    ).scalar_one_or_none()
    if template is None:
        return
    value = unit.payload
    if unit.kind == "message_template_status_update" and value.get("event"):
        template.status = str(value["event"])
        template.rejected_reason = value.get("reason") if value["event"] == "REJECTED" else None
        publish_status(uow, template)
    elif unit.kind == "message_template_quality_update":
        template.quality_score = value.get("new_quality_score")
    elif unit.kind == "template_category_update" and value.get("new_category"):
        template.category = str(value["new_category"])


HANDLERS: dict[str, Handler] = {
    "message": on_message,
    "echo": on_echo,
    "delivery": on_delivery,
    "read": on_read,
    "reaction": on_reaction,
    "postback": on_postback,
    "edit": on_edit,
    "unsend": on_unsend,
    "feed": on_feed,
    "wa_message": on_wa_message,
    "wa_status": on_wa_status,
    "wa_error": on_wa_error,
    "message_template_status_update": on_template,
    "message_template_quality_update": on_template,
    "template_category_update": on_template,
}
