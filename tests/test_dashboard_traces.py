"""The traces page under AppTest against a real server, on the data set of
tests/dashboard_data.py: trace TRACE_ID is a root span `POST /chat` (10:00-10:05) and four
LLM spans of model A, each 1,000 input tokens at $1,000 per million = $1.00, so the trace
costs $4.00 and has 4,000 tokens; the globex calls have no trace."""

from __future__ import annotations

import json
from typing import Any

from dashboard_data import DAY_RANGE, ERROR_MESSAGE, MODEL_A, MODEL_B, TRACE_ID
from streamlit.testing.v1 import AppTest

pytest_plugins = ["dashboard_fixtures"]


def _results(at: AppTest) -> list[dict[str, Any]]:
    (table,) = [df for df in at.dataframe if "root_name" in df.value.columns]
    return list(table.value.to_dict("records"))


def _waterfall(at: AppTest) -> dict[str, Any]:
    (chart,) = at.get("plotly_chart")
    return dict(json.loads(chart.proto.spec))


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_results_table_has_the_trace_with_its_hand_computed_cost(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query=DAY_RANGE)
    _ok(at)
    (row,) = _results(at)
    assert row["trace_id"] == TRACE_ID and row["root_name"] == "POST /chat"
    assert (row["tenant"], row["route"], row["calls"], row["tokens"]) == ("acme", "chat", 4, 4000)
    assert row["cost_usd"] == 4.0
    assert (row["duration_ms"], row["status"]) == (300_000.0, "ok")
    assert f"trace_id={TRACE_ID}" in row["open"] and row["open"].startswith("/traces?from=2026-11-18T00")
    assert not at.get("plotly_chart")  # no trace opened yet


def test_trace_id_in_the_url_opens_its_waterfall(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "trace_id": TRACE_ID})
    _ok(at)
    spec = _waterfall(at)
    assert spec["layout"]["yaxis"]["ticktext"] == ["POST /chat"] + [f"   chat {MODEL_A}"] * 4
    by_stage = {d["name"]: d for d in spec["data"]}
    assert set(by_stage) == {"other", "inference"}
    # the four calls start 1..4 minutes after the root and last 1..4 s
    assert by_stage["inference"]["base"] == [60_000.0, 120_000.0, 180_000.0, 240_000.0]
    assert by_stage["inference"]["x"] == [1000.0, 2000.0, 3000.0, 4000.0]
    assert by_stage["inference"]["text"][0] == f"{MODEL_A} · 1,000 in / 0 out · TTFT 100 ms · $1.00"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Duration": "5.0 min", "Spans": "5", "LLM calls": "4", "Tokens": "4,000", "Cost": "$4.00"}


def test_a_span_picked_shows_its_attributes(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "trace_id": TRACE_ID})
    at.selectbox(key="traces_span_None").select(2).run()
    _ok(at)
    attributes = json.loads(at.get("json")[0].proto.body)
    assert attributes == {"gen_ai.request.model": MODEL_A, "gen_ai.usage.input_tokens": 1000}
    assert "This span has no events." in [c.value for c in at.caption]


def test_model_in_the_url_narrows_the_search(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "model": MODEL_A})
    _ok(at)
    assert [r["trace_id"] for r in _results(at)] == [TRACE_ID]
    assert at.sidebar.text_input(key="filter_model").value == MODEL_A
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "model": MODEL_B})
    _ok(at)
    assert not [df for df in at.dataframe if "root_name" in df.value.columns]
    assert any("No trace of this range matches" in i.value for i in at.info)


def test_the_search_form_writes_the_url(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query=DAY_RANGE)
    at.selectbox(key="traces_status").select("error")
    at.number_input(key="traces_min_cost_usd").set_value(3.5)
    at.button[0].click().run()
    _ok(at)
    assert (at.query_params["status"], at.query_params["min_cost_usd"]) == ("error", "3.5")
    assert any("No trace of this range matches" in i.value for i in at.info)  # the trace is ok, not error
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "status": "ok",
                                                                  "min_cost_usd": "3.5", "min_duration_ms": "1000"})
    assert [r["trace_id"] for r in _results(at)] == [TRACE_ID]


def test_bad_search_values_warn_and_are_ignored(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "status": "slow",
                                                                  "min_cost_usd": "cheap"})
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("status='slow'" in w for w in warnings) and any("min_cost_usd='cheap'" in w for w in warnings)
    assert [r["trace_id"] for r in _results(at)] == [TRACE_ID]


def test_a_trace_id_that_is_not_one_is_a_one_line_error(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "trace_id": "not-a-trace"})
    assert not at.exception
    assert [e.value for e in at.error] == ["trace_id='not-a-trace' is not a trace id (32 hexadecimal digits)"]
    assert _results(at)  # the search still draws


def test_an_unknown_trace_says_no_span_arrived(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="traces", query={**DAY_RANGE, "trace_id": "ab" * 16})
    _ok(at)
    assert any(i.value.startswith(f"No span of trace {'ab' * 16}") for i in at.info)


def test_empty_database_says_what_to_send(empty_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(empty_server.api_url, page="traces", query=DAY_RANGE)
    _ok(at)
    assert any("/v1/traces" in i.value for i in at.info)


def test_api_down_is_one_line(api_down_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_down_url, page="traces", query={**DAY_RANGE, "trace_id": TRACE_ID})
    assert not at.exception
    assert at.error and all(e.value.startswith("cannot reach the server") for e in at.error)
    assert all("\n" not in e.value for e in at.error)


def test_api_error_shows_the_server_message(api_error_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_error_url, page="traces", query=DAY_RANGE)
    assert not at.exception
    assert len(at.error) == 1 and ERROR_MESSAGE in at.error[0].value
