"""metasync → Facebook: what reaches Meta, what stays metasync state, and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.errors import InvalidInputError
from domain.models import Conversation
from domain.services import facebook_actions as actions
from domain.services.sync.runs import SyncScope
from server import Runtime
from tests.connections.conftest import SandboxServer
from tests.sync.test_engine import connected, sync

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def test_page_update_reaches_meta_and_reports_changed_fields(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "page-update")
    services = sandbox_server.runtime.services
    fields = {"about": "Plants, delivered", "website": "https://luckyshrub.example"}
    updated, changed = await actions.update_page_on_facebook(
        services.uow(), services.meta, services.vault,
        organization_id=tenant.org_id, page_id=page.id, fields=fields,
    )  # fmt: skip
    assert sorted(changed) == ["about", "website"]
    assert updated.about == "Plants, delivered"
    token = sandbox_server.sandbox.info()["pages"][0]["access_token"]
    on_meta = await sandbox_server.runtime.graph.get_page(page.meta_page_id, token, ("about",))
    assert on_meta["about"] == "Plants, delivered"
    # The same values again change nothing and send nothing.
    _, again = await actions.update_page_on_facebook(
        services.uow(), services.meta, services.vault,
        organization_id=tenant.org_id, page_id=page.id, fields=fields,
    )  # fmt: skip
    assert again == []


async def test_archive_mute_are_local_and_mark_read_sends_mark_seen(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    tenant, page = await connected(sandbox_server, runtime, "conv-actions")
    await sync(sandbox_server, tenant, page, SyncScope.FULL)
    services = sandbox_server.runtime.services
    async with services.session_factory() as session:
        conversation = (
            (
                await session.execute(
                    select(Conversation).where(
                        Conversation.page_id == page.id, Conversation.unread_count > 0
                    )
                )
            )
            .scalars()
            .first()
        )
    assert conversation is not None
    row, effect = await actions.archive_conversation(
        services.uow(),
        organization_id=tenant.org_id,
        conversation_id=conversation.id,
        archived=True,
    )
    assert row.archived is True
    assert effect.applied_on_meta is False
    row, effect = await actions.mute_conversation(
        services.uow(), organization_id=tenant.org_id, conversation_id=conversation.id,
        mute_until="PERMANENTLY", now=NOW,
    )  # fmt: skip
    assert row.muted_until == actions.MUTED_FOREVER
    assert effect.applied_on_meta is False
    before = len(sandbox_server.sandbox.sender_actions)
    row, effect = await actions.mark_conversation_read(
        services.uow(), services.meta, services.vault,
        organization_id=tenant.org_id, conversation_id=conversation.id, now=NOW,
    )  # fmt: skip
    assert row.unread_count == 0
    assert effect.applied_on_meta is True
    assert len(sandbox_server.sandbox.sender_actions) == before + 1
    assert "mark_seen" in str(sandbox_server.sandbox.sender_actions[-1])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("PERMANENTLY", True),
        (int((NOW + timedelta(days=1)).timestamp()), True),
        (str(int((NOW + timedelta(days=1)).timestamp())), True),
        (None, True),
        (int((NOW - timedelta(days=1)).timestamp()), False),
        ("tomorrow", False),
        (True, False),
        (-5, False),
    ],
)
def test_mute_until_validation(value: object, ok: bool) -> None:
    if ok:
        actions.parse_mute_until(value, NOW)
    else:
        with pytest.raises(InvalidInputError) as info:
            actions.parse_mute_until(value, NOW)
        assert info.value.field == "mute_until"


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"tags": ["ok", 5]}, "tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"custom_fields": {"k": {"nested": 1}}}, "custom_fields.k"),
        ({"custom_fields": "x"}, "custom_fields"),
        ({"name": ""}, "name"),
        ({"shoe_size": 44}, "shoe_size"),
        ({}, "body"),
    ],
)
def test_contact_validation_names_the_field(fields: dict[str, object], bad_field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        actions.validate_contact_fields(fields)
    assert info.value.field == bad_field


def test_contact_validation_accepts_the_documented_example() -> None:
    clean = actions.validate_contact_fields(
        {
            "name": "Updated Name",
            "email": "john@example.com",
            "phone": "+1-234-567-8900",
            "custom_fields": {"company": "ABC Corp", "location": "New York"},
            "tags": ["vip", "customer", "vip"],
            "notes": "Important customer notes",
        }
    )
    assert clean["tags"] == ["vip", "customer"]
