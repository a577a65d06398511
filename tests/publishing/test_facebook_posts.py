"""Every kind of Facebook post through the queue: text, link, one photo, a video, several
photos in one post; each ends published with Meta's id and permalink and is on the Page."""

from __future__ import annotations

from typing import Any

import httpx

from graph_client.sandbox.models import Page as SandboxPage
from graph_client.sandbox.models import Post as SandboxPost
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.publishing.conftest import instagram_of, settled
from tests.sync.test_engine import connected


def _sandbox_page(server: SandboxServer, meta_page_id: str) -> SandboxPage:
    page = server.sandbox.store.page(meta_page_id)
    assert page is not None
    return page


async def test_every_kind_of_facebook_post_is_published_on_the_page(
    sandbox_server: SandboxServer, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "fb-kinds")
    headers = sandbox_server.headers(tenant)
    account = {"socialAccountId": str(page.id), "platform": "facebook"}
    bodies: dict[str, dict[str, Any]] = {
        "text": {"caption": "Open until 8 tonight"},
        "link": {"caption": "Our spring menu", "link": "https://shrub.example/menu"},
        "photo": {
            "caption": "Fresh ferns",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/fern.png",  # any image for Facebook
        },
        "video": {
            "caption": "How we pot a cactus",
            "contentType": "video",
            "contentUrl": "https://cdn.example.com/cactus.mp4",
        },
        "multi_photo": {
            "caption": "Three new pots",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/pot1.jpg",
            "mediaUrls": ["https://cdn.example.com/pot2.jpg", "https://cdn.example.com/pot3.jpg"],
        },
    }
    created = {}
    for kind, body in bodies.items():
        answer = await http.post("/api/social/posts", headers=headers, json={**account, **body})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "queued"
        created[kind] = answer.json()["postId"]

    done = {kind: await settled(http, headers, post_id) for kind, post_id in created.items()}
    for kind, post in done.items():
        assert post["status"] == "published", (kind, post)
        assert post["platform_post_id"], kind
        assert post["platform_url"].startswith("https://www.facebook.com/"), (kind, post)
        assert post["published_at"], kind
        assert post["attempts"] == 1, kind
        assert post["error_message"] is None, kind
        assert post["caption"] == bodies[kind]["caption"]

    meta_page = _sandbox_page(sandbox_server, page.meta_page_id)
    on_page = {p.message: p for p in meta_page.posts if p.is_published}
    for kind, body in bodies.items():
        assert body["caption"] in on_page, kind
    assert on_page["Our spring menu"].link == "https://shrub.example/menu"
    # One photo: a published photo whose post is on the feed.
    (fern,) = [p for p in meta_page.photos if p.url.endswith("fern.png")]
    assert fern.published
    assert fern.post_id == on_page["Fresh ferns"].id
    assert done["photo"]["platform_post_id"] == fern.post_id
    # A video: the video is on the Page, its post on the feed.
    (video,) = [v for v in meta_page.videos if v.file_url.endswith("cactus.mp4")]
    assert video.description == "How we pot a cactus"
    assert done["video"]["platform_post_id"] == video.id
    # Several photos: each uploaded unpublished, then one post attaching them all.
    pots = [p for p in meta_page.photos if "/pot" in p.url]
    assert len(pots) == 3
    assert not any(p.published for p in pots)
    album: SandboxPost = on_page["Three new pots"]
    assert sorted(album.photo_ids) == sorted(p.id for p in pots)
    assert {p.post_id for p in pots} == {album.id}
    assert done["multi_photo"]["platform_post_id"] == album.id
    assert [p.message for p in meta_page.posts].count("Three new pots") == 1

    # Meta's feed webhooks for these posts do not add copies to the organization's list.
    listed = (await http.get("/api/social/posts?platform=facebook", headers=headers)).json()
    assert sorted(p["id"] for p in listed["posts"]) == sorted(created.values())

    # The Page's feed as the meta-business endpoint reads it shows them all.
    feed = await http.get(
        f"/api/meta/facebook/posts?pageId={page.meta_page_id}&limit=20", headers=headers
    )
    messages = [p["message"] for p in feed.json()["data"]["posts"]]
    for body in bodies.values():
        assert messages.count(body["caption"]) == 1


async def test_delete_removes_a_published_post_on_meta_and_a_failed_one_only_here(
    sandbox_server: SandboxServer, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "fb-delete")
    ig = await instagram_of(sandbox_server, page)
    headers = sandbox_server.headers(tenant)
    account = {"socialAccountId": str(page.id), "platform": "facebook"}
    made = {
        "text": {**account, "caption": "Short-lived"},
        "video": {
            **account,
            "caption": "Short-lived video",
            "contentType": "video",
            "contentUrl": "https://cdn.example.com/gone.mp4",
        },
        "failed": {
            "socialAccountId": str(ig.id),
            "platform": "instagram",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/too_large.jpg",
            "caption": "Never made it",
        },
        "instagram": {
            "socialAccountId": str(ig.id),
            "platform": "instagram",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/stays.jpg",
            "caption": "Stays on Instagram",
        },
    }
    posts = {}
    for kind, body in made.items():
        post_id = (await http.post("/api/social/posts", headers=headers, json=body)).json()
        posts[kind] = await settled(http, headers, post_id["postId"])
    assert [p["status"] for p in posts.values()] == ["published"] * 2 + ["failed", "published"]
    meta_page = _sandbox_page(sandbox_server, page.meta_page_id)

    async def delete(kind: str) -> httpx.Response:
        return await http.delete(f"/api/social/posts/{posts[kind]['id']}", headers=headers)

    gone = await delete("text")
    assert gone.json() == {"success": True, "deleted_on_meta": True}
    assert [p for p in meta_page.posts if p.message == "Short-lived"] == []
    gone = await delete("video")
    assert gone.json() == {"success": True, "deleted_on_meta": True}
    assert [v for v in meta_page.videos if v.file_url.endswith("gone.mp4")] == []
    assert [p for p in meta_page.posts if p.message == "Short-lived video"] == []

    # A failed post never reached Meta: deleted here only.
    local = await delete("failed")
    assert local.json() == {"success": True, "deleted_on_meta": False}
    # Instagram's API cannot delete media: said so, and the media stays.
    kept = await delete("instagram")
    assert kept.json()["deleted_on_meta"] is False
    assert "Instagram app" in kept.json()["meta_note"]
    media = sandbox_server.sandbox.store.get(posts["instagram"]["platform_post_id"])
    assert media is not None

    for post in posts.values():
        again = await http.get(f"/api/social/posts/{post['id']}", headers=headers)
        assert again.status_code == 404
        assert (
            await http.delete(f"/api/social/posts/{post['id']}", headers=headers)
        ).status_code == 404
    listed = (await http.get("/api/social/posts", headers=headers)).json()
    assert listed["total"] == 0
