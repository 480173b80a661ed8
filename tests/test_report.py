"""`outcrop report` tables: exact column names, and the three output formats."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import run_query
from outcrop.analytics.report import build_report
from outcrop.analytics.rollups import run_rollups
from outcrop.cli.formatting import format_table
from outcrop.cli.report import add_report_arguments, run_report_command
from outcrop.core.settings import PricingSettings

EXPECTED = {
    "usage": ["tenant", "model", "requests", "errors", "throttles", "error_rate", "throttle_rate",
              "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "reasoning_tokens", "cache_hit_share", "avg_rpm", "avg_tpm",
              "input_tokens_per_request_mean", "output_tokens_per_request_mean", "cost_usd",
              "unpriced_requests"],
    "latency": ["tenant", "model", "requests", "errors", "throttles", "error_rate",
                "throttle_rate", "ttft_ms_p50", "ttft_ms_p90", "ttft_ms_p95", "ttft_ms_p99",
                "ttlt_ms_p50", "ttlt_ms_p90", "ttlt_ms_p95", "ttlt_ms_p99", "otps_p50",
                "otps_p90", "otps_p95", "otps_p99"],
    "cost": ["tenant", "model", "requests", "cost_usd", "cost_per_request_usd",
             "cost_per_1k_requests_usd", "unpriced_requests", "input_tokens", "output_tokens",
             "cache_read_tokens", "cache_write_tokens"],
    "capacity": ["tenant", "model", "requests", "throttles", "throttle_rate", "peak_rpm",
                 "avg_rpm", "peak_tpm", "peak_quota_tpm", "avg_tpm", "input_tokens_per_request_mean",
                 "input_tokens_per_request_p95", "output_tokens_per_request_mean",
                 "output_tokens_per_request_p95", "quota_tpm", "quota_source", "quota_share",
                 "model_units_needed", "pt_monthly_usd_1_month", "pt_monthly_usd_6_month",
                 "on_demand_monthly_usd", "breakeven_utilisation", "missing"],
}  # fmt: skip


@pytest.fixture(scope="module")
def run() -> Any:
    con = fresh_db()
    insert_calls(con, [{"call_id": f"c{i}", "ts": T0 + timedelta(seconds=20 * i),
                        "input_tokens": 1000, "output_tokens": 100 + i, "ttlt_ms": 800.0 + i}
                       for i in range(12)], T0)  # fmt: skip
    run_rollups(con, PricingSettings(), T0 + timedelta(days=1))
    return lambda name, params: run_query(con, name, params)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_report_json_has_exactly_the_documented_columns(run: Any, kind: str) -> None:
    table = build_report(run, kind, T0, T0 + timedelta(hours=1), ["tenant", "model"], {})
    rows = json.loads(format_table(table, "json"))
    assert list(rows[0]) == EXPECTED[kind]
    assert rows[0]["requests"] == 12


def test_capacity_peak_and_average_rpm(run: Any) -> None:
    row = build_report(run, "capacity", T0, T0 + timedelta(minutes=10), [], {}).to_pylist()[0]
    # 12 calls 20 s apart: 3 in each of the first four minutes, over a 10-minute range
    assert (row["peak_rpm"], row["avg_rpm"]) == (3, pytest.approx(1.2))


def test_csv_and_table_formats() -> None:
    table = pa.table({"tenant": ["acme"], "cost_usd": [1.5], "unpriced_requests": [None]})
    assert format_table(table, "csv") == "tenant,cost_usd,unpriced_requests\nacme,1.5,\n"
    assert format_table(table, "table").splitlines()[0].split() == table.column_names


def test_report_command_prints_and_rejects_bad_keys(run: Any, capsys: Any) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    args = parser.parse_args(["cost", "--from", "2025-03-03T10:00:00Z", "--to",
                              "2025-03-03T11:00:00Z", "--by", "tenant", "--format", "json"])  # fmt: skip
    assert run_report_command(args, run) == 0
    assert json.loads(capsys.readouterr().out)[0]["tenant"] == "acme"
    bad = parser.parse_args(["cost", "--by", "colour"])
    assert run_report_command(bad, run, now=T0) == 2
    assert "unknown group key 'colour'" in capsys.readouterr().err


def test_report_table_is_for_people_and_json_for_scripts(run: Any, capsys: Any) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    window = ["--from", "2025-03-03T10:00:00Z", "--to", "2025-03-03T11:00:00Z", "--by", "tenant"]
    assert run_report_command(parser.parse_args(["usage", *window]), run) == 0
    header, _, row, _ = capsys.readouterr().out.splitlines()
    cells = dict(zip(header.split(), row.split(), strict=True))
    # 12 calls of 1000 input tokens; 100..111 output tokens (1266 in all, mean 105.5 -> 106)
    assert (cells["input_tokens"], cells["output_tokens"]) == ("12,000", "1,266")
    assert (cells["error_rate"], cells["output_tokens_per_request_mean"]) == ("0.00%", "106")
    assert run_report_command(parser.parse_args(["usage", *window, "--format", "json"]), run) == 0
    assert json.loads(capsys.readouterr().out)[0]["output_tokens_per_request_mean"] == 105.5
