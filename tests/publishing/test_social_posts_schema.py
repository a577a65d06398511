"""The social posts endpoints answer what /openapi.json declares, successes and errors alike."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.publishing.conftest import instagram_of, settled
from tests.publishing.schema_check import assert_matches
from tests.sync.test_engine import connected

POSTS = "/api/social/posts"
ONE = "/api/social/posts/{postId}"


async def test_social_posts_answers_match_their_declared_schemas(
    sandbox_server: SandboxServer, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    spec = (await http.get("/openapi.json")).json()
    tenant, page = await connected(sandbox_server, runtime, "social-schema")
    ig = await instagram_of(sandbox_server, page)
    headers = sandbox_server.headers(tenant)

    async def call(method: str, path: str, declared: str, json: Any = None) -> httpx.Response:
        response = await http.request(method, path, headers=headers, json=json)
        assert_matches(spec, method, declared, response.json(), response.status_code)
        return response

    made = await call(
        "POST",
        POSTS,
        POSTS,
        json={
            "socialAccountId": str(ig.id),
            "platform": "instagram",
            "contentType": "image",
            "contentUrl": "https://cdn.example.com/schema.jpg",
            "caption": "Declared",
        },
    )
    assert made.status_code == 200
    post_id = made.json()["postId"]
    await settled(http, headers, post_id)
    listed = await call("GET", f"{POSTS}?platform=instagram", POSTS)
    assert listed.json()["total"] == 1
    one = await call("GET", f"{POSTS}/{post_id}", ONE)
    assert one.json()["status"] == "published"

    bad = await call("POST", POSTS, POSTS, json={"socialAccountId": "x", "platform": "facebook"})
    assert bad.status_code == 400
    assert (await call("GET", f"{POSTS}?limit=0", POSTS)).status_code == 400
    assert (await call("GET", f"{POSTS}/{uuid.uuid4()}", ONE)).status_code == 404
    assert (await call("GET", f"{POSTS}/not-an-id", ONE)).status_code == 400
    gone = await call("DELETE", f"{POSTS}/{post_id}", ONE)
    assert gone.json()["success"] is True
    assert (await call("DELETE", f"{POSTS}/{post_id}", ONE)).status_code == 404
    anonymous = await http.get(POSTS)
    assert_matches(spec, "GET", POSTS, anonymous.json(), anonymous.status_code)
    assert anonymous.status_code == 401
