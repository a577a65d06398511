"""/openapi.json and /docs, generated from the declared endpoints (never by hand)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from resolvers.rest.families import FAMILIES, Family, RestError
from resolvers.rest.routing import Endpoint

_ERROR_STATUSES = {
    "400": "Bad input; the body names the field",
    "401": "Missing or invalid credentials",
    "404": "Not found (or not visible to this organization)",
    "500": "Unexpected server error",
}


def _error_schema(family: Family) -> dict[str, Any]:
    sample = family.render(RestError(400, "example", field="field"))
    return {"type": "object", "required": sorted(sample), "example": sample}


def build_openapi(endpoints: Sequence[Endpoint], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        responses: dict[str, Any] = {
            str(ep.status_code): {
                "description": "Success",
                "content": {"application/json": {"schema": ep.response_schema or {}}},
            }
        }
        error_ref = {"$ref": f"#/components/schemas/{_schema_name(ep.family)}"}
        statuses = dict(_ERROR_STATUSES)
        if ep.auth == "none":
            statuses.pop("401")
        if not ep.path_params and not ep.request_schema and not ep.query_params:
            statuses.pop("404")
            statuses.pop("400")
        for status, description in statuses.items():
            responses[status] = {
                "description": description,
                "content": {"application/json": {"schema": error_ref}},
            }
        operation: dict[str, Any] = {
            "summary": ep.summary,
            "tags": [ep.family.name],
            "operationId": f"{ep.method.lower()}_{_slug(ep.path)}",
            "responses": responses,
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in ep.path_params
            ]
            + [
                {"name": name, "in": "query", "required": False, "schema": schema}
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
                "required": True,
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
