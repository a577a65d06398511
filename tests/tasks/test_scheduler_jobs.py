"""SCHEDULER_JOBS: a scheduler that sends only some periodic jobs, with sweepers on the
deployment's interval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidInputError
from server import Runtime, build_runtime, close_runtime, make_scheduler
from tests.conftest import make_settings


async def _scheduler_jobs(runtime: Runtime, **settings: object) -> dict[str, timedelta | None]:
    rt = build_runtime(make_settings(runtime.settings.DATABASE_URL, **settings))
    try:
        return {job.name: job.every for job in make_scheduler(rt).jobs}
    finally:
        await close_runtime(rt)


async def test_only_the_named_jobs_are_sent_and_sweepers_follow_the_interval(
    runtime: Runtime,
) -> None:
    everything = await _scheduler_jobs(runtime)
    assert {"webhook-sweeper", "sync-run-sweeper", "page-sync-schedules"} <= set(everything)
    assert everything["webhook-sweeper"] == timedelta(minutes=1)
    only = await _scheduler_jobs(
        runtime, SCHEDULER_JOBS="webhook-sweeper,sync-run-sweeper", SWEEP_INTERVAL_SECONDS=2
    )
    assert only == {
        "webhook-sweeper": timedelta(seconds=2),
        "sync-run-sweeper": timedelta(seconds=2),
    }


async def test_an_unknown_job_name_is_refused_naming_it(runtime: Runtime) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await _scheduler_jobs(runtime, SCHEDULER_JOBS="webhook-sweeper,nightly-typo")
    assert "nightly-typo" in raised.value.message
