"""Named queries take validated, bound parameters only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import QueryError, available, load_query, run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PricingSettings

RANGE = {"from": T0, "to": T0 + timedelta(hours=2)}


def _db():  # type: ignore[no-untyped-def]
    con = fresh_db()
    insert_calls(con, [{"call_id": f"c{i}", "ts": T0 + timedelta(minutes=i),
                        "tenant": ("acme", "globex")[i % 2]} for i in range(90)], T0)  # fmt: skip
    run_rollups(con, PricingSettings(), T0 + timedelta(days=1))
    return con


def test_every_query_file_names_its_parameters() -> None:
    assert {"usage", "latency", "cost", "capacity", "timeseries", "unpriced_models",
            "trace_cost", "call_cost", "top_traces"} <= set(available())  # fmt: skip
    for name in available():
        assert load_query(name).params, name


def test_unknown_group_key_is_rejected() -> None:
    with pytest.raises(QueryError, match="unknown group key 'tenant; DROP TABLE llm_calls'"):
        run_query(_db(), "usage", {**RANGE, "by": ["tenant; DROP TABLE llm_calls"]})


@pytest.mark.parametrize(
    "params,message",
    [
        ({**RANGE, "colour": "red"}, "takes no parameter 'colour'"),
        ({**RANGE, "where": {"user": "bob"}}, "unknown filter key 'user'"),
        ({**RANGE, "where": {"tenant": 3}}, "must be a string or a list of strings"),
        ({"from": T0}, "'to' is required"),
        ({"from": "yesterday", "to": T0}, "not an ISO 8601 timestamp"),
        ({"from": T0, "to": T0 - timedelta(hours=1)}, "'to' must be after 'from'"),
        ({**RANGE, "by": "tenant"}, "must be a list"),
    ],
)
def test_bad_parameters_are_clear_errors(params: dict[str, object], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        run_query(_db(), "usage", params)


def test_unknown_query_and_bad_grain_are_rejected() -> None:
    con = _db()
    with pytest.raises(QueryError, match="unknown query 'drop'"):
        run_query(con, "drop", {})
    with pytest.raises(QueryError, match="grain must be one of"):
        run_query(con, "timeseries", {**RANGE, "grain": "5m"})


def test_filter_values_are_bound_not_spliced() -> None:
    con = _db()
    got = run_query(con, "usage", {**RANGE, "where": {"tenant": "acme' OR '1'='1"}})
    assert got.num_rows == 0
    got = run_query(con, "usage", {**RANGE, "where": {"tenant": ["acme"]}, "by": ["tenant"]})
    assert got.to_pylist()[0]["requests"] == 45


def test_row_limit_bounds_the_result() -> None:
    got = run_query(_db(), "timeseries", {**RANGE, "grain": "1m"}, row_limit=10)
    assert got.num_rows == 10


def test_timeseries_buckets_by_grain() -> None:
    got = run_query(_db(), "timeseries", {**RANGE, "grain": "1h", "by": ["tenant"]})
    assert [(r["bucket"].hour, r["tenant"], r["requests"]) for r in got.to_pylist()] == [
        (10, "acme", 30), (10, "globex", 30), (11, "acme", 15), (11, "globex", 15),
    ]  # fmt: skip


def test_cloudwatch_query_tolerates_a_missing_table() -> None:
    con = _db()
    con.execute("DROP TABLE IF EXISTS bedrock_metrics_1m")
    got = run_query(con, "cloudwatch_rates", RANGE)
    assert got.num_rows == 0 and "throttle_rate" in got.column_names
