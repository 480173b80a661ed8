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


def test_demo_history_fires_each_kind_of_alert_and_forecasts(tmp_path: Path) -> None:
    """Fifteen days as of a Wednesday 17:00 UTC (a busy hour, so the drift has its sample):
    the demo's rules find the throttle burst, the slow route, the budgets running out and
    the quota the forecast reaches, and its own webhook receives each."""
    db = tmp_path / "demo.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "outcrop", "demo", "--db", str(db), "--exit", "--now", "2026-11-18T17:00:00Z",
         "--http-port", "0", "--grpc-port", "0", "--api-port", "0"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Forecast of the daily peaks of " in out
    forecast = out.split("Forecast of the daily peaks of ", 1)[1].split("\n\n", 1)[0]
    assert "2026-11-19" in forecast and "2026-12-02" in forecast  # the 14 days after the 18th
    con = duckdb.connect(str(db), read_only=True)
    fired = dict(con.execute("SELECT rule, kind FROM alert_instances WHERE state = 'firing'").fetchall())
    drift = con.execute("SELECT group_key, message FROM alert_instances WHERE rule = 'ttft-drift'").fetchall()
    delivered = con.execute("SELECT count(*) FROM alert_deliveries WHERE ok").fetchone()
    # every job ran on the demo's clock: the rollups' complete days end at the 18th, not today
    days_until = con.execute("SELECT value FROM watermarks WHERE name = 'rollup.days_until'").fetchone()
    con.close()
    assert days_until is not None and days_until[0].startswith("2026-11-18")
    assert {"throttles", "ttft-drift", "quota-forecast", "acme-monthly", "umbrella-daily"} <= set(fired)
    assert fired["quota-forecast"] == "capacity" and fired["ttft-drift"] == "drift"
    assert [g for g, _ in drift] == ['{"route":"fast"}']  # only the route that slowed down
    assert "vs baseline" in drift[0][1]
    assert delivered is not None and delivered[0] >= 5
    received = out.split("Notifications the demo's webhook received: ", 1)[1]
    assert int(received.split("\n", 1)[0]) == delivered[0]
