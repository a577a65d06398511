"""Node types and the renderer behind every Graph read.

A node type lists its fields (getters returning plain JSON values, nested objects or ``None``
when the field has no value: such fields are omitted, as Meta does) and its edges (lists with
cursor paging, ``.limit()`` and ``.summary(true)``). The whole selection is validated before
anything is rendered, so one unknown field fails the call with (#100) like Meta.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph_client.sandbox.context import Ctx
from graph_client.sandbox.errors import invalid_parameter, nonexisting_field
from graph_client.sandbox.fields import FieldSpec, to_string
from graph_client.sandbox.ids import decode_cursor, encode_cursor

Getter = Callable[[Ctx, Any, FieldSpec], Any]
Params = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Field:
    get: Getter
    # The value is an object of this node type (or, with many=True, a list of them rendered
    # as {"data": [...]} without paging, like a conversation's participants).
    node: str | None = None
    many: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    items: Callable[[Ctx, Any, Params], Sequence[Any]]
    node: str
    summary: Callable[[Ctx, Any, Sequence[Any], Params], dict[str, Any]] | None = None
    default_limit: int = 25
    max_limit: int = 100
    # Runs before the edge is read as its own call (not when nested): rate limits.
    guard: Callable[[Ctx, Any], None] | None = None
    # The edge's own path for paging URLs ("{id}/feed"); None: no next/previous links.
    path: Callable[[Any], str] | None = None
    # Fields rendered when the call names none (/me/accounts shows access_token, tasks...).
    fields: tuple[str, ...] | None = None


@dataclass(slots=True)
class NodeType:
    name: str  # Meta's node type name, as it appears in (#100) errors
    fields: dict[str, Field]
    edges: dict[str, Edge] = field(default_factory=dict)
    default_fields: tuple[str, ...] = ("id",)
    label: str | None = None  # the name in error messages when it differs from the key

    def default_specs(self) -> tuple[FieldSpec, ...]:
        return tuple(FieldSpec(name) for name in self.default_fields)


NODES: dict[str, NodeType] = {}


def register(node: NodeType) -> NodeType:
    NODES[node.name] = node
    return node


def plain(attr: str) -> Field:
    """A field read straight from the object's attribute."""
    return Field(lambda ctx, obj, spec: getattr(obj, attr))


def key_field(key: str) -> Field:
    """A field read from a dict item (synthesised objects: permissions, reactions)."""
    return Field(lambda ctx, item, spec: item[key])


def time_field(attr: str) -> Field:
    return Field(lambda ctx, obj, spec: ctx.time(getattr(obj, attr)))


def validate(node: NodeType, specs: Sequence[FieldSpec]) -> None:
    for spec in specs:
        fdef = node.fields.get(spec.name)
        if fdef is not None:
            if fdef.node is not None and spec.children is not None:
                validate(NODES[fdef.node], spec.children)
            continue
        edge = node.edges.get(spec.name)
        if edge is None:
            raise nonexisting_field(spec.name, node.label or node.name)
        if spec.children is not None:
            validate(NODES[edge.node], spec.children)


def render(ctx: Ctx, node_name: str, obj: Any, specs: Sequence[FieldSpec] | None) -> dict[str, Any]:
    node = NODES[node_name]
    out: dict[str, Any] = {}
    for spec in specs if specs is not None else node.default_specs():
        value = _render_field(ctx, node, obj, spec)
        if value is not None:
            out[spec.key] = value
    if "id" not in out and "id" in node.fields:
        object_id = node.fields["id"].get(ctx, obj, FieldSpec("id"))
        if object_id is not None:
            out["id"] = object_id
    return out


def _render_field(ctx: Ctx, node: NodeType, obj: Any, spec: FieldSpec) -> Any:
    fdef = node.fields.get(spec.name)
    if fdef is None:
        edge = node.edges[spec.name]
        params = dict(spec.modifiers)
        result = render_connection(ctx, edge, obj, params, spec.children, nested=True)
        if not result["data"] and "summary" not in result:
            return None
        return result
    value = fdef.get(ctx, obj, spec)
    if value is None:
        return None
    if fdef.node is not None:
        if fdef.many:
            return {"data": [render(ctx, fdef.node, item, spec.children) for item in value]}
        return render(ctx, fdef.node, value, spec.children)
    if spec.children is not None:
        return _pick(value, spec.children)
    return value


def _pick(value: Any, children: tuple[FieldSpec, ...]) -> Any:
    """Nested selection on a structured leaf (``category_list{name}``)."""
    names = {child.name for child in children}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in names}
    if isinstance(value, list):
        return [_pick(item, children) for item in value]
    return value


def render_connection(
    ctx: Ctx,
    edge: Edge,
    parent: Any,
    params: Params,
    children: tuple[FieldSpec, ...] | None,
    *,
    nested: bool = False,
) -> dict[str, Any]:
    if edge.guard is not None and not nested:
        edge.guard(ctx, parent)
    items = edge.items(ctx, parent, params)
    limit = _limit(params.get("limit"), edge)
    offset = 0
    if params.get("after"):
        index = decode_cursor(str(params["after"]))
        if index is None:
            raise invalid_parameter("The after cursor is invalid")
        offset = index + 1
    elif params.get("before"):
        index = decode_cursor(str(params["before"]))
        if index is None:
            raise invalid_parameter("The before cursor is invalid")
        offset = max(0, index - limit)
        limit = min(limit, index - offset)
    page = items[offset : offset + limit]
    specs = children
    if specs is None and edge.fields is not None:
        specs = tuple(FieldSpec(name) for name in edge.fields)
    out: dict[str, Any] = {"data": [render(ctx, edge.node, item, specs) for item in page]}
    if page:
        paging: dict[str, Any] = {
            "cursors": {
                "before": encode_cursor(offset),
                "after": encode_cursor(offset + len(page) - 1),
            }
        }
        path = edge.path(parent) if edge.path is not None else None
        if path is not None:
            query = _next_query(params, children, limit, nested=nested)
            if offset > 0:
                paging["previous"] = ctx.url(path, {**query, "before": encode_cursor(offset)})
            if offset + len(page) < len(items):
                after = encode_cursor(offset + len(page) - 1)
                paging["next"] = ctx.url(path, {**query, "after": after})
        out["paging"] = paging
    if edge.summary is not None and _wants_summary(params):
        out["summary"] = edge.summary(ctx, parent, items, params)
    return out


def _limit(raw: str | None, edge: Edge) -> int:
    if raw is None or raw == "":
        return edge.default_limit
    try:
        value = int(str(raw))
    except ValueError:
        raise invalid_parameter("Param limit must be an integer") from None
    if value < 0:
        raise invalid_parameter("Param limit must be a non-negative integer")
    return min(value, edge.max_limit)


def _wants_summary(params: Params) -> bool:
    value = str(params.get("summary", "")).strip().lower()
    return value in {"true", "1", "total_count"}


_PAGING_KEYS = {"access_token", "appsecret_proof", "appsecret_time", "after", "before", "fields"}
# (the token is put back first by Ctx.url; the proof is the caller's to add, as with Meta)


def _next_query(
    params: Params, children: tuple[FieldSpec, ...] | None, limit: int, *, nested: bool
) -> dict[str, str]:
    query = {
        key: str(value)
        for key, value in params.items()
        if key not in _PAGING_KEYS and not (nested and key == "as")
    }
    if children is not None:
        query["fields"] = to_string(children)
    query["limit"] = str(limit)
    return query
