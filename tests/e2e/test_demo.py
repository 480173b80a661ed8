"""`outcrop demo --exit` runs end to end: workload, logs, merge, jobs, summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_and_summarises_by_tenant(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "outcrop", "demo", "--db", str(db), "--exit", "--history-days", "0.5",
         "--http-port", "0", "--grpc-port", "0", "--api-port", "0"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for heading in ("Usage by tenant", "Cost by tenant", "Latency by tenant", "Capacity by model"):
        assert heading in out
    for tenant in ("acme", "globex", "initech", "umbrella"):
        assert tenant in out
    con = duckdb.connect(str(db), read_only=True)
    sources = dict(con.execute("SELECT source, count(*) FROM llm_calls GROUP BY source").fetchall())
    unattributed = con.execute("SELECT count(*) FROM llm_calls WHERE tenant = 'unattributed'").fetchone()
    throttled = con.execute("SELECT count(*) FROM llm_calls WHERE status = 'throttled'").fetchone()
    merged_twice = con.execute(
        "SELECT count(*) FROM (SELECT request_id FROM llm_calls WHERE request_id IS NOT NULL "
        "GROUP BY request_id HAVING count(*) > 1)").fetchone()
    con.close()
    assert set(sources) == {"otlp", "merged", "bedrock_log"}
    assert unattributed == (0,)
    assert throttled is not None and throttled[0] > 0
    assert merged_twice == (0,), "a call seen in a span and a log must be one row"
