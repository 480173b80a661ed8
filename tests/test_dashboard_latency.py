"""The latency page under AppTest against a real server, on the data set of
tests/dashboard_data.py. Route chat: 6 calls (acme's four of 1..4 s TTLT, the unattributed
and the unpriced call of 1 s); route search: 3 calls of 800 ms. Trace TRACE_ID (route chat,
300 s from its root's start to its end) holds four LLM spans of 1, 2, 3 and 4 s, so its
inference stage takes 10 s and the rest of the trace (`other`) 290 s."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from dashboard_data import DAY, DAY_RANGE, ERROR_MESSAGE, MODEL_A, PRICING, run_rollups, write_data_set
from streamlit.testing.v1 import AppTest

pytest_plugins = ["dashboard_fixtures"]


def _table(at: AppTest, column: str) -> list[dict[str, Any]]:
    (table,) = [df for df in at.dataframe if column in df.value.columns]
    return list(table.value.to_dict("records"))


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"]: s for s in specs}


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_slowest_routes_first_with_links_to_their_slow_traces(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="latency", query=DAY_RANGE)
    _ok(at)
    routes = _table(at, "ttlt_ms_p99")
    assert [(r["route"], r["requests"]) for r in routes] == [("chat", 6), ("search", 3)]
    # histogram percentiles are within 2% of the exact ones: search's calls all took 800 ms
    assert routes[1]["ttlt_ms_p95"] == pytest.approx(800.0, rel=0.02)
    assert routes[1]["throttle_rate"] == pytest.approx(1 / 3)
    assert routes[1]["open"] == "/traces?from=2026-11-18T00%3A00%3A00Z&to=2026-11-19T00%3A00%3A00Z&route=search" \
        f"&min_duration_ms={routes[1]['ttlt_ms_p95']:.0f}"


def test_where_the_time_goes_per_stage(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="latency", query=DAY_RANGE)
    _ok(at)
    stages = _table(at, "stage")
    assert [(r["route"], r["stage"], r["traces"], r["p50_ms"], r["p95_ms"]) for r in stages] == [
        ("chat", "inference", 1, 10_000.0, 10_000.0), ("chat", "other", 1, 290_000.0, 290_000.0)]
    assert stages[0]["trace_p95_ms"] == 300_000.0
    assert stages[0]["open"].endswith("&route=chat")
    stacked = _charts(at)["p95 time per stage and route (ms per trace)"]
    assert stacked["layout"]["barmode"] == "stack"
    assert [(d["name"], d["x"], d["y"]) for d in stacked["data"]] == [
        ("inference", ["chat"], [10_000.0]), ("other", ["chat"], [290_000.0])]


def test_percentiles_over_time_by_the_chosen_key(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="latency", query=DAY_RANGE)
    _ok(at)
    ttft = _charts(at)["Time to first token p50 and p95 (ms) per hour"]
    names = [d["name"] for d in ttft["data"]]
    assert f"{MODEL_A} p50" in names and f"{MODEL_A} p95" in names
    # acme's four streamed calls at 10:01-10:04 with TTFT 100..400 ms: p50 250 ms (within 2%)
    (p50,) = [d for d in ttft["data"] if d["name"] == f"{MODEL_A} p50"]
    assert p50["x"] == ["2026-11-18T10:00:00"] and p50["y"][0] == pytest.approx(250.0, rel=0.02)
    at.selectbox(key="latency_group").select("route").run()
    _ok(at)
    names = [d["name"] for d in _charts(at)["Time to last token p50 and p95 (ms) per hour"]["data"]]
    assert sorted(names) == ["chat p50", "chat p95", "search p50", "search p95"]


def test_route_in_the_url_narrows_every_chart(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="latency", query={**DAY_RANGE, "route": "search"})
    _ok(at)
    assert [r["route"] for r in _table(at, "ttlt_ms_p99")] == ["search"]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("No traces with spans in this range") for c in captions)  # search has no spans
    assert "No successful call with output tokens and a TTLT in this range." in captions


def test_empty_database_says_what_to_send(empty_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(empty_server.api_url, page="latency", query=DAY_RANGE)
    _ok(at)
    assert any("/v1/traces" in i.value for i in at.info)


def test_api_down_is_one_line(api_down_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_down_url, page="latency", query=DAY_RANGE)
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("cannot reach the server")


def test_api_error_shows_the_server_message(api_error_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_error_url, page="latency", query=DAY_RANGE)
    assert not at.exception
    assert len(at.error) == 1 and ERROR_MESSAGE in at.error[0].value


def test_latency_against_output_tokens_links_a_point_to_its_trace(server_factory: Any, dashboard_app: Any) -> None:
    server = server_factory(pricing=PRICING)
    at_ = DAY + timedelta(hours=9)
    calls = [{"call_id": f"out-{n}", "ts": at_ + timedelta(minutes=n), "model": MODEL_A, "trace_id": f"{n:032x}",
              "input_tokens": 10, "output_tokens": n * 100, "ttlt_ms": 200.0 + n * 10, "prompt_version": "v2"}
             for n in (1, 2, 3)]
    write_data_set(server.store, calls)
    run_rollups(server)
    at = dashboard_app(server.api_url, page="latency", query=DAY_RANGE)
    _ok(at)
    scatter = _charts(at)["Time to last token (ms) against output tokens, by model"]
    (points,) = scatter["data"]
    assert (points["name"], points["mode"]) == (MODEL_A, "markers")
    assert sorted(zip(points["x"], points["y"], strict=True)) == [(100, 210.0), (200, 220.0), (300, 230.0)]
    assert sorted(c[0] for c in points["customdata"]) == [f"{n:032x}" for n in (1, 2, 3)]
    assert "3 of 3 successful calls (a stable sample). Select a point to open its trace." in [
        c.value for c in at.caption]


def test_a_prompt_version_filter_skips_the_rollup_charts_and_says_why(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="latency", query={**DAY_RANGE, "prompt_version": "v2"})
    _ok(at)
    assert any("keep no prompt version" in i.value for i in at.info)
    assert not [df for df in at.dataframe if "ttlt_ms_p99" in df.value.columns]
    assert any(c.startswith("No traces with spans in this range") for c in (c.value for c in at.caption))
