"""The /graphql endpoint: Strawberry's ASGI view with metasync's authentication.

HTTP: every operation needs ``Authorization: Bearer <JWT>`` (401 otherwise); the GraphiQL
page itself (development only) loads without one. WebSocket: graphql-transport-ws only, the
token in the ``connection_init`` payload, Origin checked against CORS_ORIGINS.
"""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from resolvers.auth import AuthenticationError, authenticate
from resolvers.http import JSONResponse
from resolvers.loaders import make_loader_factory
from resolvers.services import AppServices
from schema.context import Context

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20


class MetasyncGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        services: AppServices,
        *,
        production: bool,
        allowed_origins: list[str],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            allowed_origins=allowed_origins,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.services = services
        self._make_loaders = make_loader_factory(services.session_factory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._is_ide_page(scope):
            request = Request(scope, receive)
            try:
                principal = await authenticate(
                    self.services.jwt, self.services.uow(), request.headers.get("authorization")
                )
            except AuthenticationError as exc:
                response = JSONResponse(
                    {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
        await super().__call__(scope, receive, send)

    def _is_ide_page(self, scope: Scope) -> bool:
        if self.graphql_ide is None or scope["method"] != "GET":
            return False
        headers = dict(scope["headers"])
        accept = headers.get(b"accept", b"").decode()
        return "text/html" in accept and b"query=" not in scope.get("query_string", b"")

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = request.scope.get("state", {}).get("principal")
        return Context(
            principal=principal,
            make_loaders=self._make_loaders,
            services=self.services,
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params: dict[str, Any] = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            context.principal = await authenticate(
                self.services.jwt, self.services.uow(), str(header) if header else None
            )
        except AuthenticationError as exc:
            raise ConnectionRejectionError() from exc
        return await super().on_ws_connect(context)
