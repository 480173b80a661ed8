"""Jobs run through the real store, record every run, and retry failures with backoff."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from test_rollups_fixtures import T0, insert_calls

from outcrop.analytics.jobs import JobResult, run_jobs
from outcrop.analytics.scheduler import run_with_retries, start_scheduler
from outcrop.core.settings import load_settings
from outcrop.core.store.writer import Store

SETTINGS = load_settings(jobs={"max_retries": 2})


def test_rollup_job_writes_through_the_store_and_records_its_run(db_path: str) -> None:
    store = Store.open(db_path)
    try:
        store.write(lambda con: insert_calls(con, [{"call_id": "a", "ts": T0, "input_tokens": 5}], T0))
        runs = run_jobs(store, SETTINGS, ["rollups"], T0 + timedelta(days=1))
        assert [(r["job"], r["status"], r["error"]) for r in runs] == [("rollups", "ok", None)]
        assert runs[0]["rows_written"] == 3  # one row at each grain
        recorded = store.query("SELECT job, status, rows_written, attempt FROM job_runs")
        assert recorded.to_pylist() == [{"job": "rollups", "status": "ok", "rows_written": 3, "attempt": 1}]
    finally:
        store.close()


def test_failing_job_is_retried_with_backoff_and_reported(db_path: str) -> None:
    store = Store.open(db_path)
    calls: list[int] = []
    waits: list[float] = []

    def flaky(_store: Any, _settings: Any, _now: Any) -> JobResult:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("bedrock said no")
        return JobResult(rows_written=7)

    try:
        runs = run_with_retries(store, SETTINGS, "flaky", flaky, lambda: T0, waits.append, 2.0)
        assert [r["status"] for r in runs] == ["error", "error", "ok"]
        assert waits == [2.0, 4.0]
        rows = store.query("SELECT status, attempt, error FROM job_runs ORDER BY attempt")
        assert rows.to_pylist()[0] == {"status": "error", "attempt": 1, "error": "RuntimeError: bedrock said no"}
    finally:
        store.close()


def test_scheduler_runs_extra_jobs_and_survives_their_failures(db_path: str) -> None:
    store = Store.open(db_path)
    seen: list[Any] = []

    def broken(_store: Any, now: Any) -> None:
        seen.append(now)
        raise ValueError("always")

    scheduler = start_scheduler(store, SETTINGS, [("broken", 3600, broken)],
                                clock=lambda: T0, sleep=lambda _s: None)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == [T0, T0, T0]  # first try + 2 retries, then wait for the next interval
        assert scheduler.running
    finally:
        scheduler.shutdown()
        store.close()
