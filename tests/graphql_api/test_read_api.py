"""The read side of the GraphQL API, as a frontend uses it."""

from __future__ import annotations

import httpx

from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import Tenant, gql
from tests.factories import seed_pages

PAGES = """
query($first: Int, $after: String) {
  pages(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id databaseId metaPageId name category status lastSyncedAt } }
  }
}
"""


async def test_viewer_answers_with_an_issued_token(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await gql(client, "{ viewer { id email organization { id name } } }", tenant)
    viewer = body["data"]["viewer"]
    assert viewer["email"] == tenant.principal.email
    assert viewer["organization"]["name"] == tenant.principal.organization_name
    assert viewer["organization"]["id"] == encode_global_id("Organization", tenant.org_id)


async def test_pages_paginate_with_cursors_and_count(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await seed_pages(runtime, tenant.org_id, pages=5, conversations=0)
    first = (await gql(client, PAGES, tenant, {"first": 2}))["data"]["pages"]
    assert first["totalCount"] == 5
    assert [e["node"]["name"] for e in first["edges"]] == ["Page 000", "Page 001"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False

    after = first["pageInfo"]["endCursor"]
    rest = (await gql(client, PAGES, tenant, {"first": 10, "after": after}))["data"]["pages"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Page 002", "Page 003", "Page 004"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True


async def test_page_tree_conversations_contacts_messages(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=3, messages=4)
    page_id = encode_global_id("Page", seeded.page.id)
    query = """
    query($id: ID!) {
      page(id: $id) {
        databaseId name
        conversations(first: 2) {
          totalCount
          pageInfo { hasNextPage }
          edges { node {
            metaConversationId platform unreadCount archived mutedUntil updatedTime snippet
            contact { platformUserId name tags customFields }
            messages(first: 3) {
              totalCount
              edges { node { metaMessageId direction text attachments createdTime status } }
            }
          } }
        }
        contacts(first: 10, search: "person 0-1") { totalCount edges { node { name } } }
      }
    }
    """
    body = await gql(client, query, tenant, {"id": page_id})
    page = body["data"]["page"]
    assert page["databaseId"] == str(seeded.page.id)
    conversations = page["conversations"]
    assert conversations["totalCount"] == 3
    assert conversations["pageInfo"]["hasNextPage"] is True
    # Most recently updated first.
    newest = seeded.conversations[2]
    first = conversations["edges"][0]["node"]
    assert first["metaConversationId"] == newest.meta_conversation_id
    assert first["platform"] == "MESSENGER"
    assert first["updatedTime"].startswith("2026-09-01T14:00:00")
    assert first["contact"]["name"] == "Person 0-2"
    messages = first["messages"]
    assert messages["totalCount"] == 4
    # Newest message first.
    assert [e["node"]["text"] for e in messages["edges"]] == [
        "message 3 of 2",
        "message 2 of 2",
        "message 1 of 2",
    ]
    assert messages["edges"][0]["node"]["direction"] == "OUTBOUND"
    assert messages["edges"][0]["node"]["status"] == "DELIVERED"
    assert page["contacts"]["totalCount"] == 1
    assert page["contacts"]["edges"][0]["node"]["name"] == "Person 0-1"


async def test_conversation_filter_and_node_lookup(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [seeded] = await seed_pages(runtime, tenant.org_id, conversations=4, messages=1)
    page_id = encode_global_id("Page", seeded.page.id)
    query = """
    query($id: ID!) { page(id: $id) {
      conversations(filter: {unreadOnly: true}) { totalCount edges { node { id unreadCount } } }
    } }
    """
    page = (await gql(client, query, tenant, {"id": page_id}))["data"]["page"]
    unread = page["conversations"]
    assert unread["totalCount"] == 2
    assert all(e["node"]["unreadCount"] > 0 for e in unread["edges"])

    conv_id = unread["edges"][0]["node"]["id"]
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { __typename ... on Conversation { unreadCount } } }",
        tenant,
        {"id": conv_id},
    )
    assert node["data"]["node"] == {"__typename": "Conversation", "unreadCount": 1}


async def test_bad_pagination_arguments_are_named(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    too_many = await gql(client, "{ pages(first: 1000) { totalCount } }", tenant)
    assert too_many["data"] is None
    assert "first" in too_many["errors"][0]["message"]
    bad_cursor = await gql(client, '{ pages(after: "nonsense!") { totalCount } }', tenant)
    assert "after" in bad_cursor["errors"][0]["message"]
