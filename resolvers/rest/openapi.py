"""/openapi.json and /docs, generated from the declared endpoints (never by hand)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from resolvers.rest.families import FAMILIES, Family, RestError
from resolvers.rest.routing import Endpoint

_ERROR_STATUSES = {
    400: "Bad input; the body names the field",
    401: "Missing or invalid credentials (or a token Meta no longer accepts)",
    403: "The caller's role (or Meta) does not allow this",
    404: "Not found (or not visible to this organization)",
    409: "Conflicts with the current state",
    429: "Rate limited (metasync's sync limits or Meta's); see Retry-After",
    500: "Unexpected server error",
    502: "Meta failed or refused the call",
    503: "A service metasync needs is unavailable",
}
_OTHER_STATUSES = {
    201: "Created",
    202: "Accepted: still running",
    503: "Unhealthy: metasync cannot serve",
}


def _error_statuses(ep: Endpoint) -> list[int]:
    statuses = {500, *ep.errors}
    if ep.auth != "none":
        statuses.add(401)
    if ep.path_params or ep.request_schema or ep.query_params:
        statuses.update((400, 404))
    return sorted(statuses)


def _error_schema(family: Family) -> dict[str, Any]:
    sample = family.render(RestError(400, "example", field="field"))
    return {**family.error_schema, "example": sample}


def build_openapi(endpoints: Sequence[Endpoint], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        responses: dict[str, Any] = {
            str(ep.status_code): {
                "description": "Success",
                "content": {"application/json": {"schema": ep.response_schema or {}}},
            }
        }
        for status, schema in ep.other_responses.items():
            responses[str(status)] = {
                "description": _OTHER_STATUSES.get(status, "Success"),
                "content": {"application/json": {"schema": schema}},
            }
        error_ref = {"$ref": f"#/components/schemas/{_schema_name(ep.family)}"}
        for status in _error_statuses(ep):
            responses[str(status)] = {
                "description": _ERROR_STATUSES[status],
                "content": {"application/json": {"schema": error_ref}},
            }
        operation: dict[str, Any] = {
            "summary": ep.summary,
            **({"description": ep.description} if ep.description else {}),
            "tags": [ep.family.name],
            "operationId": f"{ep.method.lower()}_{_slug(ep.path)}",
            "responses": responses,
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in ep.path_params
            ]
            + [
                {
                    "name": name,
                    "in": "query",
                    "required": name in ep.required_query,
                    "schema": schema,
                }
                for name, schema in ep.query_params.items()
            ],
        }
        if ep.auth == "bearer":
            operation["security"] = [{"bearerAuth": []}]
        elif ep.auth == "cron":
            operation["security"] = [{"cronSecret": []}]
        else:
            operation["security"] = []
        if ep.request_schema is not None:
            operation["requestBody"] = {
                "required": ep.body_required,
                "content": {"application/json": {"schema": ep.request_schema}},
            }
        paths.setdefault(_openapi_path(ep.path), {})[ep.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "metasync REST shims",
            "version": version,
            "description": "REST-compatible endpoints for legacy clients; GraphQL is at /graphql.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cronSecret": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {_schema_name(f): _error_schema(f) for f in FAMILIES},
        },
    }


def docs_html(spec: dict[str, Any]) -> str:
    """A self-contained page listing the endpoints (no CDN: it works offline)."""
    rows = []
    for path, ops in sorted(spec["paths"].items()):
        for method, op in ops.items():
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}"
                f"</code></td><td>{html.escape(op['tags'][0])}</td>"
                f"<td>{html.escape(op['summary'])}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>metasync REST shims</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;"
        "border-bottom:1px solid #ddd}</style></head><body>"
        "<h1>metasync REST shims</h1><p>Machine-readable: <a href='/openapi.json'>"
        "/openapi.json</a>. GraphQL: <a href='/graphql'>/graphql</a>.</p>"
        "<table><tr><th>Method</th><th>Path</th><th>Family</th><th>Summary</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def _schema_name(family: Family) -> str:
    return "Error_" + family.name.replace("-", "_")


def _openapi_path(path: str) -> str:
    # Starlette's "{id:uuid}" converters are "{id}" in OpenAPI.
    return re.sub(r"{(\w+):\w+}", r"{\1}", path)


def _slug(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path).strip("_")
