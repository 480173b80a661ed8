"""`outcrop ingest`, `jobs run` and `report` work on the file directly and through a running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import run_outcrop

pytestmark = pytest.mark.e2e

PROFILE = "arn:aws:bedrock:eu-central-1:111122223333:application-inference-profile/abc123def456"
ENV = {
    **os.environ,
    "OUTCROP_PROFILES__RESOLVE_WITH_API": "false",
    "OUTCROP_PROFILES__MAP": json.dumps({PROFILE: {"model": "anthropic.claude-3-5-sonnet-20241022-v2:0",
                                                   "tenant": "contracts", "workflow": "contract-summary"}}),
}


def outcrop(*args: str) -> subprocess.CompletedProcess[str]:
    return run_outcrop(*args, env=ENV)


def _usage(db: str) -> dict[str, dict[str, Any]]:
    result = outcrop("report", "usage", "--db", db, "--by", "tenant", "--from", "2026-11-20",
                     "--to", "2026-11-21", "--format", "json")
    assert result.returncode == 0, result.stderr
    return {row["tenant"]: row for row in json.loads(result.stdout)}


def test_ingest_jobs_and_report_on_the_file(sample_logs: Path, db_path: str) -> None:
    first = outcrop("ingest", str(sample_logs), "--db", db_path, "--format", "json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)[0]["records"] == 2
    again = outcrop("ingest", str(sample_logs), "--db", db_path, "--format", "json")
    assert json.loads(again.stdout)[0]["records"] == 0  # already ingested: nothing read twice
    jobs = outcrop("jobs", "run", "--all", "--db", db_path, "--format", "json")
    assert jobs.returncode == 0, jobs.stdout + jobs.stderr
    assert [(r["job"], r["status"]) for r in json.loads(jobs.stdout)] == [
        ("rebuild_rollups", "ok"), ("rollups", "ok"), ("alerts", "ok")]
    usage = _usage(db_path)
    # the samples' README: 1000 uncached + 3000 cache-read + 200 output for acme;
    # 6200 uncached + 4096 cache-write + 850 output through the profile mapped to 'contracts'
    assert {k: usage["acme"][k] for k in ("requests", "input_tokens", "cache_read_tokens", "output_tokens")} == {
        "requests": 1, "input_tokens": 1000, "cache_read_tokens": 3000, "output_tokens": 200}
    assert {k: usage["contracts"][k] for k in ("requests", "input_tokens", "cache_write_tokens", "output_tokens")} == {
        "requests": 1, "input_tokens": 6200, "cache_write_tokens": 4096, "output_tokens": 850}
    # the stream sample: 850 tokens over 9400 - 620 ms after the first byte, as its README says
    otps = outcrop("sql", "SELECT round(otps, 1) AS otps FROM llm_calls WHERE ttft_ms IS NOT NULL",
                   "--db", db_path, "--format", "json")
    assert json.loads(otps.stdout) == [{"otps": 96.8}]


def test_commands_go_through_the_server_that_owns_the_file(server_factory: Any, sample_logs: Path,
                                                         db_path: str) -> None:
    server = server_factory(profiles={"resolve_with_api": False, "map": json.loads(ENV["OUTCROP_PROFILES__MAP"])},
                            ingest={"allowed_paths": [str(sample_logs)]})
    ingest = outcrop("ingest", str(sample_logs), "--db", db_path, "--format", "json")
    assert ingest.returncode == 0, ingest.stderr  # opening the file directly would fail: the server holds it
    assert json.loads(ingest.stdout)[0]["records"] == 2
    jobs = outcrop("jobs", "run", "rollups", "--db", db_path, "--format", "json")
    assert jobs.returncode == 0, jobs.stdout + jobs.stderr
    usage = _usage(db_path)
    assert usage["acme"]["requests"] == 1
    assert usage["contracts"]["output_tokens"] == 850
    rows = server.store.query("SELECT count(*) AS n FROM llm_calls").to_pylist()
    assert rows == [{"n": 2}]


def test_a_missing_source_is_one_clear_line(tmp_path: Path, db_path: str) -> None:
    result = outcrop("ingest", str(tmp_path / "nowhere"), "--db", db_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"outcrop: no such file or folder: {tmp_path / 'nowhere'} "
                                     "(sources are s3://bucket/prefix, cloudwatch-logs://GROUP, or a local path)")


def test_through_the_server_only_allowed_folders_are_read(server_factory: Any, sample_logs: Path, db_path: str) -> None:
    server = server_factory(profiles={"resolve_with_api": False})
    refused = outcrop("ingest", str(sample_logs), "--db", db_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith("outcrop: server answered 403: ")
    assert "ingest.allowed_paths" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert server.store.query("SELECT count(*) AS n FROM llm_calls").to_pylist() == [{"n": 0}]


def test_a_relative_path_is_the_callers_not_the_servers(server_factory: Any, sample_logs: Path, db_path: str) -> None:
    server = server_factory(profiles={"resolve_with_api": False}, ingest={"allowed_paths": [str(sample_logs)]})
    ingest = subprocess.run([sys.executable, "-m", "outcrop", "ingest", "logs", "--db", db_path,
                             "--format", "json"], capture_output=True, text=True, timeout=180, env=ENV,
                            cwd=sample_logs.parent)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)[0]["records"] == 2
    assert server.store.query("SELECT count(*) AS n FROM llm_calls").to_pylist() == [{"n": 2}]


def test_a_bounded_run_says_so_and_the_next_run_continues(sample_logs: Path, db_path: str) -> None:
    env = {**ENV, "OUTCROP_INGEST__MAX_FILES": "1"}
    first = run_outcrop("ingest", str(sample_logs), "--db", db_path, "--format", "json", env=env)
    assert first.returncode == 0, first.stderr
    row = json.loads(first.stdout)[0]
    assert (row["files"], row["records"], row["stopped"]) == (1, 1, "max_files")
    assert "stopped early (max_files)" in first.stderr
    second = run_outcrop("ingest", str(sample_logs), "--db", db_path, "--format", "json", env=env)
    row = json.loads(second.stdout)[0]
    assert (row["files"], row["records"], "stopped" in row) == (1, 1, False)
