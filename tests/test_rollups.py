"""Rollups equal the raw aggregate over any range, are idempotent and follow late data."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PricingSettings

NOW = T0 + timedelta(days=3)
STATUSES = ("ok", "ok", "ok", "error", "throttled")


def _calls() -> list[dict[str, Any]]:
    rows = []
    for i in range(1500):
        rows.append(
            {
                "call_id": f"c{i}",
                "ts": T0 + timedelta(seconds=i * 97),  # ~40 hours
                "tenant": ("acme", "globex", "initech")[i % 3],
                "model": ("anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-pro-v1:0")[i % 2],
                "status": STATUSES[i % 5],
                "input_tokens": None if i % 5 == 4 else 100 + i,
                "cache_read_tokens": 50 * (i % 4),
                "output_tokens": None if i % 5 == 4 else 10 + i % 300,
                "ttlt_ms": 500.0 + i,
            }
        )
    return rows


def _snapshot(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    hists = "ttft_hist, ttlt_hist, otps_hist, prompt_tokens_hist, output_tokens_hist"
    sql = f"SELECT * EXCLUDE ({hists}), ttlt_hist::VARCHAR FROM {table} ORDER BY ALL"
    return con.execute(sql).fetchall()


def _raw(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    return con.execute(
        """SELECT tenant, count(*), count(*) FILTER (WHERE status = 'error'),
                  count(*) FILTER (WHERE status = 'throttled'), sum(input_tokens),
                  sum(cache_read_tokens), sum(output_tokens), round(sum(cost_usd), 9)
           FROM call_costs(?, ?) GROUP BY tenant ORDER BY tenant""",
        [start, end],
    ).fetchall()


@pytest.mark.parametrize(
    "start,end",
    [
        (T0, T0 + timedelta(hours=40)),
        (T0 + timedelta(minutes=7), T0 + timedelta(hours=1, minutes=3)),
        (T0 + timedelta(hours=13, minutes=59), T0 + timedelta(hours=38, minutes=1)),
        (T0 + timedelta(minutes=30), T0 + timedelta(minutes=31)),
    ],
)
def test_rollups_over_any_range_equal_the_raw_aggregate(start: datetime, end: datetime) -> None:
    con = fresh_db()
    insert_calls(con, _calls(), T0)
    run_rollups(con, PricingSettings(), NOW)
    got = run_query(con, "usage", {"from": start, "to": end, "by": ["tenant"]}).to_pylist()
    got_rows = sorted(
        (r["tenant"], r["requests"], r["errors"], r["throttles"], r["input_tokens"],
         r["cache_read_tokens"], r["output_tokens"], round(r["cost_usd"], 9))
        for r in got
    )  # fmt: skip
    assert got_rows == _raw(con, start, end)


def test_running_twice_changes_nothing() -> None:
    con = fresh_db()
    insert_calls(con, _calls(), T0)
    run_rollups(con, PricingSettings(), NOW)
    before = {t: _snapshot(con, t) for t in ("rollup_1m", "rollup_1h", "rollup_1d")}
    again = run_rollups(con, PricingSettings(), NOW)
    assert again.rows_written == 0
    full = run_rollups(con, PricingSettings(), NOW, full=True)
    assert full.rows_written > 0
    assert {t: _snapshot(con, t) for t in before} == before


def test_late_call_reprocesses_only_its_hour_and_day() -> None:
    con = fresh_db()
    insert_calls(con, _calls(), T0)
    run_rollups(con, PricingSettings(), NOW)
    before = _snapshot(con, "rollup_1h")
    late_ts = T0 + timedelta(hours=5, minutes=12)  # arrives two days late
    insert_calls(con, [{"call_id": "late", "ts": late_ts, "tenant": "acme", "input_tokens": 7}],
                 NOW)  # fmt: skip
    outcome = run_rollups(con, PricingSettings(), NOW + timedelta(minutes=1))
    after = _snapshot(con, "rollup_1h")
    changed = {r[0] for r in set(after) ^ set(before)}
    assert changed == {datetime(2025, 3, 3, 15, 0)}
    assert outcome.window_start == datetime(2025, 3, 3)  # its day, rewritten in rollup_1d
    assert outcome.window_end == datetime(2025, 3, 4)
    day = con.execute("SELECT sum(requests) FROM rollup_1d WHERE bucket = '2025-03-03'").fetchone()
    assert day == (con.execute("SELECT count(*) FROM llm_calls WHERE ts < '2025-03-04'").fetchone())


def test_attribution_fixup_moves_a_call_to_its_tenant() -> None:
    con = fresh_db()
    insert_calls(con, [{"call_id": "a", "ts": T0, "tenant": "unattributed"}], T0)
    run_rollups(con, PricingSettings(), NOW)
    insert_calls(con, [{"call_id": "a", "ts": T0, "tenant": "acme"}], T0 + timedelta(hours=1))
    run_rollups(con, PricingSettings(), NOW)
    rows = con.execute("SELECT DISTINCT tenant FROM rollup_1m").fetchall()
    assert rows == [("acme",)]


def test_incomplete_day_is_read_from_hours() -> None:
    con = fresh_db()
    insert_calls(con, _calls(), T0)
    run_rollups(con, PricingSettings(), T0 + timedelta(hours=20))  # 2025-03-04 not complete
    assert con.execute("SELECT count(DISTINCT bucket) FROM rollup_1d").fetchone() == (1,)
    got = run_query(con, "usage", {"from": T0, "to": T0 + timedelta(days=2), "by": []})
    assert got.column("requests")[0].as_py() == 1500
