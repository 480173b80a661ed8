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
    assert sorted(ran) == sorted(JOBS) == ["alerts", "rebuild_rollups", "rollups"]
    assert ran == ["rebuild_rollups", "rollups", "alerts"]  # the rebuild first: it implies the rollups
    store = Store.open(db_path)
    try:
        runs = store.query("SELECT job, status FROM job_runs ORDER BY started_at, job").to_pylist()
    finally:
        store.close()
    assert sorted((r["job"], r["status"]) for r in runs) == [
        ("alerts", "ok"), ("rebuild_rollups", "ok"), ("rollups", "ok")]


def test_jobs_run_without_names_runs_the_scheduled_jobs(db_path: str, capsys: Any) -> None:
    Store.open(db_path).close()
    assert main(["jobs", "run", "--db", db_path, "--format", "json"]) == 0
    assert [r["job"] for r in json.loads(capsys.readouterr().out)] == ["rollups", "alerts"]


def test_jobs_run_alerts_evaluates_the_configured_rules(db_path: str, capsys: Any, tmp_path: Any,
                                                        monkeypatch: Any) -> None:
    from datetime import timedelta

    from outcrop.core.clock import utcnow

    config = tmp_path / "outcrop.toml"
    config.write_text('[[alerts.rules]]\nname = "errors"\nkind = "error_rate"\nmin_requests = 10\n')
    monkeypatch.setenv("OUTCROP_CONFIG", str(config))
    store = Store.open(db_path)
    start = utcnow() - timedelta(minutes=5)
    rows = [[f"c{i}", "otlp", start + timedelta(seconds=i), "t", "r", "w", "error" if i < 3 else "ok", start]
            for i in range(20)]
    store.write(lambda con: con.executemany(
        "INSERT INTO llm_calls (call_id, source, ts, tenant, route, workflow, status, ingested_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows))
    store.close()
    assert main(["jobs", "run", "alerts", "--db", db_path, "--format", "json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert (run["job"], run["status"], run["rows_written"]) == ("alerts", "ok", 1)
    assert main(["alerts", "list", "--db", db_path, "--format", "json"]) == 0
    (alert,) = json.loads(capsys.readouterr().out)
    assert (alert["rule"], alert["group"], alert["state"], alert["value"]) == ("errors", {}, "firing", 0.15)
