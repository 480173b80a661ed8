"""The Settings page: prices with their source and validity, budgets, quotas, model-unit
facts, alert rules and attribution keys as the server runs with them; alert rules, budgets,
quotas and model units editable as TOML (the server validates, stores and applies them;
this page never writes a file)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from outcrop.dashboard import ui
from outcrop.dashboard.api_client import settings as client
from outcrop.dashboard.api_client.base import ApiError, current_api
from outcrop.dashboard.filters import read_filters

_FLASH = "settings_flash"


def render() -> None:
    st.title("Settings")
    filters = read_filters(show=False)
    try:
        api = current_api()
        with ui.loading("Loading the settings…"):
            shown = client.settings(api)
            prices = client.price_rows(client.prices(api, filters.where.get("model", [])))
    except ApiError as exc:
        ui.error_line(exc)
        return
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(flash)
    alerts, capacity, prices_tab, attribution = st.tabs(
        ["Alert rules and budgets", "Quotas and model units", "Prices", "Attribution keys"])
    with alerts:
        _alerts(shown)
        _editor(api, "alerts", shown["editable"]["alerts"])
    with capacity:
        _capacity(shown)
        _editor(api, "capacity", shown["editable"]["capacity"])
    with prices_tab:
        _prices(shown, prices)
    with attribution:
        _attribution(shown["attribution"])


def _table(title: str, rows: list[dict[str, Any]], empty: str) -> None:
    st.subheader(title)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption(empty)


def _alerts(shown: dict[str, Any]) -> None:
    alerts = shown["alerts"]
    _table("Alert rules", client.rule_rows(alerts["rules"]), "No alert rules.")
    _table("Budgets", client.budget_rows(alerts["budgets"]), "No budgets.")
    channels = [{"Name": name, "Type": c["type"], "Target": c["target"]} for name, c in alerts["channels"].items()]
    _table("Channels", channels, "No channels: rules and budgets notify nobody.")
    st.caption("Channels are set in the server's configuration file only: their URLs are credentials. "
               "Rules and budgets name them.")


def _capacity(shown: dict[str, Any]) -> None:
    capacity = shown["capacity"]
    _table("Quotas", client.quota_rows(capacity["quotas"]), "No quotas configured.")
    _table("Model units (Provisioned Throughput)", client.model_unit_rows(capacity["model_units"]),
           "No model-unit facts: Provisioned Throughput sizing says which are missing.")
    burndown = [{"Model prefix": b["model_prefix"], "Quota tokens per output token": b["rate"]}
                for b in capacity["output_burndown"]]
    _table("Output burndown", burndown, "Every model counts its output tokens once.")
    st.caption(f"Provisioned Throughput is sized for the peak plus {capacity['headroom']:.0%} headroom. "
               f"Service Quotas API: {'on' if capacity['service_quotas'] else 'off'}.")


def _prices(shown: dict[str, Any], prices: list[dict[str, str]]) -> None:
    pricing = shown["pricing"]
    seed = "seeded from genai-prices" if pricing["use_genai_prices"] else "no genai-prices seed"
    st.caption(f"Prices per million tokens ({seed}; overrides win). Geo profiles ×{pricing['geo_multiplier']:g}, "
               f"global profiles ×{pricing['global_multiplier']:g} where no own price exists. "
               "Prices are set in the server's configuration file (`[[pricing.overrides]]`).")
    _table("Prices", prices, "No prices yet: the price table is filled at the first rollup run.")
    commitments = [{"Model": p["model"], "Region": p["region"], "Model units": p["model_units"],
                    "$ per unit-hour": p["hourly_rate_per_unit"], "Valid from": p["valid_from"],
                    "Valid to": p["valid_to"] or "still valid"} for p in pricing["provisioned"]]
    _table("Provisioned Throughput commitments", commitments, "No Provisioned Throughput commitments.")


def _attribution(attribution: dict[str, Any]) -> None:
    _table("Attribution keys", client.attribution_rows(attribution), "No attribution keys.")
    identities = [{"IAM identity": k, "Tenant": v} for k, v in attribution["identity_tenants"].items()]
    _table("IAM identities → tenants", identities, "No IAM identity mapping.")
    st.caption("Attribution keys are set in the server's configuration file (`[attribution]`).")


def _editor(api: Any, section: str, editable: dict[str, Any]) -> None:
    """The section's editable keys as TOML: Save sends them, Revert goes back to the file's."""
    st.subheader(f"Edit {client.EDITABLE[section].lower()}")
    edit = editable["edited"]
    st.caption(client.edited_text(edit))
    if edit is not None and edit.get("error"):
        st.warning(f"The stored edit is not applied: {ui.one_line(edit['error'])}")
    key = f"settings_toml_{section}"
    text = st.text_area(f"[{section}] — keys {', '.join(editable['keys'])}", value=editable["toml"],
                        key=key, height=320)
    save, revert = st.columns(2)
    if save.button("Save", key=f"settings_save_{section}", type="primary"):
        _apply(key, f"Saved [{section}]; the server applies it from its next evaluation.",
               lambda: client.save(api, section, text, editable))
    if revert.button("Revert to the configuration file", key=f"settings_revert_{section}", disabled=edit is None):
        _apply(key, f"Reverted [{section}] to the server's configuration file.", lambda: client.revert(api, section))


def _apply(key: str, done: str, action: Any) -> None:
    try:
        with ui.loading("Saving…"):
            action()
    except ApiError as exc:
        ui.error_line(exc)
        return
    # reload: the text shows the section as the server now holds it
    st.session_state.pop(key, None)
    st.session_state[_FLASH] = done
    st.rerun()
