"""Capacity: quota tokens with the output burndown rate, the daily_peaks named query,
quotas from config and the Service Quotas API, Provisioned Throughput sizing.

Expected values are computed by hand in the comments beside them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.capacity import BURNDOWN, burndown_rate, foundation_model, sync_burndown
from outcrop.analytics.queries import QueryError, run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import DEFAULT_OUTPUT_BURNDOWN, OutputBurndown, PricingSettings

SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"  # burndown 5 by default
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"  # burndown 1
DAY0 = datetime(2025, 3, 3)  # T0 is 10:00 of this day
NOW = T0 + timedelta(days=2)  # 2025-03-03 and 2025-03-04 are complete days


def _calls() -> list[dict[str, Any]]:
    return [
        # minute T0, Sonnet 4: quota 1000 + 200 + 100 x 5 = 1700, raw 1000 + 3000 + 200 + 100 = 4300
        {"call_id": "s1", "ts": T0, "model": SONNET4, "input_tokens": 1000, "cache_read_tokens": 3000,
         "cache_write_tokens": 200, "output_tokens": 100},
        # same minute: quota 500 + 40 x 5 = 700, raw 540 -> minute: 2 requests, 4840 raw, 2400 quota
        {"call_id": "s2", "ts": T0 + timedelta(seconds=30), "model": SONNET4, "input_tokens": 500,
         "output_tokens": 40},
        # T0 + 1 min, Haiku 3.5: quota 100 + 50 = 150 = raw
        {"call_id": "h1", "ts": T0 + timedelta(minutes=1), "model": HAIKU35, "input_tokens": 100,
         "output_tokens": 50},
        # T0 + 5 min, Sonnet 4: quota 10 + 1000 x 5 = 5010, raw 1010 -> the quota peak is not the raw peak
        {"call_id": "s3", "ts": T0 + timedelta(minutes=5), "model": SONNET4, "input_tokens": 10,
         "output_tokens": 1000},
        # next day, Sonnet 4: quota 1 + 1 x 5 = 6, raw 2
        {"call_id": "s4", "ts": T0 + timedelta(days=1), "model": SONNET4, "input_tokens": 1,
         "output_tokens": 1},
    ]  # fmt: skip


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    db = fresh_db()
    insert_calls(db, _calls(), T0)
    run_rollups(db, PricingSettings(use_genai_prices=False), NOW)
    return db


def _minutes(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT bucket, model, requests, tokens, quota_tokens FROM rollup_capacity_1m "
                       "ORDER BY bucket, model").fetchall()


def _daily(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, **params: Any) -> list[dict[str, Any]]:
    table = run_query(con, "daily_peaks", {"from": start, "to": end, "by": ["model"], **params})
    return [{k: v for k, v in row.items() if k not in ("tenant", "region")} for row in table.to_pylist()]


def test_quota_tokens_count_output_at_the_burndown_rate_and_no_cache_reads(con: duckdb.DuckDBPyConnection) -> None:
    assert _minutes(con) == [
        (T0, SONNET4, 2, 4840, 2400),
        (T0 + timedelta(minutes=1), HAIKU35, 1, 150, 150),
        (T0 + timedelta(minutes=5), SONNET4, 1, 1010, 5010),
        (T0 + timedelta(days=1), SONNET4, 1, 2, 6),
    ]


def test_capacity_query_shows_the_quota_peak_beside_the_raw_peak(con: duckdb.DuckDBPyConnection) -> None:
    # whole day 2025-03-03 from rollup_peaks_1d; and a ragged range read from the minutes
    for start, end in ((DAY0, DAY0 + timedelta(days=1)), (T0, T0 + timedelta(minutes=10))):
        rows = run_query(con, "capacity", {"from": start, "to": end, "by": ["model"]}).to_pylist()
        peaks = {r["model"]: (r["peak_rpm"], r["peak_tpm"], r["peak_quota_tpm"]) for r in rows}
        assert peaks == {SONNET4: (2, 4840, 5010), HAIKU35: (1, 150, 150)}
    # grouped by route: the per-key minutes of rollup_counts_1m, same burndown rule
    rows = run_query(con, "capacity", {"from": DAY0, "to": DAY0 + timedelta(days=1), "by": ["route", "model"]})
    assert {r["model"]: r["peak_quota_tpm"] for r in rows.to_pylist()} == {SONNET4: 5010, HAIKU35: 150}


def test_daily_peaks_one_row_per_day_from_day_peaks_and_partial_days(con: duckdb.DuckDBPyConnection) -> None:
    # 2025-03-03 is whole and complete (rollup_peaks_1d); 2025-03-04 ends at 11:00 (minutes)
    rows = _daily(con, DAY0, T0 + timedelta(days=1, hours=1))
    assert rows == [
        {"day": DAY0, "model": HAIKU35, "peak_rpm": 1, "peak_tpm": 150, "peak_quota_tpm": 150},
        {"day": DAY0, "model": SONNET4, "peak_rpm": 2, "peak_tpm": 4840, "peak_quota_tpm": 5010},
        {"day": DAY0 + timedelta(days=1), "model": SONNET4, "peak_rpm": 1, "peak_tpm": 2, "peak_quota_tpm": 6},
    ]
    # the same day read from its minutes only (range starts inside it) gives the same peaks
    assert _daily(con, T0, T0 + timedelta(hours=1)) == rows[:2]
    # a minute outside [from, to) does not count: from T0 + 2 min only s3 is left that day
    assert _daily(con, T0 + timedelta(minutes=2), T0 + timedelta(hours=1)) == [
        {"day": DAY0, "model": SONNET4, "peak_rpm": 1, "peak_tpm": 1010, "peak_quota_tpm": 5010}]


def test_daily_peaks_filter_on_a_key_not_grouped_reads_the_minutes(con: duckdb.DuckDBPyConnection) -> None:
    table = run_query(con, "daily_peaks", {"from": DAY0, "to": DAY0 + timedelta(days=1), "by": [],
                                           "where": {"model": HAIKU35}})
    assert [(r["day"], r["model"], r["peak_rpm"], r["peak_quota_tpm"]) for r in table.to_pylist()] == [
        (DAY0, None, 1, 150)]


def test_daily_peaks_refuses_keys_the_capacity_rollups_do_not_keep(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(QueryError, match="'route'.*only tenant, model, region"):
        run_query(con, "daily_peaks", {"from": DAY0, "to": NOW, "by": ["route"]})
    with pytest.raises(QueryError, match="'workflow'"):
        run_query(con, "daily_peaks", {"from": DAY0, "to": NOW, "where": {"workflow": "support"}})


def test_a_new_burndown_table_rewrites_every_window(con: duckdb.DuckDBPyConnection) -> None:
    # Haiku 3.5 at 2, Sonnet 4 at 1 (no prefix matches it any more)
    burndown = (OutputBurndown(model_prefix="anthropic.claude-3-5-haiku", rate=2.0),)
    outcome = run_rollups(con, PricingSettings(use_genai_prices=False), NOW, burndown=burndown)
    assert outcome.rows_written > 0
    assert [m[4] for m in _minutes(con)] == [
        1000 + 200 + 100 + 500 + 40,  # 1840
        100 + 50 * 2,  # 200
        10 + 1000,
        1 + 1,
    ]
    assert con.execute("SELECT * FROM rollup_burndown").fetchall() == [("anthropic.claude-3-5-haiku", 2.0)]
    # and again with the same table: nothing to redo
    assert run_rollups(con, PricingSettings(use_genai_prices=False), NOW, burndown=burndown).rows_written == 0


def test_first_run_after_the_upgrade_fills_quota_tokens(con: duckdb.DuckDBPyConnection) -> None:
    # as a database rolled up before migration 0007 is left: quota columns NULL, no rates synced
    con.execute("UPDATE rollup_capacity_1m SET quota_tokens = NULL")
    con.execute("UPDATE rollup_peaks_1d SET peak_quota_tpm = NULL")
    con.execute("DELETE FROM watermarks WHERE name = ?", [BURNDOWN])
    run_rollups(con, PricingSettings(use_genai_prices=False), NOW)
    assert [m[4] for m in _minutes(con)] == [2400, 150, 5010, 6]
    assert con.execute("SELECT count(*) FROM rollup_peaks_1d WHERE peak_quota_tpm IS NULL").fetchone() == (0,)


@pytest.mark.parametrize(
    ("model", "rate"),
    [
        (SONNET4, 5.0),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", 5.0),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 5.0),
        ("eu.anthropic.claude-opus-4-1-20250805-v1:0", 5.0),
        ("us-gov.anthropic.claude-3-7-sonnet-20250219-v1:0", 1.0),
        ("jp.anthropic.claude-haiku-4-5-20251001-v1:0", 5.0),
        ("apac.anthropic.claude-3-haiku-20240307-v1:0", 1.0),
        (HAIKU35, 1.0),
        ("amazon.nova-pro-v1:0", 1.0),
        ("ca.meta.llama3-1-70b-instruct-v1:0", 1.0),
        ("unknown", 1.0),
    ],
)
def test_burndown_rate_strips_a_geo_prefix_and_takes_the_longest_prefix(model: str, rate: float) -> None:
    assert burndown_rate(model, DEFAULT_OUTPUT_BURNDOWN) == rate


def test_longest_prefix_wins() -> None:
    table = (OutputBurndown(model_prefix="anthropic.claude", rate=2.0),
             OutputBurndown(model_prefix="anthropic.claude-sonnet-4", rate=5.0))
    assert burndown_rate("us.anthropic.claude-sonnet-4-20250514-v1:0", table) == 5.0
    assert burndown_rate("anthropic.claude-3-haiku-20240307-v1:0", table) == 2.0
    assert foundation_model("US.Amazon.Nova-Pro-v1:0") == "amazon.nova-pro-v1:0"
    assert foundation_model("amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"


def test_the_rollups_rate_rule_equals_burndown_rate() -> None:
    con = fresh_db()
    models = [SONNET4, HAIKU35, "us.anthropic.claude-opus-4-20250514-v1:0", "global.anthropic.claude-haiku-4-5",
              "anthropic.claude-3-7-sonnet-20250219-v1:0", "amazon.nova-pro-v1:0", "us-gov.meta.llama3-8b",
              "unknown", "Anthropic.Claude-Sonnet-4-x"]
    con.executemany("INSERT INTO rollup_keys VALUES (hash(?), 't', 'r', 'w', ?, 'us-east-1')",
                    [[m, m] for m in models])
    sync_burndown(con, DEFAULT_OUTPUT_BURNDOWN, NOW)
    found = dict(con.execute("SELECT model, rate FROM model_burndown()").fetchall())
    assert found == {m: burndown_rate(m, DEFAULT_OUTPUT_BURNDOWN) for m in models}
