"""Pages and posts: profile updates, scheduled and unpublished posts, photos in posts, comments,
and the feed webhooks they cause."""

from __future__ import annotations

import json
from typing import Any

from sandbox_helpers import FakeClock, Graph, Receiver, subscribe_everything

from graph_client.sandbox import Sandbox


async def test_page_update(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    path = f"/v25.0/{page['id']}"
    update = {"about": "Plants & pots", "phone": "+1 650 555 0100", "emails": ["a@b.c"]}
    assert (await graph.post(path, token=page_token, json=update)).json() == {"success": True}
    fields = "about,phone,emails,website"
    body = (await graph.get(path, token=page_token, fields=fields)).json()
    assert (body["about"], body["phone"], body["emails"]) == (
        "Plants & pots",
        "+1 650 555 0100",
        ["a@b.c"],
    )
    unknown = await graph.post(path, token=page_token, json={"favourite_colour": "green"})
    assert unknown.json()["error"]["code"] == 100
    as_user = await graph.post(path, json={"about": "x"})  # needs the Page token
    assert as_user.json()["error"]["code"] == 190


async def test_scheduled_post_publishes_on_time(
    sandbox: Sandbox,
    graph: Graph,
    page: dict[str, Any],
    page_token: str,
    clock: FakeClock,
    receiver: Receiver,
) -> None:
    subscribe_everything(sandbox)
    path = f"/v25.0/{page['id']}"
    too_soon = await graph.post(
        f"{path}/feed",
        token=page_token,
        json={"message": "soon", "published": False, "scheduled_publish_time": int(clock.now) + 60},
    )
    assert too_soon.json()["error"]["message"] == (
        "(#100) The specified scheduled publish time is invalid."
    )
    when = int(clock.now) + 3600
    created = await graph.post(
        f"{path}/feed",
        token=page_token,
        json={"message": "later", "published": False, "scheduled_publish_time": when},
    )
    post_id = created.json()["id"]
    scheduled = (await graph.get(f"{path}/scheduled_posts", token=page_token)).json()["data"]
    assert [p["id"] for p in scheduled] == [post_id]
    feed_ids = [p["id"] for p in (await graph.get(f"{path}/feed", token=page_token)).json()["data"]]
    assert post_id not in feed_ids

    clock.advance(3601)
    await sandbox.tick()
    await sandbox.flush_webhooks()
    post = (await graph.get(f"/v25.0/{post_id}", token=page_token, fields="is_published")).json()
    assert post["is_published"] is True
    (payload,) = [json.loads(b) for b in receiver.bodies]
    value = payload["entry"][0]["changes"][0]["value"]
    assert (value["post_id"], value["verb"], value["published"]) == (post_id, "add", 1)


async def test_dark_posts_and_photos_in_posts(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    path = f"/v25.0/{page['id']}"
    photo = await graph.post(
        f"{path}/photos", token=page_token, json={"url": "https://e.com/p.jpg", "published": False}
    )
    dark = await graph.post(
        f"{path}/feed",
        token=page_token,
        json={
            "message": "dark",
            "published": False,
            "attached_media": [{"media_fbid": photo.json()["id"]}],
        },
    )
    post_id = dark.json()["id"]
    # A photo used in a post cannot be deleted on its own (facts §5).
    refused = await graph.delete(f"/v25.0/{photo.json()['id']}", token=page_token)
    assert (refused.json()["error"]["code"], refused.json()["error"]["error_subcode"]) == (100, 33)
    for _ in range(2):  # publishing is idempotent
        published = await graph.post(
            f"/v25.0/{post_id}", token=page_token, json={"is_published": True}
        )
        assert published.json() == {"success": True}
    post = await graph.get(
        f"/v25.0/{post_id}", token=page_token, fields="full_picture,is_published"
    )
    assert post.json()["full_picture"] == "https://e.com/p.jpg"


async def test_comments_and_replies(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    created = await graph.post(
        f"/v25.0/{page['id']}/feed", token=page_token, json={"message": "Q?"}
    )
    post_id = created.json()["id"]
    visitor = await sandbox.simulate_feed(page_id=page["id"], post_id=post_id, message="A!")
    comment_id = visitor["comment_id"]
    reply = await graph.post(
        f"/v25.0/{comment_id}/comments", token=page_token, json={"message": "ty"}
    )
    hidden = await graph.post(f"/v25.0/{comment_id}", token=page_token, json={"is_hidden": True})
    assert hidden.json() == {"success": True}
    top = await graph.get(
        f"/v25.0/{post_id}/comments", token=page_token, fields="id,comment_count,is_hidden"
    )
    assert top.json()["data"] == [{"id": comment_id, "comment_count": 1, "is_hidden": True}]
    replies = await graph.get(f"/v25.0/{comment_id}/comments", token=page_token, fields="parent")
    assert replies.json()["data"] == [{"parent": {"id": comment_id}, "id": reply.json()["id"]}]
    deleted = await graph.delete(f"/v25.0/{reply.json()['id']}", token=page_token)
    assert deleted.json() == {"success": True}
