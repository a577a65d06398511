"""DataLoaders keep nested lists at a constant number of SQL statements."""

from __future__ import annotations

import httpx

from server import Runtime
from tests.conftest import StatementCounter, create_tenant, gql
from tests.factories import seed_pages

TREE = """
query($n: Int) {
  pages(first: $n) { edges { node {
    conversations(first: 10) { edges { node {
      contact { name }
      messages(first: 5) { edges { node { text } } }
    } } }
  } } }
}
"""


async def _count(
    client: httpx.AsyncClient, runtime: Runtime, statements: StatementCounter, n: int
) -> tuple[int, int]:
    tenant = await create_tenant(runtime, f"n{n}")
    await seed_pages(runtime, tenant.org_id, pages=n, conversations=10, messages=5)
    with statements.counting() as counter:
        body = await gql(client, TREE, tenant, {"n": n})
    pages = body["data"]["pages"]["edges"]
    assert len(pages) == n
    for page in pages:
        conversations = page["node"]["conversations"]["edges"]
        assert len(conversations) == 10
        assert all(c["node"]["contact"]["name"] for c in conversations)
        assert all(len(c["node"]["messages"]["edges"]) == 5 for c in conversations)
    return counter.count, len(pages)


async def test_statement_count_is_the_same_for_5_and_50_pages(
    client: httpx.AsyncClient, runtime: Runtime, statements: StatementCounter
) -> None:
    small, _ = await _count(client, runtime, statements, 5)
    large, _ = await _count(client, runtime, statements, 50)
    assert small == large
    # auth + pages + conversations + contacts + messages
    assert small <= 6, statements.statements
