"""The capacity charts' reads: the `capacity_series` named query (per-minute RPM, TPM and
quota TPM, or the busiest minute of each hour or day) and the Provisioned Throughput
calculator behind POST /v1/reports/provisioned.

Expected values are computed by hand in the comments beside them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
import requests
from test_capacity import DAY0, HAIKU35, NOW, SONNET4, SONNET_PRICE, SONNET_UNITS
from test_capacity import _calls as priced_calls
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import QueryError, run_query
from outcrop.analytics.report import build_report
from outcrop.analytics.rollups import run_rollups
from outcrop.api.capacity import provisioned
from outcrop.core.settings import CapacitySettings, PricingSettings, Settings

E1, W2 = "us-east-1", "us-west-2"
M = timedelta(minutes=1)


def _calls() -> list[dict[str, Any]]:
    return [
        # 10:00, Haiku 3.5 (burndown 1) in us-east-1, two tenants in one minute:
        # acme raw 150 quota 150; beta raw 200 + 1000 + 20 = 1220, quota 200 + 20 = 220
        # -> the minute summed: 2 requests, 1370 raw, 370 quota
        {"call_id": "a1", "ts": T0, "input_tokens": 100, "output_tokens": 50},
        {"call_id": "b1", "ts": T0 + timedelta(seconds=30), "tenant": "beta", "input_tokens": 200,
         "cache_read_tokens": 1000, "output_tokens": 20},
        # 10:01: 1 request, 20 raw, 20 quota
        {"call_id": "a2", "ts": T0 + M, "input_tokens": 10, "output_tokens": 10},
        # 10:02 in us-west-2: 1 request, 300 raw, 300 quota
        {"call_id": "a3", "ts": T0 + 2 * M, "region": W2, "input_tokens": 300, "output_tokens": 0},
        # 10:05, Sonnet 4 (burndown 5): raw 10 + 1000 = 1010, quota 10 + 5000 = 5010; then raw
        # 90 + 100 = 190, quota 90 + 100 (cache write counts) = 190 -> 2 requests, 1200 raw, 5200 quota
        {"call_id": "s1", "ts": T0 + 5 * M, "model": SONNET4, "input_tokens": 10, "output_tokens": 1000},
        {"call_id": "s2", "ts": T0 + 5 * M + timedelta(seconds=10), "model": SONNET4, "input_tokens": 90,
         "cache_write_tokens": 100, "output_tokens": 0},
        # 11:05: 1 request, 2000 raw and quota; 11:06: 3 requests of 2 tokens
        {"call_id": "a4", "ts": T0 + 65 * M, "input_tokens": 1000, "output_tokens": 1000},
        *({"call_id": f"a5{i}", "ts": T0 + 66 * M + timedelta(seconds=i), "input_tokens": 1, "output_tokens": 1}
          for i in range(3)),
        # the next day, 10:00: 1 request, 10 raw, 10 quota
        {"call_id": "a6", "ts": T0 + timedelta(days=1), "input_tokens": 5, "output_tokens": 5},
    ]  # fmt: skip


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    db = fresh_db()
    insert_calls(db, _calls(), T0)
    run_rollups(db, PricingSettings(use_genai_prices=False), NOW)
    return db


def _series(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, grain: str, by: list[str],
            where: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    table = run_query(con, "capacity_series",
                      {"from": start, "to": end, "grain": grain, "by": by, "where": where or {}})
    return [(r["bucket"], r["tenant"], r["model"], r["region"], r["rpm"], r["tpm"], r["quota_tpm"])
            for r in table.to_pylist()]


def test_per_minute_series_sums_each_minute_over_the_groups_keys(con: duckdb.DuckDBPyConnection) -> None:
    assert _series(con, T0, T0 + timedelta(hours=2), "1m", ["model", "region"]) == [
        (T0, None, HAIKU35, E1, 2, 1370, 370),  # acme + beta
        (T0 + M, None, HAIKU35, E1, 1, 20, 20),
        (T0 + 2 * M, None, HAIKU35, W2, 1, 300, 300),
        (T0 + 5 * M, None, SONNET4, E1, 2, 1200, 5200),
        (T0 + 65 * M, None, HAIKU35, E1, 1, 2000, 2000),
        (T0 + 66 * M, None, HAIKU35, E1, 3, 6, 6),
    ]


def test_grouped_by_tenant_each_tenant_keeps_its_own_minute(con: duckdb.DuckDBPyConnection) -> None:
    assert _series(con, T0, T0 + M, "1m", ["tenant"]) == [
        (T0, "acme", None, None, 1, 150, 150),
        (T0, "beta", None, None, 1, 1220, 220),
    ]


def test_hour_buckets_hold_the_busiest_minute_of_each_value(con: duckdb.DuckDBPyConnection) -> None:
    hour = T0.replace(minute=0)
    rows = run_query(con, "capacity_series", {"from": T0, "to": T0 + timedelta(hours=2), "grain": "1h",
                                              "by": ["model", "region"]}).to_pylist()
    # the minute of each bucket's quota peak: 10:00 (370 > 20), 10:02, 10:05, 11:05 (2000 > 6)
    assert [r["quota_peak_at"] for r in rows] == [T0, T0 + 2 * M, T0 + 5 * M, T0 + 65 * M]
    assert _series(con, T0, T0 + timedelta(hours=2), "1h", ["model", "region"]) == [
        (hour, None, HAIKU35, E1, 2, 1370, 370),  # max(2, 1), max(1370, 20), max(370, 20)
        (hour, None, HAIKU35, W2, 1, 300, 300),
        (hour, None, SONNET4, E1, 2, 1200, 5200),
        # rpm from 11:06 (3), tpm and quota from 11:05 (2000): each its own minute
        (hour + timedelta(hours=1), None, HAIKU35, E1, 3, 2000, 2000),
    ]


def test_day_buckets_of_everything_take_the_peak_of_the_summed_minutes(con: duckdb.DuckDBPyConnection) -> None:
    # all keys summed per minute: 10:00 2/1370/370, 10:01 1/20/20, 10:02 1/300/300,
    # 10:05 2/1200/5200, 11:05 1/2000/2000, 11:06 3/6/6 -> rpm 3, tpm 2000, quota 5200
    assert _series(con, DAY0, DAY0 + timedelta(days=2), "1d", []) == [
        (DAY0, None, None, None, 3, 2000, 5200),
        (DAY0 + timedelta(days=1), None, None, None, 1, 10, 10),
    ]
    rows = run_query(con, "capacity_series", {"from": DAY0, "to": DAY0 + timedelta(days=2), "grain": "1d"})
    assert rows.column("quota_peak_at").to_pylist() == [T0 + 5 * M, T0 + timedelta(days=1)]


def test_filters_and_range_bounds(con: duckdb.DuckDBPyConnection) -> None:
    # a filter on keys not grouped still sums only the matching keys' minutes
    assert _series(con, T0, T0 + timedelta(hours=2), "1h", [], {"model": HAIKU35, "region": E1}) == [
        (T0, None, None, None, 2, 1370, 370),
        (T0 + timedelta(hours=1), None, None, None, 3, 2000, 2000),
    ]
    # [10:01:30, 10:05): from floors to its minute, to excludes the 10:05 minute
    assert _series(con, T0 + M + timedelta(seconds=30), T0 + 5 * M, "1m", ["region"]) == [
        (T0 + M, None, None, E1, 1, 20, 20),
        (T0 + 2 * M, None, None, W2, 1, 300, 300),
    ]
    assert _series(con, T0 + timedelta(days=3), T0 + timedelta(days=4), "1m", ["model"]) == []


def test_series_refuses_keys_the_capacity_rollups_do_not_keep(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(QueryError, match="cannot group or filter by 'route'"):
        _series(con, T0, T0 + M, "1m", ["route"])
    with pytest.raises(QueryError, match="grain must be one of 1m, 1h, 1d"):
        _series(con, T0, T0 + M, "5m", ["model"])


# --- the Provisioned Throughput calculator ---------------------------------------------

# The worked example of docs/capacity.md: a day of Sonnet 4, input side 1,710 and output
# 1,140 tokens, a peak of 5,010 quota tokens, $0.02328 of on-demand cost.
WORKED = {"model": SONNET4, "peak_quota_tpm": 5010, "input_tokens": 1710, "output_tokens": 1140, "hours": 24,
          "input_tpm_per_unit": 300, "output_tpm_per_unit": 1000, "hourly_usd_1_month": 40.0,
          "hourly_usd_6_month": 30.0, "headroom": 0.2, "on_demand_monthly_usd": 0.02328 * 730 / 24}


def _no_reads(name: str, params: dict[str, Any]) -> Any:
    raise AssertionError(f"the calculator read {name} with no range given")


def test_calculator_sizes_the_worked_example_from_its_inputs_alone() -> None:
    answer = provisioned(_no_reads, Settings(), WORKED)
    # split 5010 x 1710 / (1710 + 5 x 1140) = 1156.15 in, 5010 x 1140 / 7410 = 770.77 out;
    # max(1156.15 / 300, 770.77 / 1000) = 3.854 x 1.2 = 4.62 -> 5 units
    assert answer["peak_input_tpm"] == pytest.approx(1156.15, abs=0.01)
    assert answer["peak_output_tpm"] == pytest.approx(770.77, abs=0.01)
    assert answer["model_units_needed"] == 5
    assert answer["pt_monthly_usd_1_month"] == pytest.approx(146_000.0)  # 5 x 40 x 730
    assert answer["pt_monthly_usd_6_month"] == pytest.approx(109_500.0)  # 5 x 30 x 730
    assert answer["on_demand_monthly_usd"] == pytest.approx(0.7081, abs=1e-4)
    # average minute 1710 / 1440 = 1.1875 of 5 x 300: 7.9167e-4 used
    assert answer["utilisation"] == pytest.approx(7.9167e-4, rel=1e-4)
    assert answer["breakeven_utilisation"] == pytest.approx(163.23, rel=1e-3)
    assert answer["missing"] == []
    assert answer["inputs"]["burndown_rate"] == 5.0 and answer["inputs"]["hours"] == 24.0


def test_calculator_recomputes_with_edited_inputs() -> None:
    # twice the peak: 10020 x 1710 / 7410 = 2312.3 in / 300 = 7.708 x 1.2 = 9.25 -> 10 units
    doubled = provisioned(_no_reads, Settings(), {**WORKED, "peak_quota_tpm": 10_020})
    assert doubled["model_units_needed"] == 10
    assert doubled["pt_monthly_usd_1_month"] == pytest.approx(10 * 40 * 730)  # 292,000
    # no headroom: ceil(3.854) = 4 units; 6-month price $25: 4 x 25 x 730 = 73,000
    bare = provisioned(_no_reads, Settings(), {**WORKED, "headroom": 0, "hourly_usd_6_month": 25})
    assert (bare["model_units_needed"], bare["pt_monthly_usd_6_month"]) == (4, pytest.approx(73_000.0))
    # an on-demand bill of $200,000 a month: break-even 116,800 x (1.1875 / 1200) / 200,000 = 0.000578
    paid = provisioned(_no_reads, Settings(), {**WORKED, "headroom": 0, "on_demand_monthly_usd": 200_000})
    assert paid["breakeven_utilisation"] == pytest.approx(116_800 * (1.1875 / 1200) / 200_000)


def test_calculator_without_unit_facts_names_them() -> None:
    params = {k: v for k, v in WORKED.items() if k not in ("input_tpm_per_unit", "output_tpm_per_unit")}
    answer = provisioned(_no_reads, Settings(), params)
    assert answer["model_units_needed"] is None and answer["pt_monthly_usd_1_month"] is None
    assert answer["missing"] == [f"input_tpm_per_unit and output_tpm_per_unit (or capacity.model_units for {SONNET4})"]
    # the on-demand side still answers
    assert answer["on_demand_monthly_usd"] == pytest.approx(0.7081, abs=1e-4)


@pytest.mark.parametrize(("change", "message"), [
    ({"peak_quota_tpm": "lots"}, "peak_quota_tpm must be a whole number, 1 or more, got 'lots'"),
    ({"peak_quota_tpm": 0}, "peak_quota_tpm must be a whole number, 1 or more"),
    ({"input_tokens": 1.5}, "input_tokens must be a whole number, 0 or more, got 1.5"),
    ({"output_tpm_per_unit": 0}, "output_tpm_per_unit must be a whole number, 1 or more"),
    ({"hourly_usd_1_month": -1}, "hourly_usd_1_month must be a number of dollars above 0"),
    ({"headroom": 11}, "headroom must be a share from 0 to 10"),
    ({"on_demand_monthly_usd": True}, "on_demand_monthly_usd must be a number of dollars"),
    ({"hours": 0}, "hours must be a number above 0"),
    ({"model": ""}, "model is required"),
    ({"units": 3}, "unknown parameter 'units'"),
    ({"from": "2025-03-03T00:00:00Z", "to": "2025-03-04T00:00:00Z"}, "give either from/to or hours"),
])  # fmt: skip
def test_calculator_refuses_a_bad_input_by_name(change: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        provisioned(_no_reads, Settings(), {**WORKED, **change})


@pytest.fixture()
def priced() -> duckdb.DuckDBPyConnection:
    db = fresh_db()
    insert_calls(db, priced_calls(), T0)
    run_rollups(db, PricingSettings(use_genai_prices=False, overrides=(SONNET_PRICE,)), NOW)
    return db


def test_calculator_defaults_are_the_capacity_reports_traffic_and_config(priced: duckdb.DuckDBPyConnection) -> None:
    settings = Settings(capacity=CapacitySettings(model_units=(SONNET_UNITS,)))
    run = lambda name, params: run_query(priced, name, params)  # noqa: E731
    rng = {"from": "2025-03-03T00:00:00Z", "to": "2025-03-04T00:00:00Z"}
    answer = provisioned(run, settings, {"model": SONNET4, "region": E1, **rng})
    # test_capacity's day of Sonnet 4: input 1000 + 500 + 10 and cache write 200 = 1710, output 1140
    assert {k: v for k, v in answer["inputs"].items() if k != "on_demand_monthly_usd"} == {
        "peak_quota_tpm": 5010, "input_tokens": 1710, "output_tokens": 1140, "hours": 24.0,
        "input_tpm_per_unit": 300, "output_tpm_per_unit": 1000, "hourly_usd_1_month": 40.0,
        "hourly_usd_6_month": 30.0, "headroom": 0.2, "burndown_rate": 5.0}
    row = next(r for r in build_report(run, "capacity", DAY0, DAY0 + timedelta(days=1), ["model", "region"], {},
                                       settings=settings).to_pylist() if r["model"] == SONNET4)
    for key in ("model_units_needed", "pt_monthly_usd_1_month", "pt_monthly_usd_6_month", "on_demand_monthly_usd",
                "breakeven_utilisation"):
        assert answer[key] == pytest.approx(row[key]), key
    # a unit twice as wide on the input side: max(1156.15 / 600, 0.771) x 1.2 = 2.31 -> 3 units
    wider = provisioned(run, settings, {"model": SONNET4, "region": E1, **rng, "input_tpm_per_unit": 600})
    assert wider["model_units_needed"] == 3 and wider["inputs"]["input_tpm_per_unit"] == 600
    # Haiku's call is unpriced: no on-demand cost, and the missing price is named
    haiku = provisioned(run, settings, {"model": HAIKU35, "region": E1, **rng})
    assert haiku["on_demand_monthly_usd"] is None and haiku["inputs"]["peak_quota_tpm"] == 150
    assert f"a price for {HAIKU35} (1 unpriced calls)" in haiku["missing"]
    with pytest.raises(QueryError, match="region is required with from/to"):
        provisioned(run, settings, {"model": SONNET4, **rng})


def test_read_api_serves_the_calculator(server_factory: Any) -> None:
    server = server_factory(server={"api_token": "reader-token"})
    url = server.api_url + "/v1/reports/provisioned"
    auth = {"authorization": "Bearer reader-token"}
    assert requests.post(url, json={"params": WORKED}, timeout=30).status_code == 401
    answer = requests.post(url, json={"params": WORKED}, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["model_units_needed"], answer.json()["pt_monthly_usd_1_month"]) == (5, 146_000.0)
    bad = requests.post(url, json={"params": {**WORKED, "headroom": "lots"}}, headers=auth, timeout=30)
    assert bad.status_code == 400 and bad.json()["message"].startswith("headroom must be")
