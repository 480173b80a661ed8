"""`outcrop jobs run`: --all runs every job, and each run is recorded."""

from __future__ import annotations

import json
from typing import Any

from outcrop.analytics.jobs import JOBS
from outcrop.cli.main import main
from outcrop.core.store.writer import Store


def test_jobs_run_all_runs_every_job_including_the_rebuild(db_path: str, capsys: Any) -> None:
    Store.open(db_path).close()
    assert main(["jobs", "run", "--all", "--db", db_path, "--format", "json"]) == 0
    ran = [r["job"] for r in json.loads(capsys.readouterr().out)]
    assert sorted(ran) == sorted(JOBS) == ["rebuild_rollups", "rollups"]
    assert ran == ["rebuild_rollups", "rollups"]  # the rebuild first: it implies the rollups
    store = Store.open(db_path)
    try:
        runs = store.query("SELECT job, status FROM job_runs ORDER BY started_at, job").to_pylist()
    finally:
        store.close()
    assert sorted((r["job"], r["status"]) for r in runs) == [("rebuild_rollups", "ok"), ("rollups", "ok")]


def test_jobs_run_without_names_runs_the_scheduled_jobs(db_path: str, capsys: Any) -> None:
    Store.open(db_path).close()
    assert main(["jobs", "run", "--db", db_path, "--format", "json"]) == 0
    assert [r["job"] for r in json.loads(capsys.readouterr().out)] == ["rollups"]
