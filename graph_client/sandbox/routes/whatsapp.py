"""WhatsApp Business Management and Cloud API: accounts, phone numbers, business profiles,
sending, read receipts and typing indicators.

Templates are in ``wa_templates.py`` and analytics in ``wa_analytics.py``. Free-form messages to
someone who has not written in the last 24 h are accepted and then fail with a 131047 status
webhook, as on Meta.
"""

from __future__ import annotations

from typing import Any

from graph_client.sandbox import auth, events
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.core import Core
from graph_client.sandbox.errors import MetaError, invalid_parameter, missing_parameter
from graph_client.sandbox.graph import KINDS, Kind, route, selection
from graph_client.sandbox.ids import whatsapp_mid
from graph_client.sandbox.models import WABA, PhoneNumber, Template, WAContact, WAMessage
from graph_client.sandbox.render import Edge, Field, NodeType, plain, register
from graph_client.sandbox.routes.pages import subscribed_apps_data
from graph_client.sandbox.store import Store

WINDOW_SECONDS = 24 * 3600


def _wa_error(message: str, code: int, details: str, status: int = 400) -> MetaError:
    return MetaError(
        message,
        code,
        status=status,
        error_data={"messaging_product": "whatsapp", "details": details},
    )


def waba_visible(ctx: Ctx, waba: WABA) -> bool:
    return ctx.token is not None and auth.can_see_waba(ctx.store, ctx.token, waba.id)


def waba_of(store: Store, waba_id: str) -> WABA:
    waba = store.get(waba_id)
    assert isinstance(waba, WABA)
    return waba


WABA_NODE = register(
    NodeType(
        "WhatsAppBusinessAccount",
        {
            "id": plain("id"),
            "name": plain("name"),
            "currency": plain("currency"),
            "timezone_id": plain("timezone_id"),
            "message_template_namespace": plain("message_template_namespace"),
            "account_review_status": Field(lambda c, o, s: "APPROVED"),
            "business_verification_status": Field(lambda c, o, s: "verified"),
        },
        edges={
            "phone_numbers": Edge(
                lambda c, w, p: list(w.phone_numbers),
                "WhatsAppBusinessPhoneNumber",
                path=lambda w: f"{w.id}/phone_numbers",
                fields=("verified_name", "display_phone_number", "id", "quality_rating"),
            ),
        },
        default_fields=("id", "name", "timezone_id", "message_template_namespace"),
    )
)
KINDS[WABA] = Kind(
    "WhatsAppBusinessAccount", waba_visible, lambda ctx, w: (w.id, "whatsapp_business_management")
)

register(
    NodeType(
        "WhatsAppBusinessPhoneNumber",
        {
            "id": plain("id"),
            "display_phone_number": plain("display_phone_number"),
            "verified_name": plain("verified_name"),
            "quality_rating": plain("quality_rating"),
            "code_verification_status": plain("code_verification_status"),
            "name_status": plain("name_status"),
            "status": plain("status"),
            "messaging_limit_tier": plain("messaging_limit_tier"),
            "throughput": Field(lambda c, o, s: {"level": o.throughput_level}),
            "platform_type": plain("platform_type"),
            "is_official_business_account": plain("is_official_business_account"),
            "account_mode": Field(lambda c, o, s: "LIVE"),
        },
        default_fields=(
            "code_verification_status",
            "display_phone_number",
            "id",
            "quality_rating",
            "verified_name",
        ),
    )
)
KINDS[PhoneNumber] = Kind(
    "WhatsAppBusinessPhoneNumber",
    lambda ctx, p: waba_visible(ctx, waba_of(ctx.store, p.waba_id)),
    lambda ctx, p: (p.waba_id, "whatsapp_business_management"),
)


# --- subscribed apps and the business profile --------------------------------------------------


@route(WABA, "subscribed_apps", "GET")
def waba_subscribed_apps(ctx: Ctx, waba: WABA) -> dict[str, Any]:
    data = subscribed_apps_data(ctx, waba.subscribed_apps)
    return {
        "data": [
            {"whatsapp_business_api_data": {"link": d["link"], "name": d["name"], "id": d["id"]}}
            for d in data
        ]
    }


@route(WABA, "subscribed_apps", "POST")
def waba_subscribe(ctx: Ctx, waba: WABA) -> dict[str, Any]:
    waba.subscribed_apps[ctx.store.app.id] = ["messages", "message_template_status_update"]
    return {"success": True}


@route(WABA, "subscribed_apps", "DELETE")
def waba_unsubscribe(ctx: Ctx, waba: WABA) -> dict[str, Any]:
    waba.subscribed_apps.pop(ctx.store.app.id, None)
    return {"success": True}


_PROFILE_FIELDS = (
    "about",
    "address",
    "description",
    "email",
    "profile_picture_url",
    "websites",
    "vertical",
)


@route(PhoneNumber, "whatsapp_business_profile", "GET")
def get_profile(ctx: Ctx, phone: PhoneNumber) -> dict[str, Any]:
    specs = selection(ctx)
    names = [s.name for s in specs] if specs else list(_PROFILE_FIELDS)
    item: dict[str, Any] = {}
    for name in names:
        if name not in _PROFILE_FIELDS and name != "messaging_product":
            raise MetaError(
                f"(#100) Tried accessing nonexisting field ({name}) on node type "
                "(WhatsAppBusinessProfile)",
                100,
            )
        if phone.profile.get(name) not in (None, "", []):
            item[name] = phone.profile[name]
    item["messaging_product"] = "whatsapp"
    return {"data": [item]}


@route(PhoneNumber, "whatsapp_business_profile", "POST")
def update_profile(ctx: Ctx, phone: PhoneNumber) -> dict[str, Any]:
    if ctx.param("messaging_product") != "whatsapp":
        raise missing_parameter("messaging_product")
    about = ctx.param("about")
    if about is not None and len(about) > 139:
        raise invalid_parameter("Param about must be at most 139 characters long")
    websites = ctx.json_param("websites")
    if websites is not None:
        if not isinstance(websites, list) or len(websites) > 2:
            raise invalid_parameter("Param websites must be a list of at most 2 URLs")
        phone.profile["websites"] = [str(w) for w in websites]
    for name in ("about", "address", "description", "email", "vertical"):
        value = ctx.param(name)
        if value is not None:
            phone.profile[name] = value
    if ctx.param("profile_picture_handle"):
        phone.profile["profile_picture_url"] = f"https://pps.whatsapp.net/v/t61/{phone.id}.jpg"
    return {"success": True}


# --- sending ------------------------------------------------------------------------------------


@route(PhoneNumber, "messages", "POST")
def send_message(ctx: Ctx, phone: PhoneNumber) -> dict[str, Any]:
    if ctx.param("messaging_product") != "whatsapp":
        raise missing_parameter("messaging_product")
    if ctx.param("status") == "read":
        return _mark_read(ctx, phone)
    to = ctx.require("to")
    wa_id = "".join(ch for ch in to if ch.isdigit())
    if not wa_id:
        raise _wa_error("(#100) Invalid parameter", 100, "Invalid recipient phone number")
    kind = ctx.param("type") or "text"
    body = ctx.json_param(kind)
    if not isinstance(body, dict):
        raise _wa_error(
            "(#131008) Required parameter is missing", 131008, f"Parameter '{kind}' is required"
        )
    waba = waba_of(ctx.store, phone.waba_id)
    category = "service"
    reply: dict[str, Any] = {}
    if kind == "template":
        template = _find_template(waba, body)
        if template is None:
            language = (body.get("language") or {}).get("code", "")
            raise _wa_error(
                "(#132001) Template name does not exist in the translation",
                132001,
                f"template name ({body.get('name')}) does not exist in {language}",
                status=404,
            )
        category = template.category.lower()
        reply["message_status"] = "accepted"
    elif kind == "text" and not body.get("body"):
        raise _wa_error("(#100) Invalid parameter", 100, "Parameter 'text.body' is required")
    message = WAMessage(
        id=whatsapp_mid(phone.id, wa_id, len(phone.messages), ctx.now),
        phone_number_id=phone.id,
        wa_id=wa_id,
        inbound=False,
        type=kind,
        timestamp=ctx.now,
        body=body,
        category=category,
    )
    phone.messages[message.id] = message
    contact = phone.contacts.get(wa_id)
    in_window = (
        contact is not None
        and contact.last_inbound_at is not None
        and ctx.now - contact.last_inbound_at <= WINDOW_SECONDS
    )
    if kind != "template" and not in_window:
        message.status = "failed"
        wa_status(ctx.core, phone, message, "failed", errors=[_re_engagement_error()])
    elif ctx.core.config.auto_receipts:
        wa_status(ctx.core, phone, message, "sent")
        wa_status(ctx.core, phone, message, "delivered")
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": wa_id}],
        "messages": [{"id": message.id, **reply}],
    }


def _re_engagement_error() -> dict[str, Any]:
    return {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {
            "details": "Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number."
        },
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def _find_template(waba: WABA, body: dict[str, Any]) -> Template | None:
    language = (body.get("language") or {}).get("code")
    for template in waba.templates:
        if (
            template.name == body.get("name")
            and template.language == language
            and template.status == "APPROVED"
        ):
            return template
    return None


def _mark_read(ctx: Ctx, phone: PhoneNumber) -> dict[str, Any]:
    message_id = ctx.require("message_id")
    message = phone.messages.get(message_id)
    if message is None or not message.inbound:
        raise _wa_error("(#100) Invalid parameter", 100, f"Invalid message id {message_id}")
    # Marking one message read marks the earlier ones of that person read too.
    for other in phone.messages.values():
        if other.inbound and other.wa_id == message.wa_id and other.timestamp <= message.timestamp:
            other.status = "read"
    typing = ctx.json_param("typing_indicator")
    ctx.store.sender_actions.append(
        {
            "phone_number_id": phone.id,
            "message_id": message_id,
            "status": "read",
            "typing_indicator": typing if isinstance(typing, dict) else None,
            "at": ctx.now,
        }
    )
    return {"success": True}


def wa_status(
    core: Core,
    phone: PhoneNumber,
    message: WAMessage,
    status: str,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if status != "failed":
        message.status = status
    value = events.wa_metadata(phone.digits, phone.id)
    value["statuses"] = [
        events.wa_status(message.id, status, core.now(), message.wa_id, message.category, errors)
    ]
    waba = core.store.get(phone.waba_id)
    assert isinstance(waba, WABA)
    payload = events.whatsapp(waba.id, value)
    return core.deliver(
        payload,
        obj="whatsapp_business_account",
        field="messages",
        subscribed=waba.subscribed_apps.get(core.store.app.id),
    )


def receive_wa_message(
    core: Core, phone: PhoneNumber, wa_id: str, name: str, text: str
) -> tuple[WAMessage, dict[str, Any]]:
    contact = phone.contacts.setdefault(wa_id, WAContact(wa_id, name))
    contact.last_inbound_at = core.now()
    message = WAMessage(
        id=whatsapp_mid(phone.id, wa_id, len(phone.messages), core.now()),
        phone_number_id=phone.id,
        wa_id=wa_id,
        inbound=True,
        type="text",
        timestamp=core.now(),
        body={"body": text},
        status="received",
    )
    phone.messages[message.id] = message
    value = events.wa_metadata(phone.digits, phone.id)
    value["contacts"] = [{"profile": {"name": contact.name}, "wa_id": wa_id}]
    value["messages"] = [
        {
            "from": wa_id,
            "id": message.id,
            "timestamp": str(int(message.timestamp)),
            "type": "text",
            "text": {"body": text},
        }
    ]
    waba = core.store.get(phone.waba_id)
    assert isinstance(waba, WABA)
    result = core.deliver(
        events.whatsapp(waba.id, value),
        obj="whatsapp_business_account",
        field="messages",
        subscribed=waba.subscribed_apps.get(core.store.app.id),
    )
    return message, result
