"""The sandbox as one ASGI app plus the Python helpers tests and the composition root use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from graph_client.sandbox import auth, graph, simulate
from graph_client.sandbox import routes as graph_routes
from graph_client.sandbox.config import SandboxConfig
from graph_client.sandbox.core import Core
from graph_client.sandbox.faults import Faults
from graph_client.sandbox.models import WABA, IGUser, Page
from graph_client.sandbox.routes import control, posts, wa_templates
from graph_client.sandbox.seed import DEMO, SeedSpec, seed
from graph_client.sandbox.store import Store
from graph_client.sandbox.webhooks import DeliveryAttempt

del graph_routes  # imported for its side effect: every node type and handler registers itself

_CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": "authorization, content-type",
}


class Sandbox:
    """The fake Meta platform: ``await sandbox(scope, receive, send)`` serves Graph API paths
    (any ``vN.0`` prefix), the OAuth dialog and the control API under ``/_control``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.core = Core(config)
        self.core.tickers.extend([wa_templates.on_timer, posts.on_timer])
        self.app = Starlette(
            routes=[
                *control.routes(self),
                Route("/{path:path}", self._graph, methods=["GET", "POST", "DELETE", "OPTIONS"]),
            ]
        )
        self._ticker: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._ticker is None and self.config.tick_interval_seconds:
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        await self.app(scope, receive, send)

    async def _graph(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=200, headers=_CORS)
        return await graph.handle(self.core, request, request.path_params["path"])

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval_seconds)
            self.core.tick()

    # --- state ---------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self.core.store

    def now(self) -> float:
        return self.core.now()

    def seed(self, spec: SeedSpec | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Replace all data with a deterministic dataset; returns :meth:`info`."""
        if spec is None:
            spec = SeedSpec()
        elif not isinstance(spec, SeedSpec):
            data = dict(spec)
            spec = DEMO if data.get("preset") == "demo" else SeedSpec.from_json(data)
        seed(self.core, spec)
        return self.info()

    def seed_demo(self) -> dict[str, Any]:
        return self.seed(DEMO)

    def reset(self) -> None:
        """Forget everything: data, tokens, faults, webhook log (the clock offset stays)."""
        self.core.reset()

    def info(self) -> dict[str, Any]:
        store = self.store
        root = self.config.root_url
        token = store.tokens.get(store.demo_token or "")
        user = store.users.get(store.demo_user_id or "")
        visible = set()
        if token is not None:
            business_ok = set(token.granular.get("business_management") or [])
            for page_id in auth.user_pages(store, token):
                page = store.page(page_id)
                if page and (page.business_id is None or page.business_id in business_ok):
                    visible.add(page_id)
        pages_info = []
        for page in store.pages():
            page_token = auth.page_token_for(store, token, page.id).value if token else None
            pages_info.append(
                {
                    "id": page.id,
                    "name": page.name,
                    "access_token": page_token,
                    "instagram_business_account": page.ig_user_id,
                    "business_owned": page.business_id is not None,
                    "in_me_accounts": page.id in visible,
                    "subscribed_fields": page.subscribed_apps.get(self.config.app_id),
                    "conversations": len(page.conversations),
                    "posts": len(page.posts),
                }
            )
        objects = list(store.objects.values())
        return {
            "app_id": self.config.app_id,
            "graph_url": root,
            "graph_base_url": f"{root}/v25.0",
            "dialog_url": f"{root}/v25.0/dialog/oauth",
            "control_url": f"{root}/_control",
            "now": int(self.now()),
            "demo_user": (
                {
                    "id": user.id,
                    "name": user.name,
                    "access_token": token.value,
                    "expires_at": int(token.expires_at),
                    "scopes": token.scopes,
                }
                if user and token
                else None
            ),
            "pages": pages_info,
            "instagram_accounts": [
                {"id": o.id, "username": o.username, "page_id": o.page_id, "media": len(o.media)}
                for o in objects
                if isinstance(o, IGUser)
            ],
            "whatsapp_business_accounts": [
                {
                    "id": o.id,
                    "name": o.name,
                    "subscribed": self.config.app_id in o.subscribed_apps,
                    "phone_numbers": [
                        {"id": p.id, "display_phone_number": p.display_phone_number}
                        for p in o.phone_numbers
                    ],
                    "templates": [
                        {"id": t.id, "name": t.name, "language": t.language, "status": t.status}
                        for t in o.templates
                    ],
                }
                for o in objects
                if isinstance(o, WABA)
            ],
            "counts": _counts(store),
            "webhooks": {
                "callback": self.core.callback[0] if self.core.callback else None,
                "subscriptions": {k: v.callback_url for k, v in store.app.subscriptions.items()},
            },
        }

    # --- tokens and time -------------------------------------------------------------------------

    def issue_user_token(
        self,
        *,
        scopes: list[str] | None = None,
        long_lived: bool = True,
        user_id: str | None = None,
    ) -> str:
        """A fresh user token for a seeded user (the demo user by default)."""
        uid = user_id or self.store.demo_user_id
        if uid is None or uid not in self.store.users:
            raise LookupError("no such user; seed the sandbox first")
        token_scopes = scopes if scopes is not None else list(DEMO.scopes)
        return auth.issue_user_token(
            self.store, uid, token_scopes, self.now(), long_lived=long_lived
        ).value

    def revoke_token(self, token: str, reason: str = "logged_out") -> None:
        """Invalidate ``token`` (and Page tokens derived from it) like Meta: code 190 with the
        subcode of ``reason`` (logged_out 467, password_changed 460, app_removed 458,
        checkpoint 459)."""
        if reason not in auth.REVOCATIONS:
            raise ValueError(f"reason must be one of {sorted(auth.REVOCATIONS)}")
        auth.revoke(self.store, token, reason, self.config.app_id)

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired now (code 190/463 from then on)."""
        found = self.store.tokens.get(token)
        if found is None:
            raise KeyError(token)
        found.expires_at = self.now() - 1
        found.long_lived = False

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward (on top of the configured clock), then tick."""
        self.core.clock_offset += seconds
        self.core.tick()

    async def tick(self) -> None:
        """Run due timers now: template reviews, scheduled posts."""
        self.core.tick()

    # --- faults and webhooks ------------------------------------------------------------------

    def set_faults(self, spec: Mapping[str, Any]) -> None:
        self.core.faults = Faults.from_json(dict(spec))

    def clear_faults(self) -> None:
        self.core.faults = Faults()

    def configure_webhooks(
        self,
        *,
        callback_url: str | None = None,
        verify_token: str | None = None,
        duplicate: bool | None = None,
        reorder: bool | None = None,
        batch_size: int | None = None,
        retry_delays: list[float] | tuple[float, ...] | None = None,
    ) -> None:
        if callback_url is not None:
            self.core.callback = (callback_url, verify_token) if callback_url else None
        options = self.core.emitter.options
        if duplicate is not None:
            options.duplicate = duplicate
        if reorder is not None:
            options.reorder = reorder
        if batch_size is not None:
            options.batch_size = max(1, int(batch_size))
        if retry_delays is not None:
            options.retry_delays = tuple(float(d) for d in retry_delays)

    async def verify_webhook(
        self, callback_url: str | None = None, verify_token: str | None = None
    ) -> dict[str, Any]:
        """Meta's GET handshake against the callback (hub.mode / hub.verify_token /
        hub.challenge); ``ok`` is true when it echoed the challenge with a 200."""
        url = callback_url or (self.core.callback[0] if self.core.callback else None)
        if url is None:
            raise LookupError("no webhook callback configured")
        configured = self.core.callback[1] if self.core.callback else None
        return await self.core.emitter.verify(url, verify_token or configured or "")

    async def flush_webhooks(self) -> None:
        """Send held (batched/reordered) events and wait for every delivery and retry."""
        self.core.emitter.flush()
        await self.core.emitter.drain()

    @property
    def webhook_attempts(self) -> list[DeliveryAttempt]:
        return self.core.emitter.attempts

    @property
    def sender_actions(self) -> list[dict[str, Any]]:
        """Send API sender actions and WhatsApp read receipts, as Meta received them."""
        return self.store.sender_actions

    def calls(self) -> list[dict[str, Any]]:
        """The Graph calls received, oldest first (the newest few thousand): ``method``,
        ``path`` (without the version) and ``fields`` (the raw ``fields=``, or None)."""
        return list(self.core.call_log)

    def clear_calls(self) -> None:
        self.core.call_log.clear()

    # --- simulations (see simulate.py) -------------------------------------------------------

    async def simulate_inbound_message(self, **kwargs: Any) -> dict[str, Any]:
        """A person writes to a Page (``page_id``), an Instagram account (``ig_user_id``) or a
        WhatsApp number (``phone_number_id``)."""
        if kwargs.get("phone_number_id"):
            return simulate.wa_inbound(self.core, **kwargs)
        return simulate.inbound_message(self.core, **kwargs)

    async def simulate_echo(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.echo(self.core, **kwargs)

    async def simulate_delivery(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.delivery(self.core, **kwargs)

    async def simulate_read(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.read(self.core, **kwargs)

    async def simulate_reaction(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.reaction(self.core, **kwargs)

    async def simulate_status(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.wa_status(self.core, **kwargs)

    async def simulate_template_status(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.template_status(self.core, **kwargs)

    async def simulate_feed(self, **kwargs: Any) -> dict[str, Any]:
        return simulate.feed(self.core, **kwargs)

    async def aclose(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.core.emitter.aclose()


def _counts(store: Store) -> dict[str, int]:
    pages = [o for o in store.objects.values() if isinstance(o, Page)]
    conversations = [c for p in pages for c in p.conversations]
    return {
        "pages": len(pages),
        "conversations": len(conversations),
        "messages": sum(
            len(c.messages) if c.messages is not None else c.seeded_count for c in conversations
        ),
        "posts": sum(len(p.posts) for p in pages),
        "instagram_accounts": sum(1 for o in store.objects.values() if isinstance(o, IGUser)),
        "whatsapp_business_accounts": sum(1 for o in store.objects.values() if isinstance(o, WABA)),
    }


def create_sandbox_app(config: SandboxConfig) -> Sandbox:
    return Sandbox(config)
