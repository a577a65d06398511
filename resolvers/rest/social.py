"""spec/social-service-architecture.md family: OAuth connect and social accounts."""

from __future__ import annotations

from typing import Any

from domain.services.oauth import PLATFORM_SCOPES, start_oauth
from resolvers.rest.families import SOCIAL
from resolvers.rest.routing import Endpoint, RestContext


async def connect(ctx: RestContext) -> dict[str, Any]:
    platform = ctx.request.path_params["platform"]
    services = ctx.services
    url = await start_oauth(
        services.state_store, services.oauth, platform=platform, principal=ctx.viewer
    )
    return {"authUrl": url}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        SOCIAL,
        "GET",
        "/api/auth/social/connect/{platform}",
        connect,
        f"Start connecting a Meta account ({' | '.join(PLATFORM_SCOPES)}): the dialog URL",
        response_schema={
            "type": "object",
            "required": ["authUrl"],
            "properties": {"authUrl": {"type": "string", "format": "uri"}},
        },
    ),
]
