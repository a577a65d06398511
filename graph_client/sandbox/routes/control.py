"""The control API under ``/_control``: seed, reset, info, tokens, clock, faults, webhooks and
simulations, each a thin JSON wrapper around a :class:`~graph_client.sandbox.app.Sandbox` method.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from graph_client.sandbox.app import Sandbox

Endpoint = Callable[["Sandbox", dict[str, Any]], Awaitable[Any]]
SIMULATIONS = (
    "message",
    "echo",
    "delivery",
    "read",
    "reaction",
    "status",
    "template_status",
    "feed",
)


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    def wrap(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                body = await _body(request)
                body.update(request.path_params)
                result = await endpoint(sandbox, body)
            except (LookupError, ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc) or type(exc).__name__}, 400)
            return JSONResponse(result if result is not None else {"success": True})

        return handler

    return [
        Route("/_control/info", wrap(_info), methods=["GET"]),
        Route("/_control/seed", wrap(_seed), methods=["POST"]),
        Route("/_control/reset", wrap(_reset), methods=["POST"]),
        Route("/_control/tokens/issue", wrap(_issue), methods=["POST"]),
        Route("/_control/tokens/revoke", wrap(_revoke), methods=["POST"]),
        Route("/_control/tokens/expire", wrap(_expire), methods=["POST"]),
        Route("/_control/clock", wrap(_clock), methods=["POST"]),
        Route("/_control/tick", wrap(_tick), methods=["POST"]),
        Route("/_control/faults", wrap(_faults), methods=["GET", "POST", "DELETE"]),
        Route("/_control/webhooks", wrap(_webhooks), methods=["GET", "POST"]),
        Route("/_control/webhooks/flush", wrap(_flush), methods=["POST"]),
        Route("/_control/webhooks/verify", wrap(_verify), methods=["POST"]),
        Route("/_control/sender_actions", wrap(_sender_actions), methods=["GET"]),
        Route("/_control/calls", wrap(_calls), methods=["GET", "DELETE"]),
        Route("/_control/simulate/{kind}", wrap(_simulate), methods=["POST"]),
    ]


async def _body(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = {"_method": request.method}
    raw = await request.body()
    if raw:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        body.update(data)
    return body


def _args(body: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if not k.startswith("_") and k not in drop}


async def _info(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    return sandbox.info()


async def _seed(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    return sandbox.seed(_args(body))


async def _reset(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    sandbox.reset()
    if body.get("seed_demo"):
        return sandbox.seed_demo()
    return {"success": True}


async def _issue(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    token = sandbox.issue_user_token(
        scopes=body.get("scopes"),
        long_lived=bool(body.get("long_lived", True)),
        user_id=body.get("user_id"),
    )
    return {"access_token": token}


async def _revoke(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    sandbox.revoke_token(str(body["token"]), str(body.get("reason", "logged_out")))
    return {"success": True}


async def _expire(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    sandbox.expire_token(str(body["token"]))
    return {"success": True}


async def _clock(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    sandbox.advance_clock(float(body.get("advance_seconds", 0)))
    return {"now": int(sandbox.now())}


async def _tick(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    await sandbox.tick()
    return {"now": int(sandbox.now())}


async def _faults(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    if body["_method"] == "DELETE":
        sandbox.clear_faults()
    elif body["_method"] == "POST":
        sandbox.set_faults(_args(body))
    return sandbox.core.faults.describe()


async def _webhooks(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    if body["_method"] == "POST":
        sandbox.configure_webhooks(**_args(body))
    emitter = sandbox.core.emitter
    return {
        "callback": sandbox.core.callback[0] if sandbox.core.callback else None,
        "options": {
            "duplicate": emitter.options.duplicate,
            "reorder": emitter.options.reorder,
            "batch_size": emitter.options.batch_size,
            "retry_delays": list(emitter.options.retry_delays),
        },
        "held": len(emitter.held),
        "attempts": [a.describe() for a in emitter.attempts[-200:]],
        "undeliverable": len(emitter.undeliverable),
    }


async def _flush(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    await sandbox.flush_webhooks()
    return {"attempts": len(sandbox.webhook_attempts)}


async def _verify(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    return await sandbox.verify_webhook(body.get("callback_url"), body.get("verify_token"))


async def _sender_actions(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    return {"data": sandbox.sender_actions}


async def _calls(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    if body["_method"] == "DELETE":
        sandbox.clear_calls()
    return {"data": sandbox.calls()}


async def _simulate(sandbox: Sandbox, body: dict[str, Any]) -> Any:
    kind = body["kind"]
    if kind not in SIMULATIONS:
        raise LookupError(f"unknown simulation {kind!r}; use one of {list(SIMULATIONS)}")
    method = {
        "message": sandbox.simulate_inbound_message,
        "echo": sandbox.simulate_echo,
        "delivery": sandbox.simulate_delivery,
        "read": sandbox.simulate_read,
        "reaction": sandbox.simulate_reaction,
        "status": sandbox.simulate_status,
        "template_status": sandbox.simulate_template_status,
        "feed": sandbox.simulate_feed,
    }[kind]
    result = await method(**_args(body, "kind", "wait"))
    if body.get("wait"):
        await sandbox.flush_webhooks()
    return result
