"""The sync actor: one run id in, the run executed against Meta."""

from __future__ import annotations

import uuid

import dramatiq

from domain.services.sync.engine import execute_run
from domain.services.sync.runs import RUN_ACTOR
from tasks.broker import actor_registrar
from tasks.runtime import current


async def run_sync(run_id: str) -> None:
    ctx = current()
    await execute_run(ctx.uow, ctx.meta, ctx.vault, ctx.clock, uuid.UUID(run_id))


@actor_registrar
def register(broker: dramatiq.Broker) -> None:
    # Transient Meta failures re-raise from execute_run: retried with backoff, 5 times.
    dramatiq.actor(
        actor_name=RUN_ACTOR, broker=broker, max_retries=5, min_backoff=2_000, max_backoff=120_000
    )(run_sync)
