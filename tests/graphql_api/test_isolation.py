"""Another organization's objects are invisible: the same answer as a missing one."""

from __future__ import annotations

import uuid

import httpx

from schema.scalars import encode_global_id
from server import Runtime
from tests.conftest import Tenant, gql
from tests.factories import seed_pages


async def test_other_organizations_ids_resolve_to_null(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    [theirs] = await seed_pages(runtime, other_tenant.org_id, conversations=1, messages=1)
    conv = theirs.conversations[0]
    ids = {
        "Page": theirs.page.id,
        "Conversation": conv.id,
        "Message": theirs.messages[conv.id][0].id,
        "Contact": theirs.contacts[0].id,
        "Organization": other_tenant.org_id,
        "User": other_tenant.principal.user_id,
    }
    for type_name, row_id in ids.items():
        gid = encode_global_id(type_name, row_id)
        missing = encode_global_id(type_name, uuid.uuid4())
        for candidate in (gid, missing):
            body = await gql(
                client, "query($id: ID!) { node(id: $id) { id } }", tenant, {"id": candidate}
            )
            assert body == {"data": {"node": None}}, (type_name, body)
        # The owner does see it.
        owner = await gql(
            client, "query($id: ID!) { node(id: $id) { id } }", other_tenant, {"id": gid}
        )
        assert owner["data"]["node"] == {"id": gid}

    page_gid = encode_global_id("Page", theirs.page.id)
    page = await gql(client, "query($id: ID!) { page(id: $id) { name } }", tenant, {"id": page_gid})
    assert page == {"data": {"page": None}}
    nodes = await gql(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        tenant,
        {"ids": [page_gid, "garbage"]},
    )
    assert nodes == {"data": {"nodes": [None, None]}}
    listed = await gql(client, "{ pages { totalCount } }", tenant)
    assert listed["data"]["pages"]["totalCount"] == 0
