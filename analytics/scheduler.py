"""Runs the jobs inside `outcrop serve` on APScheduler 3.x.

Each job runs at its interval, never two at once (max_instances=1, coalesced), with
retries and exponential backoff on failure. Every attempt is recorded in job_runs by
`run_job`; nothing a job raises reaches the scheduler thread, so a failing job is
reported and retried at its next interval, and the process keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from outcrop.analytics.jobs import JOBS, SCHEDULED, Job, JobResult, WriteStore, run_job
from outcrop.core.clock import utcnow
from outcrop.core.settings import Settings

log = logging.getLogger(__name__)

ExtraJob = tuple[str, float, Callable[[WriteStore, datetime], Any]]


def run_with_retries(
    store: WriteStore,
    settings: Settings,
    name: str,
    job: Job,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    base_delay: float = 1.0,
) -> list[dict[str, Any]]:
    """Run a job; on failure retry up to jobs.max_retries times, doubling the delay."""
    runs = []
    for attempt in range(1, settings.jobs.max_retries + 2):
        run = run_job(store, settings, name, job, clock(), attempt)
        runs.append(run)
        if run["status"] == "ok":
            break
        if attempt <= settings.jobs.max_retries:
            sleep(base_delay * 2 ** (attempt - 1))
    else:
        log.error("job %s failed %d times; next try at its next interval", name, len(runs))
    return runs


def _run_with_current(store: WriteStore, current: Callable[[], Settings], name: str, job: Job,
                      clock: Callable[[], datetime], sleep: Callable[[float], None]) -> list[dict[str, Any]]:
    """One scheduled run, with the settings in force when it starts."""
    return run_with_retries(store, current(), name, job, clock, sleep)


def _adapt(fn: Callable[[WriteStore, datetime], Any]) -> Job:
    def job(store: WriteStore, settings: Settings, now: datetime) -> JobResult:
        result = fn(store, now)
        return result if isinstance(result, JobResult) else JobResult()

    return job


def _intervals(settings: Settings) -> dict[str, float]:
    return {"rollups": settings.jobs.rollup_interval_seconds, "alerts": settings.alerts.evaluate_seconds}


def start_scheduler(
    store: WriteStore,
    settings: Settings,
    extra_jobs: Sequence[ExtraJob] = (),
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] | None = None,
    current: Callable[[], Settings] | None = None,
) -> BackgroundScheduler:
    """Start a BackgroundScheduler running the scheduled jobs and `extra_jobs`.

    `extra_jobs` are (name, interval_seconds, fn(store, now)) from other parts
    (attribution fix-up, alerts, pollers). The caller shuts it down with
    `scheduler.shutdown()`. `current` gives the settings each run uses (the server's
    settings in force, which the API may edit); the intervals come from `settings`.
    """
    import time

    wait = sleep or time.sleep
    settings_now = current or (lambda: settings)
    scheduler = BackgroundScheduler(timezone="UTC")
    planned: list[tuple[str, float, Job]] = [(name, _intervals(settings)[name], JOBS[name]) for name in SCHEDULED]
    planned += [(name, interval, _adapt(fn)) for name, interval, fn in extra_jobs]
    for name, interval, job in planned:
        scheduler.add_job(
            _run_with_current,
            "interval",
            seconds=interval,
            args=[store, settings_now, name, job, clock, wait],
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            # scheduling runs on the wall clock; `clock` only stamps the jobs' `now`
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )
    scheduler.start()
    return scheduler
