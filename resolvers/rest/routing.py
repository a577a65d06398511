"""Declaring REST shim endpoints: each belongs to a family, which decides its error envelope,
its authentication, and how it appears in /openapi.json."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import DomainError, InvalidInputError, NotFoundError, RateLimitedError
from domain.services.identity import Principal
from resolvers.auth import AuthenticationError, authenticate
from resolvers.http import JSONResponse
from resolvers.rest.families import INTERNAL_MESSAGE, Family, RestError
from resolvers.services import AppServices

log = structlog.get_logger(__name__)

Auth = Literal["bearer", "none", "cron"]


@dataclass
class RestContext:
    request: Request
    services: AppServices
    principal: Principal | None

    @property
    def viewer(self) -> Principal:
        if self.principal is None:  # only endpoints declared auth="bearer" use this
            raise RestError(401, "Authentication required")
        return self.principal

    async def json_body(self) -> dict[str, Any]:
        """The request's JSON object, or a 400 naming the body."""
        raw = await self.request.body()
        if not raw:
            return {}
        try:
            data = orjson.loads(raw)
        except ValueError as exc:
            raise RestError(400, "Request body is not valid JSON", field="body") from exc
        if not isinstance(data, dict):
            raise RestError(400, "Request body must be a JSON object", field="body")
        return data


Handler = Callable[[RestContext], Awaitable[Response | dict[str, Any] | list[Any]]]


@dataclass
class Endpoint:
    family: Family
    method: str
    path: str
    handler: Handler
    summary: str
    auth: Auth = "bearer"
    status_code: int = 200
    request_schema: dict[str, Any] | None = None
    body_required: bool = True  # False: the body may be left out (every field optional)
    description: str | None = None  # longer than the summary (e.g. a metasync extension)
    response_schema: dict[str, Any] | None = None
    query_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()  # of query_params, those the endpoint requires
    # Error statuses answered beyond those every endpoint of its kind may give (400 and 404
    # with inputs, 401 with auth, 500): a 403 for a role, Meta's 429 and 502, a 409.
    errors: tuple[int, ...] = ()
    # Other successful answers, by status, with their schema (a 202 for a run still going).
    other_responses: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)


def error_response(family: Family, err: RestError) -> JSONResponse:
    return JSONResponse(family.render(err), status_code=err.status, headers=err.headers)


def as_rest_error(exc: Exception) -> RestError | None:
    """Map a domain error to its REST form; None for anything unexpected."""
    if isinstance(exc, RestError):
        return exc
    if isinstance(exc, InvalidInputError):
        return RestError(400, exc.message, field=exc.field)
    if isinstance(exc, NotFoundError):
        return RestError(404, exc.message)
    if isinstance(exc, RateLimitedError):
        return RestError(429, exc.message, headers={"Retry-After": str(exc.retry_after_seconds)})
    if isinstance(exc, DomainError):
        return RestError(400, exc.message)
    return None


def to_route(endpoint: Endpoint, services: AppServices) -> Route:
    family = endpoint.family

    async def run(request: Request) -> Response:
        try:
            principal = await _authorize(endpoint, services, request)
            result = await endpoint.handler(RestContext(request, services, principal))
        except Exception as exc:
            err = as_rest_error(exc)
            if err is None:
                log.exception("rest_endpoint_failed", path=endpoint.path, family=family.name)
                err = RestError(500, INTERNAL_MESSAGE)
            return error_response(family, err)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=endpoint.status_code)

    return Route(
        endpoint.path, run, methods=[endpoint.method], name=f"{family.name}:{endpoint.path}"
    )


async def _authorize(
    endpoint: Endpoint, services: AppServices, request: Request
) -> Principal | None:
    if endpoint.auth == "none":
        return None
    if endpoint.auth == "cron":
        cron_secret = services.cron_secret
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not cron_secret or not hmac.compare_digest(given.encode(), cron_secret.encode()):
            raise RestError(401, "A valid CRON_SECRET bearer token is required")
        return None
    try:
        return await authenticate(
            services.jwt, services.uow(), request.headers.get("authorization")
        )
    except AuthenticationError as exc:
        raise RestError(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
