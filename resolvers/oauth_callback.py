"""Where Meta's dialog sends the user back (``/auth/meta/callback``), and the start of
"log in with Facebook" (``/auth/meta/login``). Both answer with redirects, never JSON."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from domain.errors import InvalidInputError
from domain.services.oauth import complete_oauth, start_oauth
from resolvers.services import AppServices

SETTINGS_PAGE = "/settings/social-accounts"
LOGIN_PAGE = "/auth/callback"


def routes(services: AppServices) -> list[Route]:
    async def callback(request: Request) -> Response:
        params = request.query_params
        outcome = await complete_oauth(
            services.uow(),
            services.meta,
            services.vault,
            services.state_store,
            services.oauth,
            code=params.get("code"),
            state=params.get("state"),
            error=params.get("error"),
            now=services.clock.now(),
        )
        base = services.frontend_url
        if outcome.intent == "login":
            if outcome.error or outcome.principal is None:
                return _redirect(f"{base}{LOGIN_PAGE}?{urlencode({'error': outcome.error})}")
            # The session token travels in the fragment: browsers never send it to a server
            # and it stays out of access logs and Referer headers.
            token = services.jwt.issue(outcome.principal)
            return _redirect(f"{base}{LOGIN_PAGE}#{urlencode({'token': token})}")
        if outcome.error:
            return _redirect(f"{base}{SETTINGS_PAGE}?{urlencode({'error': outcome.error})}")
        return _redirect(f"{base}{SETTINGS_PAGE}?success=connected")

    async def login(request: Request) -> Response:
        platform = request.query_params.get("platform", "facebook")
        try:
            url = await start_oauth(
                services.state_store,
                services.oauth,
                platform=platform,
                principal=None,
                intent="login",
            )
        except InvalidInputError as exc:
            return _redirect(
                f"{services.frontend_url}{LOGIN_PAGE}?{urlencode({'error': exc.field})}"
            )
        return _redirect(url)

    return [
        Route("/auth/meta/callback", callback, methods=["GET"]),
        Route("/auth/meta/login", login, methods=["GET"]),
    ]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
