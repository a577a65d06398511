"""spec/meta-business-api.md WhatsApp templates over REST, against the sandbox: Meta's review
seen through the webhook, Meta's edit/delete rules refused up front, errors in the envelope."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.whatsapp.conftest import WhatsAppApi

BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, order {{2}} ships today.",
    "example": {"body_text": [["Ana", "A-12"]]},
}


def _template(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "language": "en_US",
        "category": "utility",
        "components": [
            {"type": "header", "format": "text", "text": "Your order"},
            BODY,
            {"type": "footer", "text": "Thanks for shopping"},
            {"type": "buttons", "buttons": [{"type": "quick_reply", "text": "Track it"}]},
        ],
        **extra,
    }


def _data(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    assert set(body) == {"success", "data"}
    data: dict[str, Any] = body["data"]
    return data


def _error(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    error: dict[str, Any] = body["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    if field is not None:
        assert error["details"]["field"] == field, error
    return error


async def _listed(wa: WhatsAppApi, name: str) -> dict[str, Any]:
    data = _data(await wa.call("GET", "/api/meta/whatsapp/templates?limit=100"))
    return next(t for t in data["templates"] if t["name"] == name)


async def _reviewed(wa: WhatsAppApi, name: str, status: str) -> dict[str, Any]:
    """Let the sandbox's review time pass; the status webhook reaches the worker."""
    wa.server.sandbox.advance_clock(31)
    await wa.server.sandbox.tick()
    await wa.server.sandbox.flush_webhooks()
    for _ in range(600):  # up to a minute: a loaded CI machine is slow, not wrong
        row = await _listed(wa, name)
        if row["status"] == status:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} stayed {row['status']}")


async def test_created_template_goes_pending_then_approved(wa: WhatsAppApi, worker: None) -> None:
    created = _data(
        await wa.call("POST", "/api/meta/whatsapp/templates", _template("order_shipped"))
    )
    assert created["status"] == "PENDING"
    assert set(created) >= {"id", "templateId", "name", "status", "createdAt"}
    assert created["name"] == "order_shipped"
    assert created["templateId"].isdigit()
    pending = await _listed(wa, "order_shipped")
    assert pending["status"] == "PENDING"
    # Meta returns types and formats upper-case; they are stored that way.
    assert [c["type"] for c in pending["components"]] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]

    approved = await _reviewed(wa, "order_shipped", "APPROVED")
    assert approved["rejectedReason"] is None
    assert set(approved) >= {
        "id",
        "templateId",
        "name",
        "language",
        "category",
        "status",
        "components",
        "createdAt",
        "updatedAt",
    }
    assert approved["category"] == "UTILITY"
    assert approved["language"] == "en_US"


async def test_rejected_template_shows_metas_reason(wa: WhatsAppApi, worker: None) -> None:
    _data(await wa.call("POST", "/api/meta/whatsapp/templates", _template("promo_reject_me")))
    rejected = await _reviewed(wa, "promo_reject_me", "REJECTED")
    assert rejected["rejectedReason"] == "INVALID_FORMAT"
    filtered = _data(await wa.call("GET", "/api/meta/whatsapp/templates?status=rejected"))
    assert [t["name"] for t in filtered["templates"]] == ["promo_reject_me"]


async def test_invalid_templates_are_refused_naming_the_field(wa: WhatsAppApi) -> None:
    post = "/api/meta/whatsapp/templates"
    cases: list[tuple[dict[str, Any], str]] = [
        (_template("Bad Name"), "name"),
        (_template("ok_name", language="english"), "language"),
        (_template("ok_name", category="promo"), "category"),
        (_template("ok_name", components=[]), "components"),
        (_template("ok_name", components=[{"type": "FOOTER", "text": "x"}]), "components"),
        (
            _template("ok_name", components=[{"type": "BODY", "text": "Hi {{1}}"}]),
            "components[0].example",
        ),
        (
            _template(
                "ok_name",
                components=[
                    {
                        "type": "BODY",
                        "text": "Hi {{1}} {{3}}",
                        "example": {"body_text": [["a", "b"]]},
                    }
                ],
            ),
            "components[0].text",
        ),
        (
            _template(
                "ok_name",
                components=[
                    {
                        "type": "BODY",
                        "text": "Hi {{first_name}}",
                        "example": {"body_text_named_params": []},
                    }
                ],
            ),
            "components[0].example.body_text_named_params",
        ),
        (
            _template("ok_name", components=[{"type": "HEADER", "format": "IMAGE"}, BODY]),
            "components[0].example",
        ),
        (
            _template(
                "ok_name", components=[{"type": "HEADER", "format": "GIF", "text": "x"}, BODY]
            ),
            "components[0].format",
        ),
        (_template("ok_name", components=[BODY, BODY]), "components[1].type"),
        (
            _template(
                "ok_name",
                components=[
                    BODY,
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x"}] * 11},
                ],
            ),
            "components[1].buttons",
        ),
        (
            _template(
                "ok_name",
                components=[
                    BODY,
                    {
                        "type": "BUTTONS",
                        "buttons": [{"type": "URL", "text": "Go", "url": "ftp://x"}],
                    },
                ],
            ),
            "components[1].buttons[0].url",
        ),
    ]
    for body, field in cases:
        _error(await wa.call("POST", post, body), 400, field)
    _error(await wa.call("POST", post, [1]), 400, "body")


async def test_named_placeholders_are_sent_as_named(wa: WhatsAppApi) -> None:
    body = _template(
        "named_params",
        components=[
            {
                "type": "BODY",
                "text": "Hi {{first_name}}",
                "example": {
                    "body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]
                },
            }
        ],
    )
    assert _data(await wa.call("POST", "/api/meta/whatsapp/templates", body))["status"] == "PENDING"
    waba = wa.server.sandbox.store.objects  # the sandbox keeps what Meta received
    sent = [o for o in waba.values() if getattr(o, "name", None) == "named_params"]
    assert sent
    assert sent[0].parameter_format == "NAMED"


async def test_duplicates_and_pending_edits_are_refused(wa: WhatsAppApi) -> None:
    created = _data(await wa.call("POST", "/api/meta/whatsapp/templates", _template("dup_check")))
    again = await wa.call("POST", "/api/meta/whatsapp/templates", _template("dup_check"))
    assert "already exists" in _error(again, 400, "name")["message"]
    # PENDING cannot be edited (Meta's rule), before Meta is asked.
    put = f"/api/meta/whatsapp/templates/{created['id']}"
    pending = await wa.call("PUT", put, {"components": [BODY]})
    assert "PENDING" in _error(pending, 400, "status")["message"]


async def test_edit_rules_and_the_one_edit_per_day(wa: WhatsAppApi, worker: None) -> None:
    created = _data(await wa.call("POST", "/api/meta/whatsapp/templates", _template("edit_me")))
    await _reviewed(wa, "edit_me", "APPROVED")
    put = f"/api/meta/whatsapp/templates/{created['id']}"
    _error(await wa.call("PUT", put, {"name": "other_name", "components": [BODY]}), 400, "name")
    _error(await wa.call("PUT", put, {"language": "fr", "components": [BODY]}), 400, "language")
    _error(await wa.call("PUT", put, {}), 400, "components")
    _error(await wa.call("PUT", put, {"components": [{"type": "BODY"}]}), 400, "components[0].text")
    new_body = {**BODY, "text": "Hello {{1}}, order {{2}} is on its way."}
    edited = _data(await wa.call("PUT", put, {"name": "edit_me", "components": [new_body]}))
    assert edited == {"id": created["id"], "status": "PENDING", "templateId": created["templateId"]}
    await _reviewed(wa, "edit_me", "APPROVED")
    again = await wa.call("PUT", put, {"components": [BODY]})
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) > 3600
    _error(again, 429)
    _error(await wa.call("PUT", "/api/meta/whatsapp/templates/not-a-uuid", {}), 400, "id")
    missing = "/api/meta/whatsapp/templates/00000000-0000-0000-0000-000000000000"
    _error(await wa.call("PUT", missing, {"components": [BODY]}), 404)


async def test_delete_blocks_the_name_for_30_days(wa: WhatsAppApi) -> None:
    created = _data(await wa.call("POST", "/api/meta/whatsapp/templates", _template("gone_soon")))
    deleted = _data(await wa.call("DELETE", f"/api/meta/whatsapp/templates/{created['id']}"))
    assert deleted["status"] == "DELETED"
    assert deleted["deleted"] == [created["id"]]
    assert deleted["nameReusableAfter"].endswith("Z")
    names = [
        t["name"]
        for t in _data(await wa.call("GET", "/api/meta/whatsapp/templates?limit=100"))["templates"]
    ]
    assert "gone_soon" not in names
    reuse = await wa.call("POST", "/api/meta/whatsapp/templates", _template("gone_soon"))
    assert "30 days" in _error(reuse, 400, "name")["message"]
    # Another language of the name is blocked too.
    fr = await wa.call(
        "POST", "/api/meta/whatsapp/templates", _template("gone_soon", language="fr")
    )
    _error(fr, 400, "name")
    _error(await wa.call("DELETE", f"/api/meta/whatsapp/templates/{created['id']}"), 404)
    bad = await wa.call(
        "DELETE", f"/api/meta/whatsapp/templates/{created['id']}?allLanguages=maybe"
    )
    _error(bad, 400, "allLanguages")


async def test_list_filters_and_pagination(wa: WhatsAppApi) -> None:
    # Templates created on Meta (the demo WABA's seeded ones) arrive by sync.
    synced = _data(await wa.call("POST", "/api/meta/whatsapp/templates/sync"))
    assert synced["created"] >= 1
    again = _data(await wa.call("POST", "/api/meta/whatsapp/templates/sync"))
    assert again["created"] == 0
    assert again["updated"] == 0
    total = synced["created"]
    page = _data(await wa.call("GET", "/api/meta/whatsapp/templates?limit=2&offset=0"))
    assert page["pagination"] == {
        "total": total,
        "limit": 2,
        "offset": 0,
        "nextOffset": 2 if total > 2 else None,
    }
    last = _data(await wa.call("GET", f"/api/meta/whatsapp/templates?limit=2&offset={total - 1}"))
    assert len(last["templates"]) == 1
    assert last["pagination"]["nextOffset"] is None
    for query, field in [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("status=nope", "status"),
        ("category=nope", "category"),
        ("wabaId=abc", "wabaId"),
    ]:
        _error(await wa.call("GET", f"/api/meta/whatsapp/templates?{query}"), 400, field)
    _error(await wa.call("GET", "/api/meta/whatsapp/templates?wabaId=999"), 404)


async def test_unauthenticated_calls_are_refused(wa: WhatsAppApi) -> None:
    response = await wa.http.get("/api/meta/whatsapp/templates")
    _error(response, 401)
