"""Checks a served JSON body against the schema /openapi.json declares for it, with a real
JSON Schema validator (jsonschema-rs, which schemathesis brings), formats included."""

from __future__ import annotations

from typing import Any

import jsonschema_rs


def declared(spec: dict[str, Any], method: str, path: str, status: str = "200") -> dict[str, Any]:
    """The response schema /openapi.json declares for ``method path`` and ``status``."""
    operation = spec["paths"][path][method.lower()]
    content = operation["responses"][status]["content"]["application/json"]["schema"]
    if "$ref" in content:
        name = content["$ref"].rsplit("/", 1)[-1]
        return dict(spec["components"]["schemas"][name])
    return dict(content)


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    return [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(instance)]


def assert_matches(spec: dict[str, Any], method: str, path: str, body: Any, status: int) -> None:
    schema = declared(spec, method, path, str(status))
    assert schema.get("properties") or schema.get("required"), f"{method} {path}: no schema"
    errors = schema_errors(body, schema)
    assert not errors, errors
