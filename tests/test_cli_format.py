"""Report tables for people: tokens as integers, rates as percentages, money in dollars
and cents, latency in ms; CSV and JSON keep full precision."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from outcrop.cli.formatting import format_table, human_cell

ROW = {
    "tenant": "acme", "requests": 12345, "throttle_rate": 0.00180723, "cache_hit_share": 0.25,
    "input_tokens": 1234567, "input_tokens_per_request_p95": 7210.54,
    "output_tokens_per_request_mean": 741.369, "cost_usd": 45.2667,
    "cost_per_request_usd": 0.0042187, "ttlt_ms_p50": 1234.4, "ttft_ms_p95": 87.54,
    "otps_p50": 96.84, "avg_rpm": 1.2, "peak_tpm": 98765,
}  # fmt: skip


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("input_tokens", 1234567, "1,234,567"),
    ("input_tokens_per_request_p95", 7210.54, "7,211"),
    ("output_tokens_per_request_mean", 741.369, "741"),
    ("throttle_rate", 0.00180723, "0.18%"),
    ("error_rate", 0.0, "0.00%"),
    ("error_rate", 1.0, "100.00%"),
    ("error_rate", 0.0000123, "0.0012%"),
    ("cache_hit_share", 0.25, "25.00%"),
    ("cost_usd", 45.2667, "$45.27"),
    ("cost_usd", 12345.678, "$12,345.68"),
    ("cost_usd", 0.0, "$0.00"),
    ("cost_per_request_usd", 0.0042187, "$0.0042"),
    ("cost_per_request_usd", 0.000012345, "$0.000012"),
    ("cost_per_1k_requests_usd", 4.2187, "$4.22"),
    ("cost_usd", -1.5, "-$1.50"),
    ("ttlt_ms_p50", 1234.4, "1,234 ms"),
    ("ttft_ms_p95", 87.54, "87.5 ms"),
    ("otps_p50", 96.84, "96.8"),
    ("avg_rpm", 1.2, "1.2"),
    ("peak_tpm", 98765, "98,765"),
    ("peak_quota_tpm_hi", 163532.4, "163,532.4"),
    ("peak_rpm_lo", 24.51, "24.5"),
    ("pt_monthly_usd_1_month", 64240.0, "$64,240.00"),
    ("breakeven_utilisation", 0.2157, "21.57%"),
    ("requests", 12345, "12,345"),
    ("tenant", "acme", "acme"),
])  # fmt: skip
def test_each_column_kind_reads_as_a_person_expects(column: str, value: object, expected: str) -> None:
    assert human_cell(column, value) == expected


def test_report_table_uses_the_rules_and_json_csv_keep_full_precision() -> None:
    table = pa.Table.from_pylist([ROW])
    lines = format_table(table, "table", human=True).splitlines()
    cells = dict(zip(lines[0].split(), lines[2].split("  "), strict=False))
    text = lines[2]
    for shown in ("12,345", "0.18%", "1,234,567", "7,211", "741", "$45.27", "$0.0042", "1,234 ms", "87.5 ms"):
        assert shown in text, (shown, text)
    assert cells["tenant"] == "acme"
    assert json.loads(format_table(table, "json", human=True))[0] == ROW
    csv_row = format_table(table, "csv", human=True).splitlines()[1].split(",")
    assert csv_row[2] == "0.00180723" and csv_row[7] == "45.2667"


def test_without_human_the_table_is_as_before() -> None:
    table = pa.table({"cost_usd": [45.2667]})
    assert format_table(table, "table").splitlines()[2].strip() == "45.2667"


def test_csv_and_json_keep_every_digit_and_say_utc() -> None:
    from datetime import datetime

    table = pa.table({"cost_usd": [3.4455650800000015], "ts": [datetime(2026, 12, 4, 19, 56, 13, 977735)]})
    csv_row = format_table(table, "csv", human=True).splitlines()[1]
    assert csv_row == "3.4455650800000015,2026-12-04T19:56:13.977735Z"
    assert json.loads(format_table(table, "json")) == [
        {"cost_usd": 3.4455650800000015, "ts": "2026-12-04T19:56:13.977735Z"}]
