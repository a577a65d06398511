"""Every REST route, enumerated from the route table, refuses another organization's objects
exactly as it refuses ids that name nothing (issue #9, item 7).

The route declarations (``resolvers.rest.all_endpoints``: path parameters, declared query
parameters, request-body schemas) drive the test. Each parameter naming an object is mapped to
the kind of object it names; organization A owns one of that kind (``world.FACTORIES``);
organization B's owner calls with A's id and with an id naming nothing, and must get the same
status and body. Then A's owner makes the same call and must get something else — proof the
call really reached the object rather than failing on, say, a malformed body.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.routing import Mount, Route

from resolvers import rest
from resolvers.rest import all_endpoints
from resolvers.rest.routing import Endpoint
from server import Runtime, create_app
from tests.security.world import Form, World

Location = Literal["path", "query", "body"]

# A parameter names an object when it is called id, or ends in Id / _id / Ids.
OBJECT_ID = re.compile(r"(^id$|Id$|_id$|Ids$)")

# Parameters that look like ids (or are path parameters) but name no object of ours; each says
# why. Anything else the enumeration finds must have a kind below.
NOT_OBJECTS: dict[str, str] = {
    "platform": "a platform name (facebook, instagram, whatsapp), not an object",
    "client_id": "the caller's own key for a mapping, scoped to its organization when stored",
}

# What an id parameter names, by its name...
KINDS: dict[str, list[tuple[str, Form]]] = {
    "pageId": [("page", "uuid")],
    "conversationId": [("conversation", "uuid")],
    "contactId": [("contact", "uuid")],
    "postId": [("post", "uuid")],
    "wabaId": [("whatsapp_account", "meta")],
    "socialAccountId": [("page", "uuid")],  # the well-formed call posts to Facebook
    "token_id": [("meta_connection", "uuid")],
    "fb_page_id": [("page", "meta")],
    "ig_account_id": [("instagram_account", "meta")],
}
# ...unless the route gives the name another meaning.
ROUTE_KINDS: dict[tuple[str, str], list[tuple[str, Form]]] = {
    ("/api/meta/facebook/pages/{pageId}/connect", "pageId"): [("page", "meta")],
    ("/api/social/accounts/{accountId}", "accountId"): [
        ("page", "uuid"),
        ("instagram_account", "uuid"),
        ("whatsapp_account", "uuid"),
    ],
    ("/api/meta/instagram/accounts/{accountId}/connect", "accountId"): [
        ("instagram_account", "uuid"),
        ("instagram_account", "meta"),
    ],
    ("/api/meta/instagram/media", "accountId"): [
        ("instagram_account", "uuid"),
        ("instagram_account", "meta"),
    ],
    ("/api/meta/auth/refresh-token", "accountId"): [("meta_connection", "uuid")],
    ("/api/meta/facebook/posts", "pageId"): [("page", "uuid"), ("page", "meta")],
    ("/api/meta/whatsapp/templates/{id}", "id"): [("template", "uuid")],
    ("/api/social/analytics/{accountId}", "accountId"): [
        ("page", "uuid"),
        ("instagram_account", "uuid"),
    ],
    ("/api/social/analytics/{accountId}/sync", "accountId"): [
        ("page", "uuid"),
        ("instagram_account", "uuid"),
    ],
    ("/api/meta/post/{post_id}/", "post_id"): [("instagram_media", "meta")],
}

TEMPLATE = {
    "name": "security_probe",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Your order is ready"}],
}


@dataclass
class Call:
    """A well-formed request to an endpoint; ids are filled in per probe."""

    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


# Well-formed values for what is not under test: a probe must fail on the id, not on the rest.
CALLS: dict[tuple[str, str], Callable[[], Call]] = {
    ("PUT", "/api/facebook/pages/{pageId}/update-to-facebook"): lambda: Call(
        body={"about": "Plants and more"}
    ),
    ("POST", "/api/facebook/conversations/{conversationId}/archive-on-facebook"): lambda: Call(
        body={"archived": True}
    ),
    ("POST", "/api/facebook/conversations/{conversationId}/mute-on-facebook"): lambda: Call(
        body={"mute_until": "PERMANENTLY"}
    ),
    ("PUT", "/api/facebook/contacts/{contactId}/update-in-system"): lambda: Call(
        body={"notes": "called back"}
    ),
    ("POST", "/api/social/posts"): lambda: Call(
        body={
            "contentType": "text",
            "caption": "Hello",
            "postType": "feed",
            "platform": "facebook",
        }
    ),
    ("POST", "/api/meta/facebook/posts"): lambda: Call(body={"message": "Hello"}),
    ("PUT", "/api/meta/whatsapp/templates/{id}"): lambda: Call(
        body={**TEMPLATE, "components": [{"type": "BODY", "text": "Your order has shipped"}]}
    ),
    ("POST", "/api/meta/whatsapp/templates"): lambda: Call(body=dict(TEMPLATE)),
    ("GET", "/api/meta/whatsapp/metrics"): lambda: Call(
        query={"startDate": "2026-09-01", "endDate": "2026-09-07"}
    ),
    ("POST", "/api/meta/sync/"): lambda: Call(body={"client_id": "crm-42"}),
}


@dataclass(frozen=True)
class IdParam:
    endpoint: Endpoint
    location: Location
    name: str

    @property
    def label(self) -> str:
        return f"{self.endpoint.method} {self.endpoint.path} {self.location}:{self.name}"


def id_params(endpoint: Endpoint) -> list[IdParam]:
    """Every parameter of ``endpoint`` that names an object (path parameters all do, unless
    NOT_OBJECTS says otherwise)."""
    found = [IdParam(endpoint, "path", name) for name in endpoint.path_params]
    found += [IdParam(endpoint, "query", name) for name in endpoint.query_params]
    body = (endpoint.request_schema or {}).get("properties", {})
    found += [IdParam(endpoint, "body", name) for name in body]
    return [
        p
        for p in found
        if p.name not in NOT_OBJECTS and (p.location == "path" or OBJECT_ID.search(p.name))
    ]


def kinds_of(param: IdParam) -> list[tuple[str, Form]]:
    kinds = ROUTE_KINDS.get((param.endpoint.path, param.name)) or KINDS.get(param.name)
    assert kinds, (
        f"{param.label} names an object of an unknown kind: add it to KINDS or ROUTE_KINDS "
        "(or to NOT_OBJECTS, saying why it names no object)"
    )
    return kinds


Values = dict[tuple[Location, str], str]


async def _values(world: World, endpoint: Endpoint, overrides: Values) -> Values:
    """A's ids for every id parameter of ``endpoint``, with ``overrides`` on top."""
    values: Values = {}
    for param in id_params(endpoint):
        kind, form = kinds_of(param)[0]
        values[(param.location, param.name)] = (await world.get(kind)).id(form)
    return {**values, **overrides}


async def _request(
    http: httpx.AsyncClient, world: World, endpoint: Endpoint, token: str, overrides: Values
) -> httpx.Response:
    """``endpoint`` called with its well-formed request and ``_values``."""
    call = CALLS.get((endpoint.method, endpoint.path), Call)()
    values = await _values(world, endpoint, overrides)
    path = endpoint.path
    query = dict(call.query)
    body = dict(call.body) if call.body is not None else None
    for (location, name), value in values.items():
        if location == "path":
            path = path.replace(f"{{{name}}}", value)
        elif location == "query":
            query[name] = value
        else:
            body = {**(body or {}), name: value}
    headers = {"Authorization": f"Bearer {token}"}
    return await http.request(endpoint.method, path, params=query, json=body, headers=headers)


def _answer(response: httpx.Response, *ids: str) -> tuple[int, str]:
    """Status and body, with the probed id blanked (an error may quote what it was given)."""
    text = response.text
    for value in ids:
        text = text.replace(value, "<id>")
    return response.status_code, text


def _probe_order(param: IdParam) -> int:
    # The owner's calls change things: reads first, deletions last, disconnecting an account
    # (which drops the tokens other calls need) very last.
    method = param.endpoint.method
    if param.endpoint.path == "/api/social/accounts/{accountId}" and method == "DELETE":
        return 3
    return {"GET": 0, "DELETE": 2}.get(method, 1)


async def test_every_rest_route_refuses_other_organizations_objects_like_missing_ones(
    http: httpx.AsyncClient, world: World
) -> None:
    params = [p for ep in all_endpoints() if ep.auth == "bearer" for p in id_params(ep)]
    assert len(params) > 20, "the enumeration found suspiciously few id parameters"
    failures: list[str] = []
    owner_probes: list[tuple[IdParam, str, Form, tuple[int, str]]] = []
    owner_answers: dict[tuple[str, str, frozenset[Any]], tuple[int, str]] = {}
    for param in params:
        for kind, form in kinds_of(param):
            owned = await world.get(kind)
            theirs, missing = owned.id(form), owned.missing(form)
            key = (param.location, param.name)
            foreign = await _request(
                http, world, param.endpoint, world.stranger.token, {key: theirs}
            )
            absent = await _request(
                http, world, param.endpoint, world.stranger.token, {key: missing}
            )
            if _answer(foreign, theirs) != _answer(absent, missing):
                failures.append(
                    f"{param.label} ({kind}): another organization's id answers "
                    f"{foreign.status_code} {foreign.text[:300]!r}; a missing one "
                    f"{absent.status_code} {absent.text[:300]!r}"
                )
            owner_probes.append((param, kind, form, _answer(absent, missing)))
    # The owner gets another answer: the probes above reached the object's lookup.
    for param, kind, form, missing_answer in sorted(owner_probes, key=lambda p: _probe_order(p[0])):
        owned = await world.get(kind)
        # Probes of two parameters of one endpoint make the same owner's call: make it once
        # (a second DELETE would find nothing to delete).
        overrides = {(param.location, param.name): owned.id(form)}
        values = await _values(world, param.endpoint, overrides)
        call = (param.endpoint.method, param.endpoint.path, frozenset(values.items()))
        if call not in owner_answers:
            mine = await _request(http, world, param.endpoint, world.owner.token, overrides)
            owner_answers[call] = _answer(mine, owned.id(form))
        if owner_answers[call] == missing_answer:
            failures.append(
                f"{param.label} ({kind}, {form}): the owner gets the missing-id answer too "
                f"({owner_answers[call]}), so the probe proves nothing"
            )
    assert not failures, "\n".join(failures)


def test_every_api_route_is_a_declared_endpoint_or_a_webhook(runtime: Runtime) -> None:
    """The enumeration above reads the declarations; the app serves nothing under /api that
    bypasses them (Meta's webhook aliases are authenticated by signature, not by a user)."""
    declared = {(ep.path, ep.method) for ep in all_endpoints()}
    app = create_app(runtime, migrate_on_start=False, run_worker=False, run_scheduler=False)
    webhooks = {"/api/webhook", "/api/meta/webhook/events"}
    undeclared = []
    for route in app.routes:
        if isinstance(route, Mount) or not isinstance(route, Route):
            continue
        if not route.path.startswith("/api") or route.path in webhooks:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if (route.path, method) not in declared:
                undeclared.append(f"{method} {route.path}")
    assert not undeclared


def test_handlers_read_only_declared_query_parameters() -> None:
    """A query parameter a handler reads but its endpoint does not declare would escape the
    enumeration (and /openapi.json): every literal name read from ``query_params`` in a REST
    module is declared by one of that module's endpoints."""
    read = re.compile(r"(?:query_params|query)(?:\.get\(|\[)\s*\"(\w+)\"|_param\(ctx, \"(\w+)\"")
    undeclared = []
    for info in pkgutil.iter_modules(rest.__path__):
        module = importlib.import_module(f"{rest.__name__}.{info.name}")
        declared = {q for ep in getattr(module, "ENDPOINTS", []) for q in ep.query_params}
        for match in read.finditer(inspect.getsource(module)):
            param = match.group(1) or match.group(2)
            if param not in declared:
                undeclared.append(f"{info.name}: {param}")
    assert not undeclared
