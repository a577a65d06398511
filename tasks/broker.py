"""Dramatiq broker setup: Redis in the services mode, an in-process broker and worker
thread in the embedded default. Actors are registered on the broker explicitly (never at
import time), so importing this package never connects anywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

NAMESPACE = "metasync"

# Registered by each capability: functions that declare their actors on a broker.
ActorRegistrar = Callable[[dramatiq.Broker], None]
_registrars: list[ActorRegistrar] = []


def actor_registrar(fn: ActorRegistrar) -> ActorRegistrar:
    _registrars.append(fn)
    return fn


def create_broker(redis_url: str | None) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if redis_url:
        broker = RedisBroker(url=redis_url, namespace=NAMESPACE)  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    if not any(isinstance(m, AsyncIO) for m in broker.middleware):
        broker.add_middleware(AsyncIO())
    dramatiq.set_broker(broker)
    for register in _registrars:
        register(broker)
    return broker


class DramatiqJobQueue:
    """The domain's JobQueue port on a Dramatiq broker."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, actor_name: str, **kwargs: Any) -> None:
        # get_actor raises for an unknown name: a typo fails loudly, not silently.
        self.broker.get_actor(actor_name).send(**kwargs)


def start_worker(broker: dramatiq.Broker, *, threads: int = 2) -> dramatiq.Worker:
    """Start consuming in this process (the embedded default, or `server.py worker`)."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=250)
    worker.start()
    return worker
