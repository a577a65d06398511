"""Posts in GraphQL: createPost / deletePost / retryPost, the lists and postStatus over a real
graphql-transport-ws socket, against a sandbox-mode server and a real worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from schema.scalars import encode_global_id
from server import Runtime, build_runtime, close_runtime, create_app
from tests.conftest import Tenant, free_port, live_server, make_settings
from tests.connections.conftest import SandboxServer
from tests.publishing.conftest import instagram_of
from tests.rest_sync.conftest import running_worker
from tests.sync.test_engine import connected

POST_FIELDS = "id status attempts error permalink metaPostId platform type message"
CREATE = f"""
mutation($input: CreatePostInput!) {{
  createPost(input: $input) {{
    __typename
    ... on PostSuccess {{ created post {{ {POST_FIELDS} }} }}
    ... on ValidationError {{ message fields {{ field message }} }}
    ... on NotFoundError {{ message }}
  }}
}}
"""
STATUS = f"subscription($id: ID!) {{ postStatus(postId: $id) {{ {POST_FIELDS} }} }}"


@pytest.fixture
async def sandbox_server(runtime: Runtime) -> AsyncIterator[SandboxServer]:
    """The publishing suite's server (Meta's webhooks over HTTP) without its always-on
    worker: these tests start one when they want the queue to move, so a subscription can
    be opened while a post is still queued."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(runtime.settings.DATABASE_URL, FRONTEND_URL=f"{base}/frontend")
    rt = build_runtime(settings, sandbox=True, public_url=base, in_process_webhooks=False)
    app = create_app(rt, migrate_on_start=False, run_worker=False, run_scheduler=False)
    async with live_server(app, port):
        yield SandboxServer(rt, base)
    await close_runtime(rt)


@contextlib.asynccontextmanager
async def worker(server: SandboxServer) -> AsyncIterator[None]:
    """A worker until the block ends and Meta's webhooks about its posts are applied (left
    in a Redis queue, they would reach later tests' organizations holding the same Page)."""
    async with running_worker(server.runtime):
        yield
        await server.sandbox.core.emitter.drain()


async def _gql(
    client: httpx.AsyncClient, server: SandboxServer, tenant: Tenant, query: str, **variables: Any
) -> dict[str, Any]:
    answer = await client.post(
        "/graphql",
        headers=server.headers(tenant),
        json={"query": query, "variables": variables},
    )
    body = answer.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _post(
    client: httpx.AsyncClient, server: SandboxServer, tenant: Tenant, post_id: str
) -> dict[str, Any]:
    query = f"query($id: ID!) {{ post(id: $id) {{ {POST_FIELDS} }} }}"
    return (await _gql(client, server, tenant, query, id=post_id))["post"]  # type: ignore[no-any-return]


async def _settled(
    client: httpx.AsyncClient, server: SandboxServer, tenant: Tenant, post_id: str
) -> dict[str, Any]:
    # Up to a minute: a retry may wait for the Graph client's circuit breaker to close.
    for _ in range(600):
        post = await _post(client, server, tenant, post_id)
        if post["status"] in ("PUBLISHED", "FAILED"):
            return post
        await asyncio.sleep(0.1)
    raise AssertionError(f"post {post_id} did not settle")


async def test_post_status_shows_each_step_of_an_instagram_post(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    sandbox_server.sandbox.core.config.container_ready_seconds = 0.5
    tenant, page = await connected(sandbox_server, runtime, "gql-post")
    ig = await instagram_of(sandbox_server, page)
    async with sandbox_server.client() as client:
        data = await _gql(
            client, sandbox_server, tenant, CREATE,
            input={
                "accountId": encode_global_id("InstagramAccount", ig.id),
                "message": "Fresh ferns",
                "media": [{"url": "https://cdn.example.com/ferns.jpg", "kind": "IMAGE"}],
                "idempotencyKey": "ferns-1",
            },
        )  # fmt: skip
        created = data["createPost"]
        assert created["__typename"] == "PostSuccess"
        assert created["created"] is True
        post = created["post"]
        assert (post["status"], post["platform"], post["type"]) == ("QUEUED", "INSTAGRAM", "image")

        url = sandbox_server.base.replace("http://", "ws://") + "/graphql"
        token = sandbox_server.headers(tenant)["Authorization"]
        steps: list[dict[str, Any]] = []
        async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": token}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"query": STATUS, "variables": {"id": post["id"]}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            steps.append(first["payload"]["data"]["postStatus"])
            # Only now does a worker take the job: every step after the first is live.
            async with worker(sandbox_server):
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if message["type"] == "complete":
                        break
                    assert message["type"] == "next", message
                    steps.append(message["payload"]["data"]["postStatus"])
        assert [s["status"] for s in steps] == ["QUEUED", "PROCESSING", "PUBLISHED"]
        assert steps[1]["attempts"] == 1
        assert steps[-1]["permalink"].startswith("https://www.instagram.com/")
        assert steps[-1]["metaPostId"]

        # The same idempotency key answers the same post, not a second one.
        again = await _gql(
            client, sandbox_server, tenant, CREATE,
            input={
                "accountId": encode_global_id("InstagramAccount", ig.id),
                "message": "Fresh ferns",
                "media": [{"url": "https://cdn.example.com/ferns.jpg", "kind": "IMAGE"}],
                "idempotencyKey": "ferns-1",
            },
        )  # fmt: skip
        assert again["createPost"]["created"] is False
        assert again["createPost"]["post"]["id"] == post["id"]

        listed = await _gql(
            client, sandbox_server, tenant,
            """query($ig: ID!) {
                 posts(filter: {platform: INSTAGRAM}) { totalCount edges { node { id } } }
                 node(id: $ig) { ... on InstagramAccount {
                   media(filter: {status: [PUBLISHED]}) {
                     totalCount edges { node { id permalink } }
                   }
                 } }
               }""",
            ig=encode_global_id("InstagramAccount", ig.id),
        )  # fmt: skip
        assert listed["posts"]["totalCount"] == 1
        assert listed["posts"]["edges"][0]["node"]["id"] == post["id"]
        media = listed["node"]["media"]
        assert media["totalCount"] == 1
        assert media["edges"][0]["node"]["id"] == post["id"]


async def test_create_validation_lists_delete_and_isolation(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "gql-post-crud")
    stranger, _ = await connected(sandbox_server, runtime, "gql-post-stranger")
    page_id = encode_global_id("Page", page.id)
    async with sandbox_server.client() as client:
        bad = await _gql(
            client, sandbox_server, tenant, CREATE,
            input={"accountId": page_id, "media": [{"url": "ftp://x/y.jpg", "kind": "IMAGE"}]},
        )  # fmt: skip
        assert bad["createPost"]["__typename"] == "ValidationError"
        assert bad["createPost"]["fields"][0]["field"] == "contentUrl"
        not_an_account = await _gql(
            client, sandbox_server, tenant, CREATE,
            input={"accountId": encode_global_id("Contact", uuid.uuid4()), "message": "Hi"},
        )  # fmt: skip
        assert not_an_account["createPost"]["fields"][0]["field"] == "input.accountId"
        theirs = await _gql(
            client, sandbox_server, stranger, CREATE,
            input={"accountId": page_id, "message": "Not mine"},
        )  # fmt: skip
        missing = await _gql(
            client, sandbox_server, stranger, CREATE,
            input={"accountId": encode_global_id("Page", uuid.uuid4()), "message": "Nobody's"},
        )  # fmt: skip
        assert theirs["createPost"] == missing["createPost"]
        assert theirs["createPost"]["__typename"] == "NotFoundError"

        async with worker(sandbox_server):
            created = await _gql(
                client, sandbox_server, tenant, CREATE,
                input={"accountId": page_id, "message": "Open late on Friday"},
            )  # fmt: skip
            post_id = created["createPost"]["post"]["id"]
            published = await _settled(client, sandbox_server, tenant, post_id)
        assert published["status"] == "PUBLISHED"
        meta_id = published["metaPostId"]
        assert sandbox_server.sandbox.store.get(meta_id) is not None

        page_posts = await _gql(
            client, sandbox_server, tenant,
            "query($id: ID!) { page(id: $id) { posts { totalCount edges { node { id } } } } }",
            id=page_id,
        )  # fmt: skip
        assert [e["node"]["id"] for e in page_posts["page"]["posts"]["edges"]] == [post_id]

        # Another organization sees nothing of it, like a missing post.
        assert await _post(client, sandbox_server, stranger, post_id) is None
        delete = """mutation($id: ID!) { deletePost(id: $id) { __typename
            ... on PostDeleted { deletedOnMeta } ... on NotFoundError { message } } }"""
        refused = await _gql(client, sandbox_server, stranger, delete, id=post_id)
        assert refused["deletePost"]["__typename"] == "NotFoundError"

        deleted = await _gql(client, sandbox_server, tenant, delete, id=post_id)
        assert deleted["deletePost"] == {"__typename": "PostDeleted", "deletedOnMeta": True}
        assert sandbox_server.sandbox.store.get(meta_id) is None
        assert await _post(client, sandbox_server, tenant, post_id) is None


async def test_retry_post_publishes_a_failed_post_once(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "gql-retry")
    feed = f"^/{page.meta_page_id}/feed$"
    # Meta blocks posting for policy reasons (368): not retryable, failed after one attempt.
    block = {"kind": "meta_error", "code": 368, "times": 1, "method": "POST", "path": feed}
    sandbox_server.sandbox.set_faults({"rules": [block]})
    retry = f"""mutation($id: ID!) {{ retryPost(id: $id) {{ __typename
        ... on PostSuccess {{ post {{ {POST_FIELDS} }} }}
        ... on ValidationError {{ message }} }} }}"""
    async with sandbox_server.client() as client, worker(sandbox_server):
        created = await _gql(
            client, sandbox_server, tenant, CREATE,
            input={"accountId": encode_global_id("Page", page.id), "message": "Retry me"},
        )  # fmt: skip
        post_id = created["createPost"]["post"]["id"]
        failed = await _settled(client, sandbox_server, tenant, post_id)
        assert failed["status"] == "FAILED"
        assert failed["attempts"] == 1
        assert failed["error"] == (
            "Meta temporarily blocked posting on this account for policy reasons."
        )

        sandbox_server.sandbox.clear_faults()
        retried = await _gql(client, sandbox_server, tenant, retry, id=post_id)
        assert retried["retryPost"]["__typename"] == "PostSuccess"
        assert retried["retryPost"]["post"]["status"] in ("UNCONFIRMED", "QUEUED")
        published = await _settled(client, sandbox_server, tenant, post_id)
        assert published["status"] == "PUBLISHED", published
        # Only a failed post can be retried.
        again = await _gql(client, sandbox_server, tenant, retry, id=post_id)
        assert again["retryPost"]["__typename"] == "ValidationError"
    posts = sandbox_server.sandbox.store.get(page.meta_page_id).posts
    assert [p.message for p in posts].count("Retry me") == 1
