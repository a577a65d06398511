"""Never twice: a publishing call whose answer was lost leaves the post ``unconfirmed``; the
next run reads Meta and finds it (published once), or publishes it once when Meta never got
it. Same for Facebook and Instagram, and for the same Idempotency-Key sent twice."""

from __future__ import annotations

from typing import Any

import httpx

from graph_client.sandbox.models import IGContainer, IGMedia, IGUser
from graph_client.sandbox.models import Post as SandboxPost
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.publishing.conftest import (
    SandboxTime,
    instagram_of,
    publisher,
    queued_post,
    settled,
    stored,
)
from tests.sync.test_engine import connected

JPEG = {"url": "https://cdn.example.com/once.jpg", "kind": "image", "thumbnail_url": None}
# The answer is lost after Meta applied the call (a gateway's empty 502) ...
LOST_ANSWER: dict[str, Any] = {"kind": "server_error", "status": 502, "body": "empty"}
# ... or the call timed out before Meta got it: the client cannot tell the two apart.
NEVER_ARRIVED: dict[str, Any] = {"kind": "timeout", "mode": "raise"}


def _fault(server: SandboxServer, kind: dict[str, Any], path: str, applied: bool) -> None:
    rule = {**kind, "times": 1, "method": "POST", "path": path, "applied": applied}
    server.sandbox.set_faults({"rules": [rule]})


def _feed(server: SandboxServer, meta_page_id: str, message: str) -> list[SandboxPost]:
    page = server.sandbox.store.page(meta_page_id)
    assert page is not None
    return [p for p in page.posts if p.message == message]


def _ig_media(server: SandboxServer, ig_id: str, caption: str) -> list[IGMedia]:
    ig = server.sandbox.store.get(ig_id)
    assert isinstance(ig, IGUser)
    return [m for m in ig.media if m.caption == caption]


def _containers(server: SandboxServer, ig_id: str) -> list[IGContainer]:
    objects = server.sandbox.store.objects.values()
    return [o for o in objects if isinstance(o, IGContainer) and o.ig_user_id == ig_id]


async def test_facebook_post_applied_but_unanswered_is_found_not_resent(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "fb-lost")
    _fault(sandbox_server, LOST_ANSWER, f"^/{page.meta_page_id}/feed$", applied=True)
    post_id = await queued_post(
        sandbox_server, page, platform="facebook", type="text", message="Posted once"
    )
    worker = publisher(sandbox_server, SandboxTime(sandbox_server.sandbox))

    assert await worker.run(post_id) is True  # run again later: Meta must be read first
    post = await stored(sandbox_server, post_id)
    assert post.status == "unconfirmed"
    assert post.last_error == "Meta did not confirm the post; checking Meta before retrying."
    (on_meta,) = _feed(sandbox_server, page.meta_page_id, "Posted once")

    assert await worker.run(post_id) is False
    post = await stored(sandbox_server, post_id)
    assert post.status == "published"
    assert post.meta_post_id == on_meta.id
    assert post.permalink
    assert post.attempts == 1  # found on Meta, not sent again
    assert post.last_error is None
    assert len(_feed(sandbox_server, page.meta_page_id, "Posted once")) == 1


async def test_facebook_post_meta_never_got_is_published_once(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "fb-never")
    _fault(sandbox_server, NEVER_ARRIVED, f"^/{page.meta_page_id}/feed$", applied=False)
    post_id = await queued_post(
        sandbox_server, page, platform="facebook", type="text", message="Sent after a check"
    )
    worker = publisher(sandbox_server, SandboxTime(sandbox_server.sandbox))
    assert await worker.run(post_id) is True
    assert (await stored(sandbox_server, post_id)).status == "unconfirmed"
    assert _feed(sandbox_server, page.meta_page_id, "Sent after a check") == []

    assert await worker.run(post_id) is False
    post = await stored(sandbox_server, post_id)
    assert post.status == "published"
    assert post.attempts == 2
    (on_meta,) = _feed(sandbox_server, page.meta_page_id, "Sent after a check")
    assert post.meta_post_id == on_meta.id


async def test_instagram_publish_applied_but_unanswered_is_found_not_resent(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "ig-lost")
    ig = await instagram_of(sandbox_server, page)
    _fault(sandbox_server, LOST_ANSWER, f"^/{ig.meta_ig_id}/media_publish$", applied=True)
    post_id = await queued_post(
        sandbox_server,
        page,
        ig=ig,
        platform="instagram",
        type="image",
        message="IG once",
        media=[JPEG],
    )
    worker = publisher(sandbox_server, SandboxTime(sandbox_server.sandbox))

    assert await worker.run(post_id) is True
    post = await stored(sandbox_server, post_id)
    assert post.status == "unconfirmed"
    (on_meta,) = _ig_media(sandbox_server, ig.meta_ig_id, "IG once")

    assert await worker.run(post_id) is False
    post = await stored(sandbox_server, post_id)
    assert post.status == "published"
    assert post.meta_post_id == on_meta.id
    assert post.permalink == on_meta.permalink
    assert post.attempts == 1
    assert len(_ig_media(sandbox_server, ig.meta_ig_id, "IG once")) == 1
    assert len(_containers(sandbox_server, ig.meta_ig_id)) == 1


async def test_instagram_publish_meta_never_got_is_published_once(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "ig-never")
    ig = await instagram_of(sandbox_server, page)
    _fault(sandbox_server, NEVER_ARRIVED, f"^/{ig.meta_ig_id}/media_publish$", applied=False)
    post_id = await queued_post(
        sandbox_server,
        page,
        ig=ig,
        platform="instagram",
        type="image",
        message="IG later",
        media=[JPEG],
    )
    worker = publisher(sandbox_server, SandboxTime(sandbox_server.sandbox))
    assert await worker.run(post_id) is True
    assert (await stored(sandbox_server, post_id)).status == "unconfirmed"
    assert _ig_media(sandbox_server, ig.meta_ig_id, "IG later") == []

    assert await worker.run(post_id) is False
    post = await stored(sandbox_server, post_id)
    assert post.status == "published"
    (on_meta,) = _ig_media(sandbox_server, ig.meta_ig_id, "IG later")
    assert post.meta_post_id == on_meta.id


async def test_the_queue_reconciles_an_unanswered_post_on_its_own(
    sandbox_server: SandboxServer, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    """Through the API and the worker: the unanswered publish is retried by the queue, which
    finds the post on Meta; and the same Idempotency-Key twice is one post."""
    tenant, page = await connected(sandbox_server, runtime, "fb-queue-lost")
    headers = {**sandbox_server.headers(tenant), "Idempotency-Key": "launch-2026"}
    _fault(sandbox_server, LOST_ANSWER, f"^/{page.meta_page_id}/feed$", applied=True)
    body = {"socialAccountId": str(page.id), "platform": "facebook", "caption": "Launch day"}
    first = await http.post("/api/social/posts", headers=headers, json=body)
    again = await http.post("/api/social/posts", headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json()["postId"] == again.json()["postId"]

    post = await settled(http, headers, first.json()["postId"])
    assert post["status"] == "published"
    assert post["attempts"] == 1
    assert len(_feed(sandbox_server, page.meta_page_id, "Launch day")) == 1
    later = await http.post("/api/social/posts", headers=headers, json=body)
    assert later.json()["postId"] == first.json()["postId"]
    listed = (await http.get("/api/social/posts", headers=headers)).json()
    assert listed["total"] == 1, [
        (p["id"], p["status"], p["social_account"]) for p in listed["posts"]
    ]
