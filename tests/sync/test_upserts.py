"""The chunk upserts sync uses: new messages in one bulk insert, exact counts, and nothing
written when Meta's data has not changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from domain.meta import MetaConversation, MetaMessage, MetaParticipant
from domain.models import Message
from domain.services.sync.fields import SyncSelection
from domain.services.sync.upserts import apply_chunk
from server import Runtime
from tests.conftest import StatementCounter, Tenant
from tests.factories import BASE_TIME, seed_pages

WRITES = ("INSERT", "UPDATE", "DELETE")

EVERYTHING = SyncSelection.everything()


def _conversation(meta_id: str, page_meta_id: str, messages: list[MetaMessage]) -> MetaConversation:
    return MetaConversation(
        meta_conversation_id=meta_id,
        platform="messenger",
        updated_time=BASE_TIME,
        participants=[MetaParticipant(user_id="psid-upsert", name="Ada")],
        messages=messages,
    )


def _message(
    mid: str, minute: int, *, detailed: bool = True, text: str | None = None
) -> MetaMessage:
    return MetaMessage(
        meta_message_id=mid,
        created_time=BASE_TIME + timedelta(minutes=minute),
        detailed=detailed,
        text=text if detailed else None,
        sender_id="psid-upsert" if detailed else None,
    )


async def test_new_messages_are_stored_once_with_their_details_and_counted(
    runtime: Runtime, tenant: Tenant
) -> None:
    (seeded,) = await seed_pages(runtime, tenant.org_id, conversations=0, messages=0)
    page = seeded.page
    # Meta listed the same message twice in one chunk, the first time without details.
    items = [
        _conversation("t_upsert_1", page.meta_page_id, [
            _message("m_new_1", 1, text="hello"),
            _message("m_dup", 2, detailed=False),
            _message("m_dup", 2, text="now with text"),
        ])
    ]  # fmt: skip
    async with runtime.services.uow() as uow:
        result = await apply_chunk(
            uow,
            tenant.org_id,
            page.id,
            page.meta_page_id,
            items,
            selection=SyncSelection.everything(),
        )
        await uow.commit()
    assert result.messages.as_dict() == {"created": 2, "updated": 1, "unchanged": 0}
    async with runtime.services.session_factory() as session:
        rows = {
            m.meta_message_id: m
            for m in (
                await session.execute(
                    select(Message).where(Message.organization_id == tenant.org_id)
                )
            ).scalars()
        }
    assert set(rows) == {"m_new_1", "m_dup"}
    assert rows["m_dup"].text == "now with text"
    assert rows["m_dup"].detail_available is True
    assert rows["m_new_1"].direction == "inbound"
    assert rows["m_new_1"].status == "received"
    assert rows["m_new_1"].reactions == []


async def test_applying_the_same_chunk_again_writes_nothing(
    runtime: Runtime, tenant: Tenant, statements: StatementCounter
) -> None:
    (seeded,) = await seed_pages(runtime, tenant.org_id, conversations=0, messages=0)
    page = seeded.page
    items = [
        _conversation(f"t_again_{c}", page.meta_page_id,
                      [_message(f"m_again_{c}_{m}", m, text=f"text {m}") for m in range(30)])
        for c in range(3)
    ]  # fmt: skip

    async def apply() -> dict[str, int]:
        async with runtime.services.uow() as uow:
            result = await apply_chunk(
                uow,
                tenant.org_id,
                page.id,
                page.meta_page_id,
                items,
                selection=SyncSelection.everything(),
            )
            await uow.commit()
        return result.messages.as_dict()

    assert await apply() == {"created": 90, "updated": 0, "unchanged": 0}
    with statements.counting() as counter:
        assert await apply() == {"created": 0, "updated": 0, "unchanged": 90}
    assert not [s for s in counter.statements if s.lstrip().upper().startswith(WRITES)]
    async with runtime.services.session_factory() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.organization_id == tenant.org_id)
        )
    assert count == 90
