"""WhatsApp message templates: listing, creation, edits, deletion and review.

Review rule (sandbox): a new or edited template is ``PENDING`` for ``template_review_seconds``;
then it is ``REJECTED`` (reason ``INVALID_FORMAT``, with ``rejection_info``) when its name
contains ``reject``, else ``APPROVED``. A ``message_template_status_update`` webhook follows.
"""

from __future__ import annotations

import re
from typing import Any

from graph_client.sandbox import events
from graph_client.sandbox.context import Ctx
from graph_client.sandbox.core import Core
from graph_client.sandbox.errors import MetaError, invalid_parameter, missing_parameter
from graph_client.sandbox.graph import KINDS, Kind, route
from graph_client.sandbox.models import WABA, Template
from graph_client.sandbox.render import Edge, Field, NodeType, Params, plain, register
from graph_client.sandbox.routes.whatsapp import WABA_NODE, waba_of, waba_visible

NAME_REUSE_SECONDS = 30 * 86400
_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
_CATEGORIES = {"UTILITY", "MARKETING", "AUTHENTICATION"}
_EDITABLE = {"APPROVED", "REJECTED", "PAUSED"}
REJECTION = {
    "reason": "Your template has parameters placed next to each other (like {{1}}{{2}}) without "
    "text or punctuation between them.",
    "recommendation": "Separate parameters with descriptive text and ensure each parameter is "
    "clearly contextualized.",
}


def _templates(ctx: Ctx, waba: WABA, params: Params) -> list[Template]:
    name, status = params.get("name"), params.get("status")
    language, category = params.get("language"), params.get("category")
    return [
        t
        for t in waba.templates
        if (not name or name in t.name)
        and (not status or t.status == str(status).upper())
        and (not language or t.language == language)
        and (not category or t.category == str(category).upper())
    ]


WABA_NODE.edges["message_templates"] = Edge(
    _templates, "WhatsAppMessageTemplate", path=lambda w: f"{w.id}/message_templates"
)

register(
    NodeType(
        "WhatsAppMessageTemplate",
        {
            "id": plain("id"),
            "name": plain("name"),
            "status": plain("status"),
            "category": plain("category"),
            "language": plain("language"),
            "components": plain("components"),
            "parameter_format": plain("parameter_format"),
            "sub_category": plain("sub_category"),
            "previous_category": plain("previous_category"),
            "rejected_reason": Field(lambda c, o, s: o.rejected_reason or "NONE"),
            "quality_score": Field(lambda c, o, s: {"score": "UNKNOWN"}),
        },
        default_fields=(
            "name",
            "parameter_format",
            "components",
            "language",
            "status",
            "category",
            "sub_category",
            "id",
        ),
        label="WhatsAppBusinessHSM",
    )
)
KINDS[Template] = Kind(
    "WhatsAppMessageTemplate",
    lambda ctx, t: waba_visible(ctx, waba_of(ctx.store, t.waba_id)),
    lambda ctx, t: (t.waba_id, "whatsapp_business_management"),
)


# --- templates ----------------------------------------------------------------------------------


def _upper_components(components: Any) -> list[dict[str, Any]]:
    if not isinstance(components, list) or not components:
        raise invalid_parameter("Param components must be a non-empty list")
    out = []
    for component in components:
        if not isinstance(component, dict) or "type" not in component:
            raise invalid_parameter("Each component needs a type")
        item = dict(component)
        item["type"] = str(item["type"]).upper()
        if "format" in item:
            item["format"] = str(item["format"]).upper()
        if isinstance(item.get("buttons"), list):
            item["buttons"] = [
                {**b, "type": str(b.get("type", "")).upper()} if isinstance(b, dict) else b
                for b in item["buttons"]
            ]
        out.append(item)
    if not any(c["type"] == "BODY" for c in out):
        raise invalid_parameter("A template needs a BODY component")
    return out


@route(WABA, "message_templates", "POST")
def create_template(ctx: Ctx, waba: WABA) -> dict[str, Any]:
    name = ctx.require("name")
    language = ctx.require("language")
    category = ctx.require("category").upper()
    if not _NAME_RE.match(name):
        raise MetaError(
            "Invalid parameter",
            100,
            user_title="Invalid template name",
            user_msg="Template names may only contain lowercase letters, numbers and underscores.",
        )
    if category not in _CATEGORIES:
        allowed = ", ".join(sorted(_CATEGORIES))
        raise invalid_parameter(f'param category must be one of {{{allowed}}} - got "{category}"')
    components = _upper_components(ctx.json_param("components"))
    deleted_at = waba.deleted_names.get(name)
    if deleted_at is not None and ctx.now - deleted_at < NAME_REUSE_SECONDS:
        raise MetaError(
            "Invalid parameter",
            100,
            subcode=2388023,
            user_title="Message template is being deleted",
            user_msg=f"New {language} content can't be added while the existing {language} "
            "content is being deleted. Try again in 4 weeks or create a new message template.",
        )
    if any(t.name == name and t.language == language for t in waba.templates):
        raise MetaError(
            "Invalid parameter",
            100,
            subcode=2388024,
            user_title="Message template already exists",
            user_msg=f"Content in this language already exists for the template {name}.",
        )
    template = Template(
        id=ctx.store.ids.fresh_numeric("template", digits=16),
        waba_id=waba.id,
        name=name,
        language=language,
        category=category,
        status="PENDING",
        components=components,
        created_at=ctx.now,
        parameter_format=(ctx.param("parameter_format") or "positional").upper(),
    )
    waba.templates.append(template)
    ctx.store.add(template.id, template)
    _start_review(ctx.core, waba, template)
    return {"id": template.id, "status": template.status, "category": template.category}


@route(WABA, "message_templates", "DELETE")
def delete_template(ctx: Ctx, waba: WABA) -> dict[str, Any]:
    name = ctx.require("name")
    hsm_id = ctx.param("hsm_id")
    doomed = [t for t in waba.templates if t.name == name and (not hsm_id or t.id == hsm_id)]
    if not doomed:
        raise MetaError(
            "Invalid parameter",
            100,
            user_title="Message template not found",
            user_msg=f"The message template {name} could not be found.",
        )
    for template in doomed:
        waba.templates.remove(template)
        ctx.store.objects.pop(template.id, None)
    if not any(t.name == name for t in waba.templates):
        waba.deleted_names[name] = ctx.now
    return {"success": True}


@route(Template, None, "POST")
def edit_template(ctx: Ctx, template: Template) -> dict[str, Any]:
    if template.status not in _EDITABLE:
        raise MetaError(
            "Invalid parameter",
            100,
            user_title="Template can't be edited",
            user_msg=f"Templates with status {template.status} can't be edited.",
        )
    if (
        template.status == "APPROVED"
        and template.last_edit_at is not None
        and ctx.now - template.last_edit_at < 86400
    ):
        raise MetaError(
            "Invalid parameter",
            100,
            user_title="Edit limit reached",
            user_msg="An approved template can be edited once every 24 hours.",
        )
    if "components" not in ctx.params and "category" not in ctx.params:
        raise missing_parameter("components")
    if "components" in ctx.params:
        template.components = _upper_components(ctx.json_param("components"))
    if "category" in ctx.params:
        category = ctx.require("category").upper()
        if category not in _CATEGORIES:
            raise invalid_parameter(
                f'param category must be one of UTILITY, MARKETING - got "{category}"'
            )
        template.category = category
    template.last_edit_at = ctx.now
    template.status = "PENDING"
    _start_review(ctx.core, waba_of(ctx.store, template.waba_id), template)
    return {"success": True}


def _start_review(core: Core, waba: WABA, template: Template) -> None:
    seconds = core.config.template_review_seconds
    if seconds <= 0:
        review(core, waba, template)
    else:
        core.store.timers[template.id] = core.now() + seconds


def review(core: Core, waba: WABA, template: Template) -> None:
    """The sandbox's review rule: names containing "reject" are rejected, the rest approved."""
    core.store.timers.pop(template.id, None)
    if "reject" in template.name:
        set_template_status(core, waba, template, "REJECTED", "INVALID_FORMAT", dict(REJECTION))
    else:
        set_template_status(core, waba, template, "APPROVED", "NONE", None)


def set_template_status(
    core: Core,
    waba: WABA,
    template: Template,
    event: str,
    reason: str,
    rejection_info: dict[str, str] | None,
) -> dict[str, Any]:
    template.status = event
    template.rejected_reason = reason if event == "REJECTED" else None
    template.rejection_info = rejection_info
    payload = events.template_status(
        waba.id,
        core.now(),
        template.id,
        template.name,
        template.language,
        template.category,
        event,
        reason,
        rejection_info,
    )
    return core.deliver(
        payload,
        obj="whatsapp_business_account",
        field="message_template_status_update",
        subscribed=waba.subscribed_apps.get(core.store.app.id),
    )


def on_timer(core: Core, obj: Any) -> None:
    """A template's review time has come."""
    if isinstance(obj, Template) and obj.status == "PENDING":
        review(core, waba_of(core.store, obj.waba_id), obj)
