"""The server process of the graphql_list bench: metasync's app (auth, middleware and
/graphql as served) with two baselines beside it in the same process, on the same engine.

- ``/plain/pages?org=…&n=…``: the same rows the bench's GraphQL query reads (pages, their 10
  newest conversations with contacts, each one's 5 newest messages), read the way a
  hand-written endpoint would (three statements: pages, conversations joined with their
  contacts, messages; top-N per parent by window function) and encoded with orjson.
- ``/bare``: a bare Starlette JSON endpoint with what a trivial query answers.

Both sit outside metasync's middleware, as a plain Starlette app would.

    python -m bench.list_server PORT   (DATABASE_URL from the environment)
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from domain.models import Contact, Conversation, Message, Page
from server import build_runtime, close_runtime, create_app
from settings import Settings

CONVERSATIONS, MESSAGES = 10, 5


def _json(content: Any) -> Response:
    # default=str: asyncpg hands back its own UUID subclass, which orjson does not take.
    return Response(orjson.dumps(content, default=str), media_type="application/json")


async def plain_pages(engine: AsyncEngine, org: uuid.UUID, n: int) -> dict[str, Any]:
    async with engine.connect() as conn:
        pages = (
            await conn.execute(
                select(Page.id, Page.name)
                .where(Page.organization_id == org, Page.deleted_at.is_(None))
                .order_by(Page.name, Page.id)
                .limit(n)
            )
        ).all()
        rank = (
            func.row_number()
            .over(
                partition_by=Conversation.page_id,
                order_by=(Conversation.updated_time.desc(), Conversation.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(
                Conversation.id, Conversation.page_id, Conversation.snippet,
                Conversation.updated_time, Conversation.unread_count,
                Contact.id.label("contact_id"), Contact.name.label("contact_name"), rank,
            )
            .outerjoin(Contact, Contact.id == Conversation.contact_id)
            .where(
                Conversation.organization_id == org,
                Conversation.deleted_at.is_(None),
                Conversation.page_id.in_([p.id for p in pages]),
            )
            .subquery()
        )  # fmt: skip
        conversations = (
            await conn.execute(
                select(ranked)
                .where(ranked.c.rank <= CONVERSATIONS)
                .order_by(ranked.c.page_id, ranked.c.rank)
            )
        ).all()
        message_rank = (
            func.row_number()
            .over(
                partition_by=Message.conversation_id,
                order_by=(Message.created_time.desc(), Message.id.desc()),
            )
            .label("rank")
        )
        ranked_messages = (
            select(
                Message.id, Message.conversation_id, Message.text, Message.created_time,
                Message.direction, message_rank,
            )
            .where(
                Message.organization_id == org,
                Message.conversation_id.in_([c.id for c in conversations]),
            )
            .subquery()
        )  # fmt: skip
        messages = (
            await conn.execute(
                select(ranked_messages)
                .where(ranked_messages.c.rank <= MESSAGES)
                .order_by(ranked_messages.c.conversation_id, ranked_messages.c.rank)
            )
        ).all()
    by_conversation: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        by_conversation[m.conversation_id].append(
            {"id": m.id, "text": m.text, "createdTime": m.created_time, "direction": m.direction}
        )
    by_page: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for c in conversations:
        by_page[c.page_id].append(
            {"id": c.id, "snippet": c.snippet, "updatedTime": c.updated_time,
             "unreadCount": c.unread_count,
             "contact": {"id": c.contact_id, "name": c.contact_name} if c.contact_id else None,
             "messages": by_conversation[c.id]}
        )  # fmt: skip
    return {"pages": [{"id": p.id, "name": p.name, "conversations": by_page[p.id]} for p in pages]}


def build_app(settings: Settings) -> Starlette:
    runtime = build_runtime(settings)
    metasync = create_app(
        runtime, migrate_on_start=False, run_worker=False, run_scheduler=False, connect_demo=False
    )
    engine = runtime.services.engine

    async def plain(request: Request) -> Response:
        org = uuid.UUID(request.query_params["org"])
        return _json(await plain_pages(engine, org, int(request.query_params["n"])))

    async def bare(_: Request) -> Response:
        return _json({"data": {"__typename": "Query"}})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await close_runtime(runtime)

    return Starlette(
        routes=[
            Route("/plain/pages", plain, methods=["GET"]),
            Route("/bare", bare, methods=["GET", "POST"]),
            Mount("/", app=metasync),
        ],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    app = build_app(Settings())
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
