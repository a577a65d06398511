"""Comments on Page posts arrive in the Page ``feed`` webhook: added, edited, hidden,
unhidden, removed. Each delivery is signed and posted through the real endpoint, applied,
and read back from the database and from GraphQL (``Post.comments``).

Meta does not order deliveries and may send one more than once, so a comment ends the same
whatever order its changes arrive in, and a change applied twice (even at once) counts once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.models import Page, Post, PostComment, WebhookEvent
from domain.services.webhooks.apply import process_event
from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import StatementCounter, Tenant
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected
from tests.webhooks.test_out_of_order import Inbox
from tests.webhooks.test_receiver import _wait_for, signed

T0 = 1_767_225_600  # seconds: feed changes count in seconds, not Messenger's milliseconds
ADA = ("31000000000007", "Ada Lovelace")
BOB = ("31000000000008", "Bob Marley")

COMMENT_FIELDS = """id metaCommentId parentId parentMetaCommentId authorMetaId authorName
    message createdAt editedAt hidden"""
POST_COMMENTS = f"""query($id: ID!) {{ post(id: $id) {{ comments {{ totalCount
    edges {{ node {{ {COMMENT_FIELDS} }} }} }} }} }}"""


def feed(page: str, value: dict[str, Any], at: int) -> dict[str, Any]:
    change = {"field": "feed", "value": value}
    return {"object": "page", "entry": [{"id": page, "time": at, "changes": [change]}]}


def comment(
    page: str,
    post: str,
    comment_id: str,
    verb: str,
    at: int,
    *,
    message: str | None = None,
    parent: str | None = None,
    author: tuple[str, str] = ADA,
    created: int | None = None,
) -> dict[str, Any]:
    """A comment change as Meta sends it: a comment on the post names the post as parent."""
    value: dict[str, Any] = {
        "from": {"id": author[0], "name": author[1]},
        "item": "comment",
        "post_id": post,
        "comment_id": comment_id,
        "parent_id": parent or post,
        "verb": verb,
        "created_time": created if created is not None else at,
    }
    if message is not None:
        value["message"] = message
    return feed(page, value, at)


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


@dataclass
class Thread:
    """A Page of one organization with one post on it, and ways to see its comments."""

    server: SandboxServer
    tenant: Tenant
    page: Page
    inbox: Inbox
    post_id: str  # Meta's "pageid_postid"

    def comment_id(self) -> str:
        return f"{self.post_id.split('_')[1]}_{uuid.uuid4().int % 10**15}"

    def change(self, comment_id: str, verb: str, at: int, **kwargs: Any) -> dict[str, Any]:
        return comment(self.page.meta_page_id, self.post_id, comment_id, verb, at, **kwargs)

    async def deliver(self, payload: dict[str, Any]) -> None:
        assert await self.inbox.deliver(payload) == "processed"

    async def row(self, comment_id: str) -> PostComment:
        async with self.server.runtime.services.session_factory() as session:
            return (
                await session.execute(
                    select(PostComment).where(
                        PostComment.organization_id == self.tenant.org_id,
                        PostComment.meta_comment_id == comment_id,
                    )
                )
            ).scalar_one()

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        async with self.server.client() as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers=self.server.headers(self.tenant),
            )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def comments(self, post_id: str | None = None) -> dict[str, Any]:
        """``Post.comments`` of the post Meta calls ``post_id`` (this thread's by default)."""
        gid = await post_gid(self, post_id or self.post_id)
        found: dict[str, Any] = (await self.graphql(POST_COMMENTS, {"id": gid}))["post"]["comments"]
        return found

    async def messages(self) -> list[str | None]:
        return [e["node"]["message"] for e in (await self.comments())["edges"]]


async def post_gid(thread: Thread, meta_post_id: str) -> str:
    async with thread.server.runtime.services.session_factory() as session:
        row_id = (
            await session.execute(
                select(Post.id).where(
                    Post.organization_id == thread.tenant.org_id,
                    Post.meta_post_id == meta_post_id,
                )
            )
        ).scalar_one()
    return encode_global_id("Post", row_id)


def page_post(page: str, post_id: str, at: int) -> dict[str, Any]:
    """The Page's own post, added on Facebook: metasync learns of it from the same feed."""
    return feed(
        page,
        {"from": {"id": page, "name": "Lucky Shrub"}, "item": "status", "post_id": post_id,
         "verb": "add", "published": 1, "created_time": at, "message": "Spring sale!"},
        at,
    )  # fmt: skip


def new_post_id(page: Page) -> str:
    return f"{page.meta_page_id}_{uuid.uuid4().int % 10**15}"


@pytest.fixture
async def thread(sandbox_server: SandboxServer, runtime: Runtime) -> Thread:
    tenant, page = await connected(sandbox_server, runtime, f"comments-{uuid.uuid4().hex[:6]}")
    inbox = Inbox(sandbox_server, runtime, timedelta(minutes=5))
    post_id = new_post_id(page)
    found = Thread(sandbox_server, tenant, page, inbox, post_id)
    await found.deliver(page_post(page.meta_page_id, post_id, T0 - 3600))
    return found


async def test_a_comment_added_edited_hidden_and_unhidden_reads_back_as_it_is_now(
    thread: Thread,
) -> None:
    cid = thread.comment_id()
    await thread.deliver(thread.change(cid, "add", T0, message="Do you ship to Lyon?"))
    listed = await thread.comments()
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert node["metaCommentId"] == cid
    assert (node["authorMetaId"], node["authorName"]) == ADA
    assert node["message"] == "Do you ship to Lyon?"
    assert node["createdAt"] == iso(T0)  # created_time is in seconds
    assert (node["editedAt"], node["hidden"], node["parentId"]) == (None, False, None)
    assert node["parentMetaCommentId"] is None  # a comment on the post itself
    by_node = await thread.graphql(
        "query($id: ID!) { node(id: $id) { ... on PostComment { message } } }",
        {"id": node["id"]},
    )
    assert by_node == {"node": {"message": "Do you ship to Lyon?"}}

    await thread.deliver(thread.change(cid, "edited", T0 + 60, message="Do you ship to Paris?"))
    node = (await thread.comments())["edges"][0]["node"]
    assert node["message"] == "Do you ship to Paris?"
    assert node["editedAt"] == iso(T0 + 60)
    assert node["createdAt"] == iso(T0)

    await thread.deliver(thread.change(cid, "hide", T0 + 120))
    node = (await thread.comments())["edges"][0]["node"]
    assert node["hidden"] is True  # hidden on Facebook, still listed (flagged) here
    assert node["message"] == "Do you ship to Paris?"

    await thread.deliver(thread.change(cid, "unhide", T0 + 180))
    assert (await thread.comments())["edges"][0]["node"]["hidden"] is False


async def test_a_removed_comment_is_no_longer_listed_and_its_text_is_gone(
    thread: Thread,
) -> None:
    kept, removed = thread.comment_id(), thread.comment_id()
    await thread.deliver(thread.change(kept, "add", T0, message="Lovely ferns"))
    await thread.deliver(thread.change(removed, "add", T0 + 10, message="spam spam", author=BOB))
    gone_gid = [e["node"]["id"] for e in (await thread.comments())["edges"]][1]
    await thread.deliver(thread.change(removed, "remove", T0 + 20, author=BOB))

    listed = await thread.comments()
    assert listed["totalCount"] == 1
    assert [e["node"]["metaCommentId"] for e in listed["edges"]] == [kept]
    row = await thread.row(removed)
    assert row.deleted_at == datetime.fromtimestamp(T0 + 20, UTC)
    assert row.message is None
    by_node = await thread.graphql("query($id: ID!) { node(id: $id) { id } }", {"id": gone_gid})
    assert by_node == {"node": None}


async def test_a_reply_names_the_comment_it_answers_and_comes_after_it(thread: Thread) -> None:
    question, answer = thread.comment_id(), thread.comment_id()
    # The reply is delivered first; the thread still reads in the order it was written.
    await thread.deliver(
        thread.change(answer, "add", T0 + 30, message="Yes, every Monday.", parent=question,
                      author=("1067280970047460", "Lucky Shrub"))
    )  # fmt: skip
    await thread.deliver(thread.change(question, "add", T0, message="Do you ship to Lyon?"))

    nodes = [e["node"] for e in (await thread.comments())["edges"]]
    assert [n["metaCommentId"] for n in nodes] == [question, answer]
    assert nodes[0]["parentId"] is None
    assert nodes[1]["parentId"] == nodes[0]["id"]
    assert nodes[1]["parentMetaCommentId"] == question
    assert nodes[1]["authorName"] == "Lucky Shrub"


async def test_the_same_comment_delivery_three_times_even_concurrently_applies_once(
    thread: Thread,
) -> None:
    cid = thread.comment_id()
    change = thread.change(cid, "add", T0, message="First!")
    # Three deliveries that differ in bytes (Meta batches and spaces them differently) but
    # carry the one change.
    bodies = [json.dumps(change), json.dumps(change, indent=1), json.dumps(change, indent=2)]
    events = []
    for body in bodies:
        async with thread.server.client() as client:
            response = await client.post(
                "/webhooks/meta",
                content=body.encode(),
                headers=signed(thread.inbox.runtime, body.encode()),
            )
        assert response.status_code == 200
        events.append(await _event_id(thread, body.encode()))
    results = await asyncio.gather(*(process_event(thread.inbox.ctx, e) for e in events))
    assert set(results) == {"processed"}

    async with thread.server.runtime.services.session_factory() as session:
        rows = (
            await session.execute(
                select(func.count()).where(
                    PostComment.organization_id == thread.tenant.org_id,
                    PostComment.meta_comment_id == cid,
                )
            )
        ).scalar_one()
    assert rows == 1
    listed = await thread.comments()
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["message"] == "First!"


async def _event_id(thread: Thread, body: bytes) -> uuid.UUID:
    async with thread.server.runtime.services.session_factory() as session:
        found: uuid.UUID = (
            await session.execute(select(WebhookEvent.id).where(WebhookEvent.raw_body == body))
        ).scalar_one()
    return found


async def test_changes_of_one_new_comment_applied_at_once_create_it_once_and_all_count(
    thread: Thread,
) -> None:
    """Different changes of a comment not stored yet, applied concurrently: whichever worker
    creates the row, the database makes it one, and each change lands on it."""
    cid = thread.comment_id()
    events = [
        await thread.inbox.post(thread.change(cid, "add", T0, message="helo")),
        await thread.inbox.post(thread.change(cid, "edited", T0 + 60, message="hello")),
        await thread.inbox.post(thread.change(cid, "hide", T0 + 90)),
    ]
    results = await asyncio.gather(*(process_event(thread.inbox.ctx, e) for e in events))
    assert set(results) == {"processed"}
    node = (await thread.comments())["edges"]
    assert len(node) == 1
    assert node[0]["node"]["message"] == "hello"
    assert node[0]["node"]["hidden"] is True
    assert node[0]["node"]["createdAt"] == iso(T0)


async def test_an_edit_that_overtakes_its_add_creates_the_comment_and_the_late_add_keeps_it(
    thread: Thread,
) -> None:
    cid = thread.comment_id()
    await thread.deliver(thread.change(cid, "edited", T0 + 60, message="Do you ship to Paris?"))
    node = (await thread.comments())["edges"][0]["node"]
    assert node["message"] == "Do you ship to Paris?"
    assert node["authorName"] == "Ada Lovelace"

    await thread.deliver(thread.change(cid, "add", T0, message="Do you ship to Lyon?"))
    listed = await thread.comments()
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert node["message"] == "Do you ship to Paris?"  # the older text did not come back
    assert node["editedAt"] == iso(T0 + 60)
    assert node["createdAt"] == iso(T0)  # the add says when it was written


async def test_two_edits_in_the_same_second_both_count(thread: Thread) -> None:
    """Feed times are whole seconds: a second edit within the same second is a change of
    its own (not a redelivery of the first), so its text is the comment's."""
    cid = thread.comment_id()
    await thread.deliver(thread.change(cid, "add", T0, message="Hello"))
    await thread.deliver(thread.change(cid, "edited", T0 + 30, message="Hello, do you"))
    await thread.deliver(thread.change(cid, "edited", T0 + 30, message="Hello, do you ship?"))
    assert await thread.messages() == ["Hello, do you ship?"]


async def test_a_late_edit_does_not_bring_a_removed_comment_back(thread: Thread) -> None:
    cid = thread.comment_id()
    await thread.deliver(thread.change(cid, "add", T0, message="Call me at 555-0100"))
    await thread.deliver(thread.change(cid, "remove", T0 + 120))
    await thread.deliver(thread.change(cid, "edited", T0 + 60, message="Call me at 555-0199"))
    await thread.deliver(thread.change(cid, "unhide", T0 + 90))
    assert (await thread.comments())["totalCount"] == 0
    row = await thread.row(cid)
    assert (row.message, row.deleted_at) == (None, datetime.fromtimestamp(T0 + 120, UTC))


async def test_a_removal_that_overtakes_its_add_keeps_the_comment_away(thread: Thread) -> None:
    cid = thread.comment_id()
    await thread.deliver(thread.change(cid, "remove", T0 + 30))
    await thread.deliver(thread.change(cid, "add", T0, message="gone before we saw it"))
    assert (await thread.comments())["totalCount"] == 0
    assert (await thread.row(cid)).message is None


async def test_a_late_unhide_does_not_undo_a_newer_hide(thread: Thread) -> None:
    cid = thread.comment_id()
    await thread.deliver(thread.change(cid, "add", T0, message="Buy followers here"))
    await thread.deliver(thread.change(cid, "hide", T0 + 20))
    await thread.deliver(thread.change(cid, "unhide", T0 + 10))
    assert (await thread.comments())["edges"][0]["node"]["hidden"] is True


async def test_comments_that_arrive_before_their_post_show_once_the_post_does(
    thread: Thread,
) -> None:
    later_post = new_post_id(thread.page)
    pid = thread.page.meta_page_id
    cid = f"{later_post.split('_')[1]}_1"
    await thread.deliver(comment(pid, later_post, cid, "add", T0, message="early bird"))
    await thread.deliver(page_post(pid, later_post, T0 - 60))
    listed = await thread.comments(later_post)
    assert [e["node"]["message"] for e in listed["edges"]] == ["early bird"]
    assert (await thread.comments())["totalCount"] == 0  # not on the other post


async def test_comments_on_a_page_metasync_does_not_manage_are_ignored(thread: Thread) -> None:
    stranger = "999000111222333"
    cid = f"{uuid.uuid4().int % 10**15}_1"
    payload = comment(stranger, f"{stranger}_42", cid, "add", T0, message="elsewhere")
    assert await thread.inbox.deliver(payload) == "ignored"
    async with thread.server.runtime.services.session_factory() as session:
        stored = await session.execute(
            select(PostComment).where(PostComment.meta_comment_id == cid)
        )
        assert stored.first() is None


async def test_comments_of_many_posts_load_in_a_constant_number_of_statements(
    thread: Thread,
) -> None:
    pid = thread.page.meta_page_id
    posts = [thread.post_id] + [new_post_id(thread.page) for _ in range(4)]
    for i, post in enumerate(posts[1:]):
        await thread.deliver(page_post(pid, post, T0 - 1000 + i))
    for post in posts:
        first = f"{post.split('_')[1]}_1"
        await thread.deliver(comment(pid, post, first, "add", T0, message=f"on {post}"))
        await thread.deliver(
            comment(pid, post, f"{post.split('_')[1]}_2", "add", T0 + 5, message="reply",
                    parent=first)
        )  # fmt: skip
    query = f"""query($id: ID!, $n: Int) {{ page(id: $id) {{ posts(first: $n) {{ edges {{ node {{
        comments {{ totalCount edges {{ node {{ {COMMENT_FIELDS} }} }} }} }} }} }} }} }}"""
    page_gid = encode_global_id("Page", thread.page.id)
    counter = StatementCounter(thread.server.runtime.services.engine)

    async def statements(n: int) -> int:
        with counter.counting():
            data = await thread.graphql(query, {"id": page_gid, "n": n})
        edges = data["page"]["posts"]["edges"]
        assert len(edges) == n
        for edge in edges:
            comments = edge["node"]["comments"]
            assert comments["totalCount"] == 2
            first, reply = (e["node"] for e in comments["edges"])
            assert reply["parentId"] == first["id"]
        return counter.count

    assert await statements(1) == await statements(5)


async def test_a_comment_reaches_graphql_through_the_endpoint_and_the_worker(
    thread: Thread, worker: None
) -> None:
    cid = thread.comment_id()
    body = json.dumps(thread.change(cid, "add", T0, message="Through the queue")).encode()
    async with thread.server.client() as client:
        response = await client.post(
            "/webhooks/meta", content=body, headers=signed(thread.inbox.runtime, body)
        )
    assert response.status_code == 200

    async def listed() -> bool:
        return await thread.messages() == ["Through the queue"]

    await _wait_for(listed)
