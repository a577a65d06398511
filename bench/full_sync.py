"""Issue 5: full sync of one Page with 1,000 conversations x 20 messages, 50 ms per call.

The floor is what Meta's limits allow: the Conversations-API calls the sync needs, at 2 per
second per Page. Calls are compared with the minimum the data needs (one listing call per 25
conversations per folder, one empty call per other folder, details, one profile per person).
"""

from __future__ import annotations

import math
import resource
import time

from bench.harness import sandbox_runtime, tenant
from bench.report import Figure
from domain.services.connections import add_meta_token
from domain.services.sync.engine import execute_run
from domain.services.sync.runs import SyncScope, start_sync

CONVERSATIONS, MESSAGES, LATENCY_MS = 1000, 20, 50
PAGE_SIZE, FOLDERS = 25, 4


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run() -> list[Figure]:
    async with sandbox_runtime() as rt:
        sandbox, services = rt.sandbox, rt.services
        assert sandbox is not None
        info = sandbox.seed(
            {
                "pages": 1,
                "instagram_accounts": 0,
                "conversations_per_page": CONVERSATIONS,
                "ig_conversations_per_page": 0,
                "messages_per_conversation": MESSAGES,
                "whatsapp_accounts": 0,
                "posts_per_page": 0,
            }
        )
        sandbox.set_faults({"latency": {"fixed_ms": LATENCY_MS, "jitter_ms": 0}})
        who = await tenant(rt)
        report = await add_meta_token(
            services.uow(), services.meta, services.vault,
            organization_id=who.organization_id, user_id=who.user_id, label="bench",
            token=info["demo_user"]["access_token"], now=services.clock.now(),
        )  # fmt: skip
        page = report.pages[0]

        async def full() -> tuple[float, int, int]:
            async with services.uow() as uow:
                queued, _ = await start_sync(
                    uow, organization_id=who.organization_id, page_id=page.id,
                    scope=SyncScope.FULL, trigger="schedule",
                )  # fmt: skip
                await uow.commit()
            started = time.perf_counter()
            done = await execute_run(
                services.uow, services.meta, services.vault, services.clock, queued.id
            )
            if done is None or done.status != "succeeded":
                raise RuntimeError(f"full sync failed: {done and done.error}")
            return (
                time.perf_counter() - started,
                done.graph_calls,
                done.created_count + done.updated_count,
            )

        before = _peak_rss_mb()
        wall, calls, _ = await full()
        peak = _peak_rss_mb()
        _, _, rewritten = await full()

    listing = math.ceil(CONVERSATIONS / PAGE_SIZE) + (FOLDERS - 1)  # folders: data + empties
    minimum = listing + 1 + CONVERSATIONS  # + page details + one profile per person
    floor = listing / 2.0  # 2 Conversations-API calls per second per Page
    return [
        Figure(
            "full_sync.wall_vs_floor", wall / floor, "<= 1.25", f"{wall:.1f}s floor={floor:.1f}s"
        ),
        Figure(
            "full_sync.calls_vs_minimum", calls / minimum, "<= 1.1", f"{calls} calls min={minimum}"
        ),
        Figure(
            "full_sync.peak_memory_mb",
            peak / 300,
            "<= 1.0",
            f"{peak:.0f}MB (before {before:.0f}MB)",
        ),
        Figure("full_sync.resync_rows_written", float(rewritten), "<= 0", f"{rewritten} rows"),
    ]
