"""Meta's error envelope, raised anywhere in a handler and rendered once by the dispatcher."""

from __future__ import annotations

import secrets
from typing import Any

_GRAPH_DOCS = "https://developers.facebook.com/docs/graph-api"


class MetaError(Exception):
    """One Graph error: ``{"error": {"message", "type", "code", "error_subcode", ...}}``."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        subcode: int | None = None,
        error_type: str | None = "OAuthException",
        status: int = 400,
        user_title: str | None = None,
        user_msg: str | None = None,
        is_transient: bool | None = None,
        error_data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.status = status
        self.user_title = user_title
        self.user_msg = user_msg
        self.is_transient = is_transient
        self.error_data = error_data
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message}
        if self.error_type is not None:
            err["type"] = self.error_type
        err["code"] = self.code
        if self.error_data is not None:
            err["error_data"] = self.error_data
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        if self.is_transient is not None:
            err["is_transient"] = self.is_transient
        if self.user_title is not None:
            err["error_user_title"] = self.user_title
        if self.user_msg is not None:
            err["error_user_msg"] = self.user_msg
        err["fbtrace_id"] = new_trace_id()
        return {"error": err}


def new_trace_id() -> str:
    return secrets.token_urlsafe(17)[:23]


# --- the errors the sandbox raises, with Meta's wording ---------------------------------------


def unsupported_request(method: str, object_id: str) -> MetaError:
    """Missing object, no permission on it, or an operation the node does not support."""
    verb = {"GET": "get", "POST": "post", "DELETE": "delete"}.get(method, method.lower())
    return MetaError(
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read the "
        f"Graph API documentation at {_GRAPH_DOCS}",
        100,
        subcode=33,
        error_type="GraphMethodException",
    )


def unknown_path(components: str) -> MetaError:
    return MetaError(f"Unknown path components: {components}", 2500)


def nonexisting_field(field_name: str, node_type: str) -> MetaError:
    return MetaError(
        f"(#100) Tried accessing nonexisting field ({field_name}) on node type ({node_type})", 100
    )


def invalid_parameter(detail: str | None = None, *, user_msg: str | None = None) -> MetaError:
    message = f"(#100) {detail}" if detail else "(#100) Invalid parameter"
    return MetaError(message, 100, user_msg=user_msg)


def missing_parameter(name: str) -> MetaError:
    return MetaError(f"(#100) The parameter {name} is required", 100)


def page_token_required() -> MetaError:
    return MetaError("(#190) This method must be called with a Page Access Token", 190)


def permission_error(permission: str) -> MetaError:
    return MetaError(
        f"(#200) Requires {permission} permission to manage the object", 200, status=403
    )


def syntax_error(detail: str, position: int, text: str) -> MetaError:
    return MetaError(f'Syntax error "{detail}" at character {position}: {text}', 2500)
