"""Every GraphQL argument that names an object, found by walking the schema, refuses another
organization's objects exactly as it refuses ids that name nothing (issue #9, item 7).

The walk covers the arguments of every Query, Mutation and Subscription field and the fields of
their input objects (nested), taking those of type ``ID`` and those whose name ends in ``Id``
(Meta ids are Strings). Each is mapped to the kind of object it names; organization A owns one
(``world.FACTORIES``); organization B's owner asks with A's id and with an id naming nothing and
must get the same answer; A's owner must get another one (the probe reached the object). A
field on any other type taking an id fails the test until the walk learns to reach it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import graphql
import httpx
import pytest
from websockets.asyncio.client import connect

from schema import build_schema
from tests.security.world import Form, World

ID_NAME = re.compile(r"(^ids?$|Ids?$)")

# What an argument names, by its name...
ARG_KINDS: dict[str, list[tuple[str, Form]]] = {
    "pageId": [("page", "gid")],
    "conversationId": [("conversation", "gid")],
    "contactId": [("contact", "gid")],
    "runId": [("sync_run", "gid")],
    "wabaId": [("whatsapp_account", "meta")],
    "metaPageId": [("page", "meta")],
    "accountId": [("page", "gid"), ("instagram_account", "gid")],
    "postId": [("post", "gid")],
}
# ...and the generic ``id``/``ids`` by the field taking it. ``None``: any Node type.
FIELD_KINDS: dict[tuple[str, str], list[tuple[str, Form]] | None] = {
    ("node", "id"): None,
    ("nodes", "ids"): None,
    ("page", "id"): [("page", "gid")],
    ("template", "id"): [("template", "gid")],
    ("refreshMetaConnection", "id"): [("meta_connection", "gid")],
    ("disconnectAccount", "id"): [
        ("page", "gid"),
        ("instagram_account", "gid"),
        ("whatsapp_account", "gid"),
    ],
    ("updateTemplate", "id"): [("template", "gid")],
    ("deleteTemplate", "id"): [("template", "gid")],
    ("post", "id"): [("post", "gid")],
    ("deletePost", "id"): [("post", "gid")],
    ("retryPost", "id"): [("post", "gid")],
}
# The kind of object behind each Node type (Viewer's global id is its User's).
NODE_KIND_NAMES = {"Viewer": "user", "WhatsAppAccount": "whatsapp_account"}

TEMPLATE_BODY = [
    {"type": "BODY", "text": "Your order {{1}} is ready", "example": {"body_text": [["42"]]}}
]
# Well-formed values for the other arguments: a probe must fail on the id, not on them.
OTHER_ARGS: dict[str, dict[str, Any]] = {
    "syncPage": {"scope": "DETAILS"},
    "syncConversation": {"scope": "STATUS"},
    "updatePageOnFacebook": {"input": {"about": "Plants and more"}},
    "muteConversation": {"muteUntil": "PERMANENTLY"},
    "updateContact": {"input": {"notes": "called back"}},
    "createTemplate": {
        "input": {
            "name": "security_probe",
            "language": "en_US",
            "category": "UTILITY",
            "components": TEMPLATE_BODY,
        }
    },
    "updateTemplate": {"input": {"components": TEMPLATE_BODY}},
    "updateSyncSchedule": {"input": {"fullSyncHour": 4}},
    # A photo is a valid post on a Page and on Instagram alike.
    "createPost": {
        "input": {
            "message": "security probe",
            "media": [{"url": "https://cdn.example.com/probe.jpg", "kind": "IMAGE"}],
        }
    },
}
# The owner's calls change things: deleting and disconnecting come last.
LAST = ("deleteTemplate", "deletePost", "disconnectAccount")


def _unwrap(t: graphql.GraphQLType) -> graphql.GraphQLNamedType:
    while isinstance(t, graphql.GraphQLNonNull | graphql.GraphQLList):
        t = t.of_type
    assert isinstance(t, graphql.GraphQLNamedType)
    return t


def _names_an_object(name: str, t: graphql.GraphQLType) -> bool:
    return _unwrap(t) is graphql.GraphQLID or bool(ID_NAME.search(name))


@dataclass(frozen=True)
class IdArg:
    operation: str  # query | mutation | subscription
    field: str
    path: tuple[str, ...]  # argument name, then input-object field names
    is_list: bool

    @property
    def label(self) -> str:
        return f"{self.operation} {self.field}({'.'.join(self.path)})"


def _input_paths(
    t: graphql.GraphQLInputObjectType, prefix: tuple[str, ...]
) -> list[tuple[tuple[str, ...], graphql.GraphQLType]]:
    found: list[tuple[tuple[str, ...], graphql.GraphQLType]] = []
    for name, f in t.fields.items():
        inner = _unwrap(f.type)
        if isinstance(inner, graphql.GraphQLInputObjectType):
            found += _input_paths(inner, (*prefix, name))
        elif _names_an_object(name, f.type):
            found.append(((*prefix, name), f.type))
    return found


def enumerate_id_args(schema: graphql.GraphQLSchema) -> tuple[list[IdArg], list[str]]:
    """Every id argument reachable from the root types, and the fields of other types that
    take one (which this suite cannot reach yet)."""
    roots = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }
    found: list[IdArg] = []
    for operation, root in roots.items():
        assert root is not None
        for field_name, f in root.fields.items():
            for arg_name, arg in f.args.items():
                inner = _unwrap(arg.type)
                paths: list[tuple[tuple[str, ...], graphql.GraphQLType]] = []
                if isinstance(inner, graphql.GraphQLInputObjectType):
                    paths = _input_paths(inner, (arg_name,))
                elif _names_an_object(arg_name, arg.type):
                    paths = [((arg_name,), arg.type)]
                for path, t in paths:
                    is_list = isinstance(graphql.get_nullable_type(t), graphql.GraphQLList)
                    found.append(IdArg(operation, field_name, path, is_list))
    unreachable = [
        f"{type_name}.{field_name}({arg_name})"
        for type_name, t in schema.type_map.items()
        if isinstance(t, graphql.GraphQLObjectType) and t not in roots.values()
        for field_name, f in t.fields.items()
        for arg_name, arg in f.args.items()
        if _names_an_object(arg_name, arg.type)
    ]
    return found, unreachable


def _snake(name: str) -> str:
    return NODE_KIND_NAMES.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def kinds_of(schema: graphql.GraphQLSchema, arg: IdArg) -> list[tuple[str, Form]]:
    leaf = arg.path[-1]
    if (arg.field, leaf) in FIELD_KINDS:
        kinds = FIELD_KINDS[(arg.field, leaf)]
        if kinds is not None:
            return kinds
        node = schema.type_map["Node"]
        assert isinstance(node, graphql.GraphQLInterfaceType)
        return [(_snake(t.name), "gid") for t in schema.get_implementations(node).objects]
    kinds = ARG_KINDS.get(leaf)
    assert kinds, (
        f"{arg.label} names an object of an unknown kind: add it to ARG_KINDS or FIELD_KINDS"
    )
    return kinds


def _leaf_fields(t: graphql.GraphQLObjectType | graphql.GraphQLInterfaceType) -> dict[str, str]:
    return {
        name: str(f.type)
        for name, f in t.fields.items()
        if isinstance(_unwrap(f.type), graphql.GraphQLScalarType | graphql.GraphQLEnumType)
        and not any(graphql.is_required_argument(a) for a in f.args.values())
    }


def selection(schema: graphql.GraphQLSchema, t: graphql.GraphQLType) -> str:
    """``__typename`` and every argument-free scalar of the result (of each member of a union;
    an interface's own): anything of A's that leaked would show in it."""
    named = _unwrap(t)
    if isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
        return f"{{ {' '.join(['__typename', *_leaf_fields(named)])} }}"
    if isinstance(named, graphql.GraphQLUnionType):
        members = {m.name: _leaf_fields(m) for m in named.types}
        seen: dict[str, set[str]] = {}
        for leaves in members.values():
            for name, type_text in leaves.items():
                seen.setdefault(name, set()).add(type_text)
        parts = []
        for member, leaves in members.items():
            # Aliased where two members give one field name different types.
            names = [f"{member}_{n}: {n}" if len(seen[n]) > 1 else n for n in leaves]
            parts.append(f"... on {member} {{ {' '.join(['__typename', *names])} }}")
        return f"{{ __typename {' '.join(parts)} }}"
    return ""


def _type_text(t: graphql.GraphQLType) -> str:
    return str(t)


def document(schema: graphql.GraphQLSchema, arg: IdArg, value: str) -> tuple[str, dict[str, Any]]:
    """The operation calling ``arg.field`` with ``value`` at ``arg.path``, and its variables."""
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[arg.operation]
    assert root is not None
    f = root.fields[arg.field]
    args: dict[str, Any] = dict(OTHER_ARGS.get(arg.field, {}))
    target = args
    for key in arg.path[:-1]:
        target[key] = dict(target.get(key, {}))
        target = target[key]
    target[arg.path[-1]] = [value] if arg.is_list else value
    declared = [
        (name, a) for name, a in f.args.items() if name in args or graphql.is_required_argument(a)
    ]
    missing = [name for name, _ in declared if name not in args]
    assert not missing, f"{arg.label}: give OTHER_ARGS a value for {missing}"
    var_defs = ", ".join(f"${name}: {_type_text(a.type)}" for name, a in declared)
    call = ", ".join(f"{name}: ${name}" for name, _ in declared)
    text = f"{arg.operation}({var_defs}) {{ {arg.field}({call}) {selection(schema, f.type)} }}"
    return text, {name: args[name] for name, _ in declared}


def _blank(answer: Any, value: str) -> str:
    return json.dumps(answer, sort_keys=True).replace(value, "<id>")


@pytest.fixture(scope="module")
def sdl_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(build_schema(production=False).as_str())


async def _post(http: httpx.AsyncClient, token: str, text: str, variables: dict[str, Any]) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": text, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    return {"status": response.status_code, "body": response.json()}


async def _subscribe(base: str, token: str, text: str, variables: dict[str, Any]) -> Any:
    """The first message a subscription sends (or that it sent none within 3 s)."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": text, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=3))
        except TimeoutError:
            return "silent"
        return {"type": message["type"], "payload": message.get("payload")}


async def test_every_graphql_id_argument_refuses_other_organizations_objects_like_missing_ones(
    http: httpx.AsyncClient, world: World, sdl_schema: graphql.GraphQLSchema
) -> None:
    args, unreachable = enumerate_id_args(sdl_schema)
    assert not unreachable, f"fields taking ids this suite cannot reach yet: {unreachable}"
    assert len(args) > 15, "the walk found suspiciously few id arguments"
    base = world.server.base

    async def ask(arg: IdArg, token: str, value: str) -> str:
        text, variables = document(sdl_schema, arg, value)
        if arg.operation == "subscription":
            return _blank(await _subscribe(base, token, text, variables), value)
        return _blank(await _post(http, token, text, variables), value)

    failures: list[str] = []
    owner_probes: list[tuple[IdArg, str, Form, str]] = []
    for arg in args:
        for kind, form in kinds_of(sdl_schema, arg):
            owned = await world.get(kind)
            theirs, missing = owned.id(form), owned.missing(form)
            foreign = await ask(arg, world.stranger.token, theirs)
            absent = await ask(arg, world.stranger.token, missing)
            if foreign != absent:
                failures.append(
                    f"{arg.label} ({kind}): another organization's id answers {foreign[:400]}; "
                    f"a missing one {absent[:400]}"
                )
            owner_probes.append((arg, kind, form, absent))
    order = {"query": 0, "subscription": 1, "mutation": 2}
    owner_probes.sort(key=lambda p: (p[0].field in LAST, order[p[0].operation]))
    for arg, kind, form, absent in owner_probes:
        mine = await ask(arg, world.owner.token, (await world.get(kind)).id(form))
        if mine == absent:
            failures.append(
                f"{arg.label} ({kind}, {form}): the owner gets the missing-id answer too "
                f"({mine[:400]}), so the probe proves nothing"
            )
    assert not failures, "\n".join(failures)


async def test_every_list_shows_another_organization_nothing(
    http: httpx.AsyncClient, world: World, sdl_schema: graphql.GraphQLSchema
) -> None:
    """Every root list (each Query field answering a connection) counts none of A's objects
    for B, while A's owner sees them."""
    query = sdl_schema.query_type
    assert query is not None
    lists = [
        name
        for name, f in query.fields.items()
        if "totalCount" in getattr(_unwrap(f.type), "fields", {})
    ]
    assert len(lists) >= 6, lists
    await world.get("webhook_event")  # so A's webhookEvents list is not empty either
    text = "{ " + " ".join(f"{name} {{ totalCount }}" for name in lists) + " }"
    theirs = await _post(http, world.owner.token, text, {})
    mine = await _post(http, world.stranger.token, text, {})
    assert all(theirs["body"]["data"][name]["totalCount"] > 0 for name in lists), theirs
    assert mine == {"status": 200, "body": {"data": {name: {"totalCount": 0} for name in lists}}}
