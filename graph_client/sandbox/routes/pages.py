"""Pages: the Page node, its profile updates and ``subscribed_apps``.

Posts, photos, videos and comments live in ``posts.py``; conversations in ``messenger.py``;
insights in ``insights.py``. Each attaches its edges to :data:`PAGE_NODE`.
"""

from __future__ import annotations

from typing import Any

from graph_client.sandbox import auth
from graph_client.sandbox.context import TRANSPORT_PARAMS, Ctx
from graph_client.sandbox.errors import invalid_parameter, missing_parameter, page_token_required
from graph_client.sandbox.fields import parse_list
from graph_client.sandbox.graph import KINDS, Kind, route
from graph_client.sandbox.models import Page
from graph_client.sandbox.render import Field, NodeType, plain, register
from graph_client.sandbox.routes.oauth import page_access_token, page_tasks

PAGE_WEBHOOK_FIELDS = frozenset(
    {
        "messages",
        "messaging_postbacks",
        "messaging_optins",
        "messaging_referrals",
        "messaging_handovers",
        "messaging_policy_enforcement",
        "message_deliveries",
        "message_reads",
        "message_echoes",
        "message_reactions",
        "message_edits",
        "standby",
        "feed",
        "mention",
        "inbox_labels",
    }
)
# Updatable profile fields kept as written (POST /{page-id}).
_EXTRA_FIELDS = (
    "bio",
    "company_overview",
    "mission",
    "general_info",
    "hours",
    "location",
    "parking",
    "price_range",
    "impressum",
    "temporary_status",
    "is_permanently_closed",
)
_DIRECT_FIELDS = ("about", "description", "phone", "website")


def require_page_token(ctx: Ctx, page: Page) -> None:
    token = ctx.token
    if token is None or token.kind != "PAGE" or token.page_id != page.id:
        raise page_token_required()


# --- the Page node ---------------------------------------------------------------------------


def _page_picture(ctx: Ctx, page: Page, spec: Any) -> dict[str, Any]:
    url = f"https://scontent.xx.fbcdn.net/v/t39.30808-1/{page.id}_n.jpg"
    return {"data": {"height": 50, "is_silhouette": False, "url": url, "width": 50}}


def _unread(ctx: Ctx, page: Page, spec: Any) -> int:
    return sum(conv.unread_count for conv in page.conversations)


def extra_field(name: str) -> Field:
    return Field(lambda c, page, s: page.extra.get(name))


_page_fields: dict[str, Field] = {
    "id": plain("id"),
    "name": plain("name"),
    "about": plain("about"),
    "category": plain("category"),
    "category_list": Field(lambda c, p, s: [{"id": p.category_id, "name": p.category}]),
    "description": plain("description"),
    "emails": Field(lambda c, p, s: list(p.emails) or None),
    "fan_count": plain("fan_count"),
    "followers_count": plain("followers_count"),
    "phone": plain("phone"),
    "website": plain("website"),
    "link": Field(lambda c, p, s: f"https://www.facebook.com/{p.id}"),
    "username": plain("username"),
    "picture": Field(_page_picture),
    "cover": Field(lambda c, p, s: None),
    "verification_status": Field(lambda c, p, s: "not_verified"),
    "is_published": Field(lambda c, p, s: True),
    "unread_message_count": Field(_unread),
    "unseen_message_count": Field(_unread),
    "unread_notif_count": Field(lambda c, p, s: 0),
    "has_transitioned_to_new_page_experience": Field(lambda c, p, s: True),
    "instagram_business_account": Field(
        lambda c, p, s: c.store.get(p.ig_user_id) if p.ig_user_id else None, node="IGUser"
    ),
    "connected_instagram_account": Field(
        lambda c, p, s: c.store.get(p.ig_user_id) if p.ig_user_id else None, node="IGUser"
    ),
    "access_token": Field(lambda c, p, s: page_access_token(c, p)),
    "tasks": Field(lambda c, p, s: page_tasks(c, p)),
}
_page_fields.update({name: extra_field(name) for name in _EXTRA_FIELDS})

PAGE_NODE = register(
    NodeType(
        "Page",
        _page_fields,
        default_fields=("name", "id"),
    )
)


def _page_visible(ctx: Ctx, page: Page) -> bool:
    return ctx.token is not None and auth.can_see_page(ctx.store, ctx.token, page.id)


KINDS[Page] = Kind("Page", _page_visible, lambda ctx, page: (page.id, "pages"))


# --- Page updates and subscribed_apps -------------------------------------------------------


@route(Page, None, "POST")
def update_page(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    for name, value in ctx.params.items():
        if name in TRANSPORT_PARAMS:
            continue
        if name in _DIRECT_FIELDS:
            setattr(page, name, str(value))
        elif name == "emails":
            emails = ctx.json_param("emails")
            page.emails = [str(e) for e in (emails if isinstance(emails, list) else [emails])]
        elif name in _EXTRA_FIELDS:
            page.extra[name] = ctx.json_param(name)
        else:
            raise invalid_parameter(f"Param {name} is not a valid field for updating a Page")
    return {"success": True}


@route(Page, "subscribed_apps", "GET")
def get_subscribed_apps(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    return {"data": subscribed_apps_data(ctx, page.subscribed_apps)}


def subscribed_apps_data(ctx: Ctx, subscribed: dict[str, list[str]]) -> list[dict[str, Any]]:
    app = ctx.store.app
    if app.id not in subscribed:
        return []
    return [
        {
            "category": "Business",
            "link": f"https://www.facebook.com/games/?app_id={app.id}",
            "name": app.name,
            "id": app.id,
            "subscribed_fields": list(subscribed[app.id]),
        }
    ]


@route(Page, "subscribed_apps", "POST")
def subscribe_page(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    raw = ctx.param("subscribed_fields")
    if not raw:
        raise missing_parameter("subscribed_fields")
    fields = parse_list(raw)
    for index, name in enumerate(fields):
        if name not in PAGE_WEBHOOK_FIELDS:
            allowed = ", ".join(sorted(PAGE_WEBHOOK_FIELDS))
            raise invalid_parameter(
                f'param subscribed_fields[{index}] must be one of {{{allowed}}} - got "{name}"'
            )
    page.subscribed_apps[ctx.store.app.id] = fields
    return {"success": True}


@route(Page, "subscribed_apps", "DELETE")
def unsubscribe_page(ctx: Ctx, page: Page) -> dict[str, Any]:
    require_page_token(ctx, page)
    page.subscribed_apps.pop(ctx.store.app.id, None)
    return {"success": True}
