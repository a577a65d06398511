"""The post queue when Meta misbehaves: an unconfirmed post stays unconfirmed until Meta has
been read, and calls the Graph client held back (circuit open) cost no attempt."""

from __future__ import annotations

from domain.models import Page
from domain.services.publishing import UNAVAILABLE, Publisher
from domain.tokens import unseal
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.publishing.conftest import queued_post, stored
from tests.sync.test_engine import connected


def _publisher(server: SandboxServer) -> Publisher:
    services = server.runtime.services

    async def no_wait(_seconds: float) -> None:
        return None

    return Publisher(
        services.uow, services.meta, services.vault, services.clock, services.rate_gate, no_wait
    )


async def test_an_unconfirmed_post_whose_check_failed_is_checked_again_not_resent(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "queue-unconfirmed")
    services = sandbox_server.runtime.services
    post_id = await queued_post(
        sandbox_server, page, platform="facebook", type="text", message="Exactly once",
        status="unconfirmed",
    )  # fmt: skip
    async with services.session_factory() as session:
        row = await session.get(Page, page.id)
        assert row is not None
        token = unseal(services.vault, row)
    assert token is not None
    # The earlier attempt did reach Meta.
    await services.meta.create_feed_post(page.meta_page_id, token, message="Exactly once")

    # Reading the Page's posts fails (every try of the client's): nothing is decided.
    posts = f"^/{page.meta_page_id}/published_posts$"
    sandbox_server.sandbox.set_faults(
        {"rules": [{"kind": "server_error", "times": 4, "method": "GET", "path": posts}]}
    )
    assert await _publisher(sandbox_server).run(post_id) is True
    waiting = await stored(sandbox_server, post_id)
    assert waiting.status == "unconfirmed"

    sandbox_server.sandbox.clear_faults()
    assert await _publisher(sandbox_server).run(post_id) is False
    done = await stored(sandbox_server, post_id)
    assert done.status == "published"
    window = await services.meta.page_posts(page.meta_page_id, token, limit=50)
    assert [p.message for p in window.items].count("Exactly once") == 1


async def test_a_call_held_back_by_the_circuit_breaker_costs_no_attempt(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "queue-breaker")
    post_id = await queued_post(
        sandbox_server, page, platform="facebook", type="text", message="Patience"
    )
    feed = f"^/{page.meta_page_id}/feed$"
    sandbox_server.sandbox.set_faults(
        {"rules": [{"kind": "server_error", "method": "POST", "path": feed}]}
    )
    publisher = _publisher(sandbox_server)
    attempts: list[int] = []
    for _ in range(4):
        assert await publisher.run(post_id) is True
        attempts.append((await stored(sandbox_server, post_id)).attempts)
    post = await stored(sandbox_server, post_id)
    # The first attempt's four tries failed; the fifth failure, in the second run, opened the
    # breaker, which then held every call back: none of that counts as an attempt.
    assert attempts == [1, 1, 1, 1]
    assert post.status == "queued"
    assert post.last_error == UNAVAILABLE
