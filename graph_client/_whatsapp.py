"""WhatsApp Business Management and Cloud API: numbers, profile, templates, analytics, read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, cast

from graph_client._core import Fields, _Core, data_list, fields_param, is_success, seg
from graph_client.responses import GraphObject, TemplateCreated

WA_PHONE_FIELDS = (
    "id",
    "display_phone_number",
    "verified_name",
    "quality_rating",
    "code_verification_status",
    "name_status",
    "status",
    "messaging_limit_tier",
    "throughput",
    "platform_type",
)
WA_PROFILE_FIELDS = (
    "about",
    "address",
    "description",
    "email",
    "profile_picture_url",
    "websites",
    "vertical",
)
WA_TEMPLATE_FIELDS = (
    "id",
    "name",
    "status",
    "category",
    "language",
    "components",
    "parameter_format",
    "sub_category",
    "quality_score",
)


def expansion(name: str, **modifiers: Any) -> str:
    """``name.key(value)...`` for field-expansion modifiers; lists become JSON arrays
    (``.phone_numbers(["1555..."])``), ``None`` modifiers are left out."""
    parts = [name]
    for key, value in modifiers.items():
        if value is None:
            continue
        rendered = (
            json.dumps(list(value), separators=(",", ":"))
            if isinstance(value, list | tuple)
            else str(value)
        )
        parts.append(f"{key}({rendered})")
    return ".".join(parts)


class WhatsAppEndpoints(_Core):
    async def wa_subscribe_app(self, waba_id: str, token: str) -> bool:
        """Subscribe this app to the WABA's webhooks (``POST /{waba-id}/subscribed_apps``)."""
        body = await self._call(
            "POST", f"{seg(waba_id)}/subscribed_apps", token=token, object_id=waba_id
        )
        return is_success(body)

    async def wa_phone_numbers(
        self, waba_id: str, token: str, fields: Fields | None = None
    ) -> list[GraphObject]:
        params = {"fields": fields_param(fields)} if fields is not None else None
        items = self._paginate(
            f"{seg(waba_id)}/phone_numbers", token=token, params=params, object_id=waba_id
        )
        return [item async for item in items]

    async def wa_phone_number(
        self, phone_number_id: str, token: str, fields: Fields = WA_PHONE_FIELDS
    ) -> GraphObject:
        return await self._call(
            "GET",
            seg(phone_number_id),
            token=token,
            params={"fields": fields_param(fields)},
            object_id=phone_number_id,
        )

    async def wa_business_profile(
        self, phone_number_id: str, token: str, fields: Fields = WA_PROFILE_FIELDS
    ) -> GraphObject:
        body = await self._call(
            "GET",
            f"{seg(phone_number_id)}/whatsapp_business_profile",
            token=token,
            params={"fields": fields_param(fields)},
            object_id=phone_number_id,
        )
        data = data_list(body)
        return data[0] if data else {}

    def wa_templates(
        self,
        waba_id: str,
        token: str,
        fields: Fields = WA_TEMPLATE_FIELDS,
        *,
        status: str | None = None,
        name: str | None = None,
        language: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[GraphObject]:
        params: dict[str, str | int] = {"fields": fields_param(fields)}
        for key, value in (("status", status), ("name", name), ("language", language)):
            if value is not None:
                params[key] = value
        if limit is not None:
            params["limit"] = limit
        return self._paginate(
            f"{seg(waba_id)}/message_templates", token=token, params=params, object_id=waba_id
        )

    async def wa_create_template(
        self,
        waba_id: str,
        token: str,
        *,
        name: str,
        language: str,
        category: str,
        components: Sequence[dict[str, Any]],
        parameter_format: Literal["named", "positional"] | None = None,
    ) -> TemplateCreated:
        payload: dict[str, Any] = {
            "name": name,
            "language": language,
            "category": category,
            "components": list(components),
        }
        if parameter_format is not None:
            payload["parameter_format"] = parameter_format
        path = f"{seg(waba_id)}/message_templates"
        body = await self._call("POST", path, token=token, json=payload, object_id=waba_id)
        return cast(TemplateCreated, body)

    async def wa_edit_template(
        self,
        template_id: str,
        token: str,
        *,
        components: Sequence[dict[str, Any]] | None = None,
        category: str | None = None,
    ) -> bool:
        """Only APPROVED, REJECTED or PAUSED templates can be edited; name and language never."""
        payload: dict[str, Any] = {}
        if components is not None:
            payload["components"] = list(components)
        if category is not None:
            payload["category"] = category
        body = await self._call(
            "POST", seg(template_id), token=token, json=payload, idempotent=True
        )
        return is_success(body)

    async def wa_delete_template(
        self, waba_id: str, token: str, name: str, hsm_id: str | None = None
    ) -> bool:
        """By name alone every language goes; with ``hsm_id`` only that template."""
        params = {"name": name} if hsm_id is None else {"name": name, "hsm_id": hsm_id}
        body = await self._call(
            "DELETE",
            f"{seg(waba_id)}/message_templates",
            token=token,
            params=params,
            object_id=waba_id,
        )
        return is_success(body)

    async def wa_analytics(
        self,
        waba_id: str,
        token: str,
        start: int,
        end: int,
        granularity: Literal["HALF_HOUR", "DAY", "MONTH"],
        *,
        phone_numbers: Sequence[str] | None = None,
        product_types: Sequence[int] | None = None,
        country_codes: Sequence[str] | None = None,
    ) -> GraphObject:
        """Message analytics: the ``analytics`` object (``data_points`` of sent/delivered)."""
        field = expansion(
            "analytics",
            start=start,
            end=end,
            granularity=granularity,
            phone_numbers=_opt_list(phone_numbers),
            product_types=_opt_list(product_types),
            country_codes=_opt_list(country_codes),
        )
        body = await self._call(
            "GET", seg(waba_id), token=token, params={"fields": field}, object_id=waba_id
        )
        analytics = body.get("analytics")
        return analytics if isinstance(analytics, dict) else {}

    async def wa_conversation_analytics(
        self,
        waba_id: str,
        token: str,
        start: int,
        end: int,
        granularity: Literal["HALF_HOUR", "DAILY", "MONTHLY"],
        *,
        metric_types: Sequence[str] | None = None,
        conversation_categories: Sequence[str] | None = None,
        conversation_types: Sequence[str] | None = None,
        dimensions: Sequence[str] | None = None,
        phone_numbers: Sequence[str] | None = None,
        country_codes: Sequence[str] | None = None,
    ) -> GraphObject:
        """The ``conversation_analytics`` object (``data[].data_points``)."""
        field = expansion(
            "conversation_analytics",
            start=start,
            end=end,
            granularity=granularity,
            metric_types=_opt_list(metric_types),
            conversation_categories=_opt_list(conversation_categories),
            conversation_types=_opt_list(conversation_types),
            dimensions=_opt_list(dimensions),
            phone_numbers=_opt_list(phone_numbers),
            country_codes=_opt_list(country_codes),
        )
        body = await self._call(
            "GET", seg(waba_id), token=token, params={"fields": field}, object_id=waba_id
        )
        analytics = body.get("conversation_analytics")
        return analytics if isinstance(analytics, dict) else {}

    async def wa_mark_as_read(
        self, phone_number_id: str, token: str, message_id: str, typing_indicator: bool = False
    ) -> bool:
        """A real read receipt (also marks earlier messages read), optionally showing a typing
        indicator."""
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing_indicator:
            payload["typing_indicator"] = {"type": "text"}
        body = await self._call(
            "POST",
            f"{seg(phone_number_id)}/messages",
            token=token,
            json=payload,
            object_id=phone_number_id,
            idempotent=True,
        )
        return is_success(body)


def _opt_list(values: Sequence[Any] | None) -> list[Any] | None:
    return list(values) if values is not None else None
