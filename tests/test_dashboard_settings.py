"""The Settings page under AppTest against a real server: the settings in force (prices with
source and validity, rules, budgets, channels redacted, quotas, model units, attribution
keys), an edit saved and reloaded, a refused edit as one line, revert, API down or failing,
an empty database."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import requests
from dashboard_data import ERROR_MESSAGE, MODEL_A, MODEL_B, PRICING, run_rollups
from streamlit.testing.v1 import AppTest

pytest_plugins = ["dashboard_fixtures"]

HOOK = "https://hooks.slack.com/services/T000/B000/s3cret-path"
ALERTS = {
    "channels": {"ops": {"type": "slack", "url": HOOK}},
    "rules": [{"name": "throttles", "kind": "throttle_rate", "by": ["model"], "threshold": 0.02,
               "channels": ["ops"]}],
    "budgets": [{"name": "acme-month", "scope": {"tenant": "acme"}, "period": "month", "limit_usd": 100.0}],
}
CAPACITY = {
    "quotas": [{"model": MODEL_A, "region": "us-east-1", "tpm": 400000}],
    "model_units": [{"model": MODEL_A, "input_tpm_per_unit": 2000, "output_tpm_per_unit": 400,
                     "hourly_usd_1_month": 21.18}],
}
NEW_RULES = """[alerts]
budgets = []

[[alerts.rules]]
name = "errors"
kind = "error_rate"
threshold = 0.05
"""


@pytest.fixture
def configured(server_factory: Any) -> Any:
    server = server_factory(pricing=PRICING, alerts=ALERTS, capacity=CAPACITY)
    run_rollups(server)  # fills the price table from the settings
    return server


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has `column`."""
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def everything(at: AppTest) -> str:
    """All text the page drew: markdown, captions, tables, text areas."""
    parts = [e.value for e in [*at.markdown, *at.caption, *at.text_area]]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_shows_the_settings_the_server_runs_with(configured: Any, dashboard_app: Any) -> None:
    at = dashboard_app(configured.api_url, page="settings")
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    prices = frame(at, "Region scope").set_index("Model")
    assert sorted(prices.index) == [MODEL_A, MODEL_B]
    assert prices.loc[MODEL_A, ["Region scope", "Source", "Valid from", "Valid to", "Input $/M", "Output $/M",
                                "Cache read $/M"]].tolist() == [
        "any", "override", "1970-01-01", "still valid", "$1,000.00", "$0.00", "—"]
    assert prices.loc[MODEL_B, "Input $/M"] == "$500.00"
    rules = frame(at, "Kind")
    assert rules[["Name", "Kind", "By", "Threshold", "Channels"]].values.tolist() == [
        ["throttles", "throttle_rate", "model", 0.02, "ops"]]
    budgets = frame(at, "Period")
    assert budgets[["Name", "Scope", "Limit", "Thresholds"]].values.tolist() == [
        ["acme-month", "tenant=acme", "$100.00", "50.0%, 80.0%, 100.0%"]]
    assert frame(at, "Target")[["Name", "Type", "Target"]].values.tolist() == [
        ["ops", "slack", "https://hooks.slack.com/…"]]
    assert frame(at, "TPM")[["Model", "Region", "TPM", "RPM"]].values.tolist() == [
        [MODEL_A, "us-east-1", "400.0k", "—"]]
    assert frame(at, "Input TPM per unit")[["Input TPM per unit", "1 month $/h", "6 months $/h"]].values.tolist() \
        == [["2,000", "$21.18", "—"]]
    attribution = frame(at, "Span and resource attribute keys").set_index("Field")
    assert attribution.loc["tenant", "Span and resource attribute keys"].startswith("tenant.id, tenant_id, tenant")
    assert attribution.loc["tenant", "Bedrock requestMetadata keys"] == "tenant, tenant_id"
    assert 'name = "throttles"' in at.text_area(key="settings_toml_alerts").value
    assert "s3cret-path" not in everything(at)
    assert at.button(key="settings_revert_alerts").disabled  # nothing edited yet


def test_a_valid_edit_is_saved_reloaded_and_reverted(configured: Any, dashboard_app: Any) -> None:
    at = dashboard_app(configured.api_url, page="settings")
    at.text_area(key="settings_toml_alerts").input(NEW_RULES)
    at.button(key="settings_save_alerts").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Saved [alerts]; the server applies it from its next evaluation."]
    assert frame(at, "Kind")[["Name", "Kind", "Threshold", "Min requests"]].values.tolist() == [
        ["errors", "error_rate", 0.05, 100]]
    assert "No budgets." in [c.value for c in at.caption]  # the text's empty budgets, not the file's
    reloaded = at.text_area(key="settings_toml_alerts").value
    assert "min_requests = 100" in reloaded and "throttles" not in reloaded  # the server's form of the edit
    assert any(c.value.startswith("Edited through the API on ") and c.value.endswith("by loopback 127.0.0.1.")
               for c in at.caption)
    shown = requests.get(configured.api_url + "/v1/settings", timeout=30).json()
    assert [r["name"] for r in shown["alerts"]["rules"]] == ["errors"] and shown["alerts"]["budgets"] == []

    at.button(key="settings_revert_alerts").click()
    at.run()
    assert [s.value for s in at.success] == ["Reverted [alerts] to the server's configuration file."]
    assert frame(at, "Kind")["Name"].tolist() == ["throttles"]
    assert [r["name"] for r in requests.get(configured.api_url + "/v1/settings", timeout=30)
            .json()["alerts"]["rules"]] == ["throttles"]


@pytest.mark.parametrize("text,needle", [
    (NEW_RULES.replace("error_rate", "bogus"), "configuration key 'alerts.rules.0.kind'"),
    (NEW_RULES.replace("threshold = 0.05", "threshold = 0.05\nchannels = [\"pager\"]"),
     "alert rule 'errors' names unknown channel(s) pager"),
    ("[alerts\nrules = []", "the [alerts] text is not TOML"),
    ("[capacity]\nheadroom = 1.0\n", "put only the [alerts] table here; the text also has capacity"),
])  # fmt: skip
def test_a_refused_edit_shows_one_line_and_changes_nothing(configured: Any, dashboard_app: Any, text: str,
                                                           needle: str) -> None:
    at = dashboard_app(configured.api_url, page="settings")
    at.text_area(key="settings_toml_alerts").input(text)
    at.button(key="settings_save_alerts").click()
    at.run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert needle in error and "\n" not in error and "Traceback" not in error
    assert at.text_area(key="settings_toml_alerts").value == text  # kept, to be corrected
    assert frame(at, "Kind")["Name"].tolist() == ["throttles"]
    shown = requests.get(configured.api_url + "/v1/settings", timeout=30).json()
    assert shown["editable"]["alerts"]["edited"] is None


def test_capacity_is_edited_in_its_own_section(configured: Any, dashboard_app: Any) -> None:
    at = dashboard_app(configured.api_url, page="settings")
    text = at.text_area(key="settings_toml_capacity").value.replace("tpm = 400000", "tpm = 250000")
    at.text_area(key="settings_toml_capacity").input(text)
    at.button(key="settings_save_capacity").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert frame(at, "TPM")["TPM"].tolist() == ["250.0k"]
    config = requests.get(configured.api_url + "/v1/alerts/config", timeout=30).json()
    assert config["capacity"]["quotas"][0]["tpm"] == 250000


def test_an_api_that_is_down_is_one_line(api_down_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_down_url, page="settings")
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith(f"cannot reach the server at {api_down_url}") and "\n" not in error


def test_an_api_error_is_the_servers_message(api_error_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_error_url, page="settings")
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error == f"server answered 500: {ERROR_MESSAGE}"


def test_an_empty_database_says_the_price_table_fills_at_the_first_rollup(empty_server: Any,
                                                                         dashboard_app: Any) -> None:
    at = dashboard_app(empty_server.api_url, page="settings")
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert "No prices yet: the price table is filled at the first rollup run." in captions
    assert "No alert rules." in captions and "No quotas configured." in captions
    assert at.text_area(key="settings_toml_alerts").value == "[alerts]\nrules = []\nbudgets = []\n"
