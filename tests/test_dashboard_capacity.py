"""The capacity page under AppTest against a real server: the quota line, the peak
minutes, the Provisioned Throughput calculator (prefilled, then edited) with values
computed by hand, the forecast band, filters from the URL, and the empty, down and
failing API cases. Data: tests/dashboard_fixtures.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from dashboard_data import (
    DAY,
    DAY_RANGE,
    ERROR_MESSAGE,
    MODEL_A,
    MODEL_B,
    PRICING,
    run_rollups,
    write_data_set,
)
from streamlit.testing.v1 import AppTest

from tests.conftest import RunningServer

pytest_plugins = ["dashboard_fixtures"]

REGION = "us-east-1"
B = f"{MODEL_B} · {REGION}"
A = f"{MODEL_A} · {REGION}"
CAPACITY = {
    "quotas": [{"model": MODEL_B, "region": REGION, "tpm": 10_000}],
    "model_units": [{"model": MODEL_B, "input_tpm_per_unit": 1000, "output_tpm_per_unit": 100,
                     "hourly_usd_1_month": 10.0, "hourly_usd_6_month": 8.0}],
    "headroom": 0.2,
}


@pytest.fixture
def capacity_server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    """The fixtures' data set with a quota and model-unit facts for model B."""
    server = server_factory(pricing=PRICING, capacity=CAPACITY)
    write_data_set(server.store)
    run_rollups(server)
    return server


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """Each Plotly chart's figure by its title."""
    figures = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    return {f["layout"]["title"]["text"]: f for f in figures}


def _traces(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in figure["data"]}


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _pick_pt_group(at: AppTest, label: str) -> None:
    box = at.selectbox(key="pt_group")
    box.select_index(box.options.index(label)).run()


def test_charts_draw_each_model_and_region_with_the_quota_line(capacity_server: RunningServer,
                                                                dashboard_app: Any) -> None:
    at = dashboard_app(capacity_server.api_url, page="capacity", query=DAY_RANGE)
    assert not at.exception and not at.error
    charts = _charts(at)
    quota_chart = _traces(charts["Quota TPM per model and region (busiest minute of each hour)"])
    # B's quota of [[capacity.quotas]] as a line across the range; A has no quota, so no line
    assert quota_chart[f"Quota · {B}"]["y"] == [10_000, 10_000]
    assert f"Quota · {A}" not in quota_chart
    # B's three calls of 1,000 input tokens in the minute 12:00 (burndown 1): 3,000 quota tokens
    assert quota_chart[B]["y"] == [3000]
    # A: one call a minute from 10:00 to 10:04 (the unattributed one and acme's four), each 1,000 tokens
    assert quota_chart[A]["y"] == [1000]
    at.radio(key="capacity_metric").set_value("RPM").run()
    rpm = _traces(_charts(at)["RPM per model and region (busiest minute of each hour)"])
    assert rpm[B]["y"] == [3] and f"Quota · {B}" not in rpm  # a TPM quota is no line on RPM
    # a point links to the traces of its peak minute, with the model and region
    assert quota_chart[B]["customdata"] == [
        f"/traces?from=2026-11-18T12%3A00%3A00Z&to=2026-11-18T12%3A01%3A00Z&model={MODEL_B}&region={REGION}"]
    peaks = at.dataframe[0].value
    first = peaks.iloc[0]
    assert (first["Model"], first["Minute (UTC)"], first["Quota TPM"], first["Quota"], first["Share of quota"]) == (
        MODEL_B, "2026-11-18 12:00", "3,000", "10.0k", "30.0%")
    shape = at.dataframe[1].value.set_index("Model")
    assert (shape.loc[MODEL_B, "Peak quota TPM"], shape.loc[MODEL_B, "Share of quota"]) == ("3,000", "30.0%")
    assert shape.loc[MODEL_B, "Input tokens/request (mean)"] == "1,000"


def test_calculator_is_prefilled_and_sizes_by_hand(capacity_server: RunningServer, dashboard_app: Any) -> None:
    at = dashboard_app(capacity_server.api_url, page="capacity", query=DAY_RANGE)
    _pick_pt_group(at, B)
    assert not at.exception and not at.error
    # prefilled: the range's peak and token sums, the model-unit facts of the settings
    assert at.number_input(key="pt_peak_quota_tpm").value == 3000
    assert at.number_input(key="pt_input_tokens").value == 3000  # B: 3 calls x 1,000 input, no cache write
    assert at.number_input(key="pt_input_tpm_per_unit").value == 1000
    assert at.number_input(key="pt_hourly_usd_1_month").value == 10.0
    # the peak's 3,000 quota tokens are all input: 3,000 / 1,000 per unit x 1.2 = 3.6 -> 4 units;
    # 4 x $10 x 730 h = $29,200 and 4 x $8 x 730 = $23,360; on demand $1.50 a day x 730 / 24 = $45.63;
    # the day's average minute uses 3,000 / 1,440 of 4 x 1,000: 0.052%; break-even
    # 29,200 x 0.00052083 / 45.625 = 33.3%
    assert _metrics(at) == {
        "Model units needed": "4", "PT a month, 1-month term": "$29,200.00", "PT a month, 6-month term": "$23,360.00",
        "On demand a month": "$45.62", "Break-even utilisation": "33.3%", "Average use of the units": "0.1%"}
    # twice the peak: 6,000 / 1,000 x 1.2 = 7.2 -> 8 units, $58,400 on one month
    at.number_input(key="pt_peak_quota_tpm").set_value(6000).run()
    assert (_metrics(at)["Model units needed"], _metrics(at)["PT a month, 1-month term"]) == ("8", "$58,400.00")
    # no headroom: 6.0 -> 6 units exactly; a negotiated $7 an hour: 6 x 7 x 730 = $30,660
    at.number_input(key="pt_headroom").set_value(0.0).run()
    at.number_input(key="pt_hourly_usd_1_month").set_value(7.0).run()
    assert (_metrics(at)["Model units needed"], _metrics(at)["PT a month, 1-month term"]) == ("6", "$30,660.00")
    at.button(key="pt_reset").click().run()
    assert at.number_input(key="pt_peak_quota_tpm").value == 3000 and _metrics(at)["Model units needed"] == "4"


def test_calculator_names_the_missing_unit_facts(capacity_server: RunningServer, dashboard_app: Any) -> None:
    at = dashboard_app(capacity_server.api_url, page="capacity", query=DAY_RANGE)
    _pick_pt_group(at, A)
    assert _metrics(at)["Model units needed"] == "—"
    assert [w.value for w in at.warning] == [
        f"Missing: input_tpm_per_unit and output_tpm_per_unit (or capacity.model_units for {MODEL_A})"]
    # typing the facts in sizes it: A's peak is 1,000 input tokens: 1,000 / 500 x 1.2 = 2.4 -> 3 units
    at.number_input(key="pt_input_tpm_per_unit").set_value(500).run()
    at.number_input(key="pt_output_tpm_per_unit").set_value(100).run()
    assert _metrics(at)["Model units needed"] == "3"


def test_model_filter_from_the_url(capacity_server: RunningServer, dashboard_app: Any) -> None:
    at = dashboard_app(capacity_server.api_url, page="capacity", query={**DAY_RANGE, "model": MODEL_A})
    assert not at.exception and not at.error
    quota_chart = _traces(_charts(at)["Quota TPM per model and region (busiest minute of each hour)"])
    assert set(quota_chart) == {A}
    assert list(at.dataframe[1].value["Model"]) == [MODEL_A]


def test_a_filter_the_capacity_rollups_do_not_keep_is_named(capacity_server: RunningServer,
                                                            dashboard_app: Any) -> None:
    at = dashboard_app(capacity_server.api_url, page="capacity", query={**DAY_RANGE, "route": "search"})
    assert any("the route filter does not apply" in w.value for w in at.warning)
    assert not at.error


def test_forecast_draws_its_band_and_the_quota(server_factory: Callable[..., RunningServer],
                                               dashboard_app: Any) -> None:
    server = server_factory(pricing=PRICING, capacity=CAPACITY)
    # ten days of B, each with two calls in its 12:00 minute: a constant daily peak of 2,000
    # quota tokens, which ETS forecasts flat with a zero-width interval
    days = [DAY - timedelta(days=d) for d in range(10)]
    write_data_set(server.store, [{"call_id": f"b-{d:%d}-{i}", "ts": d + timedelta(hours=12), "model": MODEL_B,
                                   "input_tokens": 1000, "output_tokens": 0} for d in days for i in range(2)])
    run_rollups(server)
    at = dashboard_app(server.api_url, page="capacity", query={"from": "2026-11-09T00:00:00Z",
                                                               "to": "2026-11-19T00:00:00Z"})
    assert not at.exception and not at.error
    forecast = _traces(_charts(at)[f"Daily peak Quota TPM of {B}"])
    assert forecast["Daily peak"]["y"] == [2000] * 10
    assert forecast["Forecast"]["y"] == [2000] * 14
    assert forecast["95% interval"]["y"] == [2000] * 14 and forecast["95% upper bound"]["y"] == [2000] * 14
    assert forecast["Quota"]["y"] == [10_000, 10_000]
    # the 14 days after the day of `at` (the range's end, 2026-11-19, a day not yet complete)
    assert forecast["Forecast"]["x"][0] == "2026-11-20" and forecast["Forecast"]["x"][-1] == "2026-12-03"


def test_too_little_history_says_so(capacity_server: RunningServer, dashboard_app: Any) -> None:
    at = dashboard_app(capacity_server.api_url, page="capacity", query=DAY_RANGE)
    assert f"No forecast for {B}: a forecast needs at least 7 days of daily peaks before 2026-11-19." in [
        i.value for i in at.info]


def test_empty_database_says_what_to_send(empty_server: RunningServer, dashboard_app: Any) -> None:
    at = dashboard_app(empty_server.api_url, page="capacity", query=DAY_RANGE)
    assert not at.exception and not at.error
    assert any("No LLM calls in this range" in i.value and "/v1/traces" in i.value for i in at.info)


def test_api_down_is_one_line(api_down_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_down_url, page="capacity", query=DAY_RANGE)
    assert not at.exception
    assert [e.value for e in at.error] == [f"cannot reach the server at {api_down_url}: [Errno 111] Connection refused"]


def test_api_error_shows_the_servers_message(api_error_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_error_url, page="capacity", query=DAY_RANGE)
    assert not at.exception
    assert [e.value for e in at.error] == [f"server answered 500: {ERROR_MESSAGE}"]
