"""The Overview page under AppTest against a real server holding tests/dashboard_data.py's
data set: numbers checked by hand, filters from the URL, empty database, API down, API error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from dashboard_data import DAY, DAY_RANGE, ERROR_MESSAGE, MODEL_A, MODEL_B, run_rollups, write_alert, write_data_set
from streamlit.testing.v1 import AppTest

from outcrop.dashboard import fmt
from outcrop.dashboard.api_client import overview
from outcrop.dashboard.api_client.base import Api
from outcrop.dashboard.filters import Filters
from tests.conftest import run_outcrop

pytest_plugins = ["dashboard_fixtures"]

DAY_FILTERS = Filters(DAY, DAY + timedelta(days=1))
RANGE_QS = "from=2026-11-18T00%3A00%3A00Z&to=2026-11-19T00%3A00%3A00Z"


def _metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _numbers(api: Api, filters: Filters) -> dict[str, tuple[float | None, float | None]]:
    return {n.label: (n.now, n.before) for n in overview.headline(api, filters).numbers}


def test_the_headline_numbers_are_the_hand_counted_ones(data_server: Any) -> None:
    numbers = _numbers(Api(data_server.api_url), DAY_FILTERS)
    # DAY: 9 calls, $4 + $1.50 + $1 (one unpriced); the day before: 3 calls, $2.50
    assert numbers["Requests"] == (9, 3)
    assert numbers["Spend"] == (6.5, 2.5)
    assert numbers["Throttle rate"] == (1 / 9, 0) and numbers["Error rate"] == (1 / 9, 0)
    assert numbers["Unattributed share"] == (1 / 9, 0) and numbers["Unpriced share"] == (1 / 9, 0)
    # percentiles come from the rollup histograms, within 2% of the exact (interpolated) value:
    # TTFT of the four streamed calls 100..400 ms -> 385 ms; none streamed the day before
    ttft_now, ttft_before = numbers["p95 TTFT"]
    assert ttft_now == pytest.approx(385, rel=0.02) and ttft_before is None
    # TTLT 800 x3, 1000 x3, 2000, 3000, 4000 -> 3600 ms; 500, 800, 1500 -> 1430 ms
    ttlt_now, ttlt_before = numbers["p95 TTLT"]
    assert ttlt_now == pytest.approx(3600, rel=0.02) and ttlt_before == pytest.approx(1430, rel=0.02)


def test_the_page_shows_them_for_people(data_server: Any, dashboard_app: Callable[..., AppTest]) -> None:
    at = dashboard_app(data_server.api_url, query=DAY_RANGE)
    assert not at.exception and not at.error
    metrics = _metrics(at)
    assert metrics["Requests"] == ("9", "+200.0%")
    assert metrics["Spend"] == ("$6.50", "+160.0%")
    assert metrics["Error rate"] == ("11.1%", "+11.1 pp")
    assert metrics["Throttle rate"] == ("11.1%", "+11.1 pp")
    assert metrics["Unattributed share"] == ("11.1%", "+11.1 pp")
    assert metrics["Unpriced share"] == ("11.1%", "+11.1 pp")
    assert metrics["p95 TTLT"][0] == "3.6 s"
    assert metrics["p95 TTFT"][1] == ""  # nothing to compare with: no delta drawn
    assert at.caption[0].value == "2026-11-18 00:00 – 2026-11-19 00:00 UTC, against the 24 h before it"


def test_spend_is_what_outcrop_report_cost_prints(data_server: Any, db_path: str) -> None:
    spend = dict(_numbers(Api(data_server.api_url), DAY_FILTERS))["Spend"][0]
    report = run_outcrop("report", "cost", "--db", db_path, "--from", DAY_RANGE["from"], "--to", DAY_RANGE["to"])
    assert report.returncode == 0, report.stderr
    assert f"${spend:,.2f}" == "$6.50" and "$6.50" in report.stdout


def test_filters_from_the_url_change_what_is_asked(data_server: Any, dashboard_app: Callable[..., AppTest]) -> None:
    at = dashboard_app(data_server.api_url, query={**DAY_RANGE, "tenant": "globex"})
    metrics = _metrics(at)
    # globex: ok, error, throttled at $0.50 each; the day before one ok call
    assert metrics["Requests"] == ("3", "+200.0%") and metrics["Spend"] == ("$1.50", "+200.0%")
    assert metrics["Error rate"] == ("33.3%", "+33.3 pp")
    assert metrics["Unattributed share"] == ("0.0%", "+0.0 pp")  # the filter leaves no unattributed call
    ttlt = _numbers(Api(data_server.api_url), Filters(DAY, DAY + timedelta(days=1), {"tenant": ["globex"]}))
    assert ttlt["p95 TTLT"][0] == pytest.approx(800, rel=0.02)
    assert metrics["p95 TTLT"][0] == fmt.ms(ttlt["p95 TTLT"][0])
    at = dashboard_app(data_server.api_url, query={"from": "2026-11-18T10:00:00Z", "to": "2026-11-18T11:00:00Z"})
    # the hour of acme's four calls and the unattributed one; the hour before it is empty
    assert _metrics(at)["Requests"] == ("5", "new") and _metrics(at)["Spend"] == ("$5.00", "new")


def test_a_prompt_version_filter_leaves_latency_out_and_says_why(data_server: Any,
                                                                 dashboard_app: Callable[..., AppTest]) -> None:
    # two calls of the day after DAY with prompt versions (the shared data set has none)
    after = DAY + timedelta(days=1, hours=9)
    write_data_set(data_server.store, [
        {"call_id": "pv-1", "ts": after, "model": MODEL_A, "prompt_version": "v1", "input_tokens": 1000,
         "ttlt_ms": 900.0},
        {"call_id": "pv-2", "ts": after, "model": MODEL_A, "prompt_version": "v2", "input_tokens": 1000,
         "ttlt_ms": 900.0}])
    run_rollups(data_server)
    at = dashboard_app(data_server.api_url, query={"from": "2026-11-19T00:00:00Z", "to": "2026-11-20T00:00:00Z",
                                                   "prompt_version": "v1"})
    assert not at.exception and not at.error
    assert any("cannot be narrowed by prompt_version" in c.value for c in at.caption)
    metrics = _metrics(at)  # DAY, the period before, has no v1 call
    assert metrics["Requests"] == ("1", "new") and metrics["Spend"] == ("$1.00", "new")
    assert metrics["p95 TTLT"] == ("—", "") and metrics["p95 TTFT"] == ("—", "")


def test_the_requests_chart_links_each_bucket_to_its_traces(data_server: Any) -> None:
    found = overview.buckets(Api(data_server.api_url), DAY_FILTERS)
    assert [(b.start, b.requests, b.cost_usd) for b in found] == [
        (datetime(2026, 11, 18, 10), 5, 5.0), (datetime(2026, 11, 18, 11), 1, None),
        (datetime(2026, 11, 18, 12), 3, 1.5)]
    assert found[0].traces == "/traces?from=2026-11-18T10%3A00%3A00Z&to=2026-11-18T11%3A00%3A00Z"
    assert overview.grain_for(Filters(DAY, DAY + timedelta(days=8))) == "1d"


def test_top_movers_are_the_biggest_changes_with_their_traces(data_server: Any) -> None:
    moved = overview.movers(Api(data_server.api_url), DAY_FILTERS)
    # spend now - before: model A 5 - 2, route chat 5 - 2, tenant acme 4 - 2, then the +$1 ones by name;
    # the unpriced model has no spend in either period, so it did not move
    assert [(m.key, m.value, m.now, m.before) for m in moved.spend] == [
        ("model", MODEL_A, 5.0, 2.0), ("route", "chat", 5.0, 2.0), ("tenant", "acme", 4.0, 2.0),
        ("model", MODEL_B, 1.5, 0.5), ("route", "search", 1.5, 0.5)]
    assert moved.spend[2].traces == f"/traces?{RANGE_QS}&tenant=acme"
    # p95 TTLT moved for acme's model, tenant and route (3800, 3800, 3750 ms from 1450); globex's 800 ms held
    assert {(m.key, m.value) for m in moved.ttlt_p95} == {("model", MODEL_A), ("tenant", "acme"), ("route", "chat")}
    assert all(m.delta == pytest.approx(2300, rel=0.05) for m in moved.ttlt_p95)


def test_the_page_lists_movers_and_firing_alerts(data_server: Any, dashboard_app: Callable[..., AppTest]) -> None:
    write_alert(data_server.store, 1, "firing", {"tenant": "globex"}, datetime(2026, 11, 18, 12, 0))
    write_alert(data_server.store, 2, "resolved", {"tenant": "acme"}, datetime(2026, 11, 18, 9, 0))
    at = dashboard_app(data_server.api_url, query=DAY_RANGE)
    spend, _, alerts = (d.value for d in at.dataframe)
    assert list(spend["name"]) == [MODEL_A, "chat", "acme", MODEL_B, "search"]
    assert list(spend["change"]) == ["+150.0%", "+150.0%", "+100.0%", "+200.0%", "+200.0%"]
    assert [s.value for s in at.main.subheader] == ["Top movers", "Firing alerts (1)"]
    assert list(alerts["rule"]) == ["globex-errors"] and list(alerts["group"]) == ["tenant=globex"]
    assert list(alerts["traces"]) == ["/traces?from=2026-11-18T12%3A00%3A00Z&to=2026-11-19T00%3A00%3A00Z"
                                      "&tenant=globex"]


def test_an_empty_database_says_what_to_send(empty_server: Any, dashboard_app: Callable[..., AppTest]) -> None:
    at = dashboard_app(empty_server.api_url)
    assert not at.exception and not at.error and not at.metric
    assert "No LLM calls in this range." in at.info[0].value and "/v1/traces" in at.info[0].value
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" in at.code[0].value


def test_api_down_is_one_line(api_down_url: str, dashboard_app: Callable[..., AppTest]) -> None:
    at = dashboard_app(api_down_url, query=DAY_RANGE)
    assert not at.exception and not at.metric
    assert [e.value for e in at.error] == [f"cannot reach the server at {api_down_url}: [Errno 111] Connection refused"]


def test_api_error_is_one_line(api_error_url: str, dashboard_app: Callable[..., AppTest]) -> None:
    at = dashboard_app(api_error_url, query=DAY_RANGE)
    assert not at.exception and not at.metric
    assert [e.value for e in at.error] == [f"server answered 500: {ERROR_MESSAGE}"]


def test_the_api_token_is_passed_through(server_factory: Any, dashboard_app: Callable[..., AppTest]) -> None:
    server = server_factory(server={"api_token": "reader-token-2"})
    assert [e.value for e in dashboard_app(server.api_url).error] == [
        "server answered 401: missing or invalid API token"]
    at = dashboard_app(server.api_url, token="reader-token-2")
    assert not at.error and "No LLM calls in this range." in at.info[0].value
