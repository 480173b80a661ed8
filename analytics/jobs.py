"""Jobs the scheduler and `outcrop jobs run` execute, and the record of each run.

A job is `fn(store, settings, now) -> JobResult`; it writes only through `store.write`,
so it runs on the writer thread inside one transaction. Every run, good or bad, gets a
`job_runs` row; a failure is recorded and reported, never raised to the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb

from outcrop.analytics.rollups import RollupOutcome, run_rollups
from outcrop.core.errors import QueryError
from outcrop.core.settings import Settings
from outcrop.core.sql import load_sql

log = logging.getLogger(__name__)


class WriteStore(Protocol):
    """The part of outcrop.core.store.writer.Store that jobs use."""

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], Any], timeout: float | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class JobResult:
    rows_written: int = 0
    window_start: datetime | None = None
    window_end: datetime | None = None


Job = Callable[[WriteStore, Settings, datetime], JobResult]


def _from_outcome(outcome: RollupOutcome) -> JobResult:
    return JobResult(outcome.rows_written, outcome.window_start, outcome.window_end)


def rollups_job(store: WriteStore, settings: Settings, now: datetime) -> JobResult:
    """Incremental: the hours with new or rewritten calls; everything if prices changed."""
    bound, burndown = settings.ingest.max_tokens_per_call, settings.capacity.output_burndown
    outcome = store.write(lambda con: run_rollups(con, settings.pricing, now, max_tokens=bound, burndown=burndown))
    return _from_outcome(outcome)


def rebuild_rollups_job(store: WriteStore, settings: Settings, now: datetime) -> JobResult:
    """Full re-computation (and re-pricing) of every window."""
    bound, burndown = settings.ingest.max_tokens_per_call, settings.capacity.output_burndown
    outcome = store.write(
        lambda con: run_rollups(con, settings.pricing, now, full=True, max_tokens=bound, burndown=burndown)
    )
    return _from_outcome(outcome)


def alerts_job(store: WriteStore, settings: Settings, now: datetime) -> JobResult:
    """Evaluate the alert rules as of `now`; rows_written counts the instances changed."""
    from outcrop.analytics.alerts import evaluate_alerts

    outcome = evaluate_alerts(store, settings, now)
    return JobResult(len(outcome["changes"]), None, now)


JOBS: dict[str, Job] = {
    "rollups": rollups_job,
    "rebuild_rollups": rebuild_rollups_job,
    "alerts": alerts_job,
}
# Jobs that run on their own schedule; rebuild_rollups is on demand only.
SCHEDULED: tuple[str, ...] = ("rollups", "alerts")
# Every job, for `outcrop jobs run --all`: the rebuild first, since it rewrites what the
# incremental rollups would, which then find nothing left and cost one quick pass.
EVERY_JOB: tuple[str, ...] = ("rebuild_rollups", "rollups", "alerts")
assert sorted(EVERY_JOB) == sorted(JOBS), "EVERY_JOB must name each job once"


def run_job(
    store: WriteStore, settings: Settings, name: str, job: Job, now: datetime, attempt: int = 1
) -> dict[str, Any]:
    """Run one job, record it in job_runs, and describe the run; never raises."""
    started = time.perf_counter()
    status, error, result = "ok", None, JobResult()
    try:
        result = job(store, settings, now)
    except Exception as exc:  # noqa: BLE001 - a failed job is reported, not raised
        log.exception("job %s failed (attempt %d)", name, attempt)
        status, error = "error", f"{type(exc).__name__}: {exc}"
    duration_ms = (time.perf_counter() - started) * 1000.0
    run = {
        "job": name,
        "status": status,
        "rows_written": result.rows_written,
        "window": (result.window_start, result.window_end),
        "duration_ms": duration_ms,
        "error": error,
        "attempt": attempt,
    }
    _record(store, run, now, now + timedelta(milliseconds=duration_ms))
    return run


def _record(store: WriteStore, run: dict[str, Any], started: datetime, finished: datetime) -> None:
    row = [
        run["job"], started, finished, run["status"], run["rows_written"],
        run["window"][0], run["window"][1], run["error"], run["attempt"],
    ]  # fmt: skip
    try:
        store.write(lambda con: con.execute(load_sql("jobs/record_run.sql"), row))
    except Exception:  # noqa: BLE001 - the run happened; losing its record must not crash
        log.exception("could not record run of job %s", run["job"])


def run_jobs(store: WriteStore, settings: Settings, names: Sequence[str] | None, now: datetime) -> list[dict[str, Any]]:
    """Run the named jobs (default: the scheduled ones) once, in order."""
    chosen = list(names) if names else list(SCHEDULED)
    unknown = [n for n in chosen if n not in JOBS]
    if unknown:
        raise QueryError(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(JOBS)}")
    return [run_job(store, settings, name, JOBS[name], now) for name in chosen]
