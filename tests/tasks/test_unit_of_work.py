"""Jobs and bus events leave only after the commit, never on rollback."""

from __future__ import annotations

import asyncio
import uuid

import dramatiq
import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from domain.models import Organization
from domain.uow import UnitOfWork
from server import Runtime
from tasks.broker import DramatiqJobQueue
from tasks.bus import InMemoryEventBus


@pytest.fixture
def broker() -> StubBroker:
    broker = StubBroker()
    broker.declare_actor(
        dramatiq.actor(lambda org_id: None, actor_name="org_created", broker=broker)
    )
    return broker


def _queued(broker: StubBroker) -> list[dict[str, object]]:
    return [Message.decode(raw).kwargs for raw in list(broker.queues["default"].queue)]


async def test_dispatch_happens_after_commit(runtime: Runtime, broker: StubBroker) -> None:
    bus = InMemoryEventBus()
    uow = UnitOfWork(runtime.services.session_factory, DramatiqJobQueue(broker), bus)
    org_id = uuid.uuid4()
    async with bus.subscribe("orgs") as events:
        async with uow:
            uow.session.add(Organization(id=org_id, name=f"uow-{org_id}"))
            uow.enqueue("org_created", org_id=str(org_id))
            uow.publish("orgs", {"created": str(org_id)})
            # Nothing has left before the commit.
            assert _queued(broker) == []
            await uow.commit()
        assert _queued(broker) == [{"org_id": str(org_id)}]
        event = await asyncio.wait_for(anext(events), 1)
        assert event == {"created": str(org_id)}


async def test_rollback_discards_jobs_events_and_rows(runtime: Runtime, broker: StubBroker) -> None:
    bus = InMemoryEventBus()
    uow = UnitOfWork(runtime.services.session_factory, DramatiqJobQueue(broker), bus)
    org_id = uuid.uuid4()

    async def failing_service() -> None:
        async with uow:
            uow.session.add(Organization(id=org_id, name=f"uow-{org_id}"))
            await uow.session.flush()
            uow.enqueue("org_created", org_id=str(org_id))
            uow.publish("orgs", {"created": str(org_id)})
            raise RuntimeError("service failed")

    async with bus.subscribe("orgs") as events:
        with pytest.raises(RuntimeError):
            await failing_service()
        assert _queued(broker) == []
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(events), 0.1)
    async with runtime.services.session_factory() as session:
        assert await session.get(Organization, org_id) is None


async def test_broker_failure_after_commit_keeps_the_data(runtime: Runtime) -> None:
    """An unknown actor (as a dead broker would) fails the dispatch, not the commit."""
    broker = StubBroker()
    uow = UnitOfWork(runtime.services.session_factory, DramatiqJobQueue(broker), InMemoryEventBus())
    org_id = uuid.uuid4()
    async with uow:
        uow.session.add(Organization(id=org_id, name=f"uow-{org_id}"))
        uow.enqueue("no_such_actor", org_id=str(org_id))
        await uow.commit()
    assert uow.dispatch_errors
    assert "no_such_actor" in uow.dispatch_errors[0]
    async with runtime.services.session_factory() as session:
        assert await session.get(Organization, org_id) is not None
