"""Instagram's container flow: reels, stories and carousels through the queue; container
polling, ERROR and EXPIRED containers, "not ready" at publish, the publishing quota, and media
checked before anything reaches Meta."""

from __future__ import annotations

from typing import Any

import httpx

from graph_client.sandbox.models import IGContainer, IGMedia, IGUser
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

JPEG = {"url": "https://cdn.example.com/shrub.jpg", "kind": "image", "thumbnail_url": None}


def _containers(server: SandboxServer, ig_id: str) -> list[IGContainer]:
    objects = server.sandbox.store.objects.values()
    return [o for o in objects if isinstance(o, IGContainer) and o.ig_user_id == ig_id]


def _media(server: SandboxServer, ig_id: str) -> list[IGMedia]:
    ig = server.sandbox.store.get(ig_id)
    assert isinstance(ig, IGUser)
    return list(ig.media)


def _published_captions(server: SandboxServer, ig_id: str) -> list[str | None]:
    """Captions of the media published from containers (the seeded media had none)."""
    published = {c.published_media_id for c in _containers(server, ig_id) if not c.is_carousel_item}
    return [m.caption for m in _media(server, ig_id) if m.id in published]


async def test_reel_story_and_carousel_go_through_containers(
    sandbox_server: SandboxServer, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "ig-kinds")
    ig = await instagram_of(sandbox_server, page)
    headers = sandbox_server.headers(tenant)
    account = {"socialAccountId": str(ig.id), "platform": "instagram"}
    bodies: dict[str, dict[str, Any]] = {
        "reel": {
            "postType": "reel",
            "contentType": "video",
            "contentUrl": "https://cdn.example.com/repotting.mp4",
            "thumbnailUrl": "https://cdn.example.com/repotting-cover.jpg",
            "caption": "Repotting in 30 seconds",
        },
        "story": {
            "postType": "story",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/today.jpg",
            "caption": "Stories take no caption",
        },
        "carousel": {
            "postType": "feed",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/c1.jpg",
            "mediaUrls": ["https://cdn.example.com/c2.jpg", "https://cdn.example.com/c3.jpeg"],
            "caption": "Three succulents",
        },
    }
    created = {}
    for kind, body in bodies.items():
        answer = await http.post("/api/social/posts", headers=headers, json={**account, **body})
        assert answer.status_code == 200, answer.text
        created[kind] = answer.json()["postId"]
    done = {kind: await settled(http, headers, post_id) for kind, post_id in created.items()}
    for kind, post in done.items():
        assert post["status"] == "published", (kind, post)
        assert post["platform_url"].startswith("https://www.instagram.com/"), kind
        assert post["platform_post_id"], kind
    assert done["reel"]["post_type"] == "reel"
    assert done["story"]["post_type"] == "story"
    assert done["reel"]["platform_url"].startswith("https://www.instagram.com/reel/")

    containers = _containers(sandbox_server, ig.meta_ig_id)
    (reel,) = [c for c in containers if c.media_type == "REELS"]
    assert reel.video_url == bodies["reel"]["contentUrl"]
    assert reel.cover_url == bodies["reel"]["thumbnailUrl"]
    assert reel.caption == "Repotting in 30 seconds"
    (story,) = [c for c in containers if c.media_type == "STORIES"]
    assert story.image_url == bodies["story"]["contentUrl"]
    assert story.caption is None
    (album,) = [c for c in containers if c.media_type == "CAROUSEL"]
    children = [c for c in containers if c.id in album.children]
    assert [c.image_url for c in children] == [
        "https://cdn.example.com/c1.jpg",
        "https://cdn.example.com/c2.jpg",
        "https://cdn.example.com/c3.jpeg",
    ]
    assert all(c.is_carousel_item and c.caption is None for c in children)
    assert album.caption == "Three succulents"
    assert len(containers) == 6  # nothing made twice

    media = {m.id: m for m in _media(sandbox_server, ig.meta_ig_id)}
    assert media[done["reel"]["platform_post_id"]].media_product_type == "REELS"
    assert media[done["reel"]["platform_post_id"]].thumbnail_url == bodies["reel"]["thumbnailUrl"]
    assert media[done["story"]["platform_post_id"]].media_product_type == "STORY"
    assert media[done["carousel"]["platform_post_id"]].media_type == "CAROUSEL_ALBUM"
    listed = await http.get(f"/api/meta/instagram/media?accountId={ig.meta_ig_id}", headers=headers)
    by_id = {m["id"]: m for m in listed.json()["data"]["media"]}
    assert by_id[done["reel"]["platform_post_id"]]["mediaProductType"] == "REELS"
    assert by_id[done["carousel"]["platform_post_id"]]["mediaType"] == "CAROUSEL_ALBUM"


async def test_container_is_polled_until_finished_then_published(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "ig-poll")
    ig = await instagram_of(sandbox_server, page)
    ready_after = sandbox_server.sandbox.core.config.container_ready_seconds
    post_id = await queued_post(
        sandbox_server,
        page,
        ig=ig,
        platform="instagram",
        type="image",
        message="Polled",
        media=[JPEG],
    )
    time = SandboxTime(sandbox_server.sandbox)
    assert await publisher(sandbox_server, time).run(post_id) is False

    post = await stored(sandbox_server, post_id)
    assert post.status == "published"
    assert post.permalink
    # Meta said IN_PROGRESS until the container was ready: the publisher waited that long
    # (on Meta's clock, not for real) and published once.
    assert sum(time.slept) >= ready_after
    assert _published_captions(sandbox_server, ig.meta_ig_id) == ["Polled"]
    (container,) = _containers(sandbox_server, ig.meta_ig_id)
    assert post.meta_container_ids == [container.id]
    assert container.published_media_id == post.meta_post_id


async def test_error_and_expired_containers_fail_the_post_with_a_reason(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "ig-bad")
    ig = await instagram_of(sandbox_server, page)
    broken = {**JPEG, "url": "https://cdn.example.com/processing_error.jpg"}
    post_id = await queued_post(
        sandbox_server, page, ig=ig, platform="instagram", type="image", message="x", media=[broken]
    )
    time = SandboxTime(sandbox_server.sandbox)
    assert await publisher(sandbox_server, time).run(post_id) is False
    post = await stored(sandbox_server, post_id)
    assert post.status == "failed"
    assert post.last_error == "Instagram could not use this media's format."
    assert post.last_error_code == "meta:None/2207026"

    # A worker that stalls for a day between polls finds the container expired.
    expired_id = await queued_post(
        sandbox_server, page, ig=ig, platform="instagram", type="image", message="y", media=[JPEG]
    )

    class Stalled(SandboxTime):
        async def sleep(self, seconds: float) -> None:
            await super().sleep(24 * 3600)

    assert await publisher(sandbox_server, Stalled(sandbox_server.sandbox)).run(expired_id) is False
    post = await stored(sandbox_server, expired_id)
    assert post.status == "failed"
    assert post.last_error == "The prepared Instagram media expired before it was published."
    assert _published_captions(sandbox_server, ig.meta_ig_id) == []


async def test_not_ready_at_publish_is_retried_until_it_publishes(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "ig-9007")
    ig = await instagram_of(sandbox_server, page)
    # Meta answers 9007/2207027 even after FINISHED: more times than the Graph client's own
    # retries (1 + 3), so the publisher's retry is what gets it through.
    sandbox_server.sandbox.set_faults(
        {
            "rules": [
                {
                    "kind": "meta_error",
                    "code": 9007,
                    "subcode": 2207027,
                    "status": 400,
                    "message": "Media ID is not available",
                    "times": 4,
                    "method": "POST",
                    "path": f"^/{ig.meta_ig_id}/media_publish$",
                }
            ]
        }
    )
    post_id = await queued_post(
        sandbox_server,
        page,
        ig=ig,
        platform="instagram",
        type="image",
        message="Late",
        media=[JPEG],
    )
    time = SandboxTime(sandbox_server.sandbox)
    assert await publisher(sandbox_server, time).run(post_id) is False
    post = await stored(sandbox_server, post_id)
    assert post.status == "published"
    assert post.attempts == 1
    assert sandbox_server.sandbox.core.faults.describe()["rules"][0]["fired"] == 4
    assert _published_captions(sandbox_server, ig.meta_ig_id) == ["Late"]
    assert len(_containers(sandbox_server, ig.meta_ig_id)) == 1


async def test_quota_reached_fails_before_any_container_is_made(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    _, page = await connected(sandbox_server, runtime, "ig-quota")
    ig = await instagram_of(sandbox_server, page)
    sandbox_server.sandbox.core.config.ig_publishing_quota = 1
    time = SandboxTime(sandbox_server.sandbox)
    first = await queued_post(
        sandbox_server, page, ig=ig, platform="instagram", type="image", message="1", media=[JPEG]
    )
    assert await publisher(sandbox_server, time).run(first) is False
    assert (await stored(sandbox_server, first)).status == "published"
    made = len(_containers(sandbox_server, ig.meta_ig_id))

    second = await queued_post(
        sandbox_server, page, ig=ig, platform="instagram", type="image", message="2", media=[JPEG]
    )
    assert await publisher(sandbox_server, time).run(second) is False
    post = await stored(sandbox_server, second)
    assert post.status == "failed"
    assert post.last_error == "Instagram's publishing limit for the last 24 hours is reached."
    assert len(_containers(sandbox_server, ig.meta_ig_id)) == made
    assert _published_captions(sandbox_server, ig.meta_ig_id) == ["1"]


async def test_media_is_checked_when_the_post_is_created(
    sandbox_server: SandboxServer, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "ig-media")
    ig = await instagram_of(sandbox_server, page)
    headers = sandbox_server.headers(tenant)
    image = {"socialAccountId": str(ig.id), "platform": "instagram", "contentType": "image"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**image, "contentUrl": "https://cdn.example.com/a.png"}, "contentUrl"),
        ({**image, "contentUrl": "ftp://cdn.example.com/a.jpg"}, "contentUrl"),
        ({**image, "contentUrl": "/local/a.jpg"}, "contentUrl"),
        (
            {
                **image,
                "contentUrl": "https://cdn.example.com/a.jpg",
                "mediaUrls": ["https://cdn.example.com/b.gif"],
            },
            "mediaUrls[0]",
        ),
        (
            {
                **image,
                "contentType": "video",
                "postType": "reel",
                "contentUrl": "https://cdn.example.com/a.avi",
            },
            "contentUrl",
        ),
        (
            {
                **image,
                "contentType": "video",
                "postType": "reel",
                "contentUrl": "https://cdn.example.com/a.mp4",
                "thumbnailUrl": "file:///cover.jpg",
            },
            "thumbnailUrl",
        ),
        ({**image, "contentType": "gif", "contentUrl": "https://x.example/a.jpg"}, "contentType"),
        ({**image, "postType": "reel", "contentUrl": "https://x.example/a.jpg"}, "contentType"),
        ({**image, "contentUrl": None}, "contentUrl"),
    ]
    for body, field in cases:
        answer = await http.post("/api/social/posts", headers=headers, json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"] == "validation_error"
        assert field in answer.json()["fields"], (body, answer.json())
    listed = (await http.get("/api/social/posts", headers=headers)).json()
    assert listed["total"] == 0
    assert _containers(sandbox_server, ig.meta_ig_id) == []
