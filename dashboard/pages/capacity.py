"""The Capacity page: RPM, TPM and quota TPM per model and region against their quotas,
the peak minutes, the application shape, the daily-peak forecast and the Provisioned
Throughput calculator. Every number comes from the read API (api_client.capacity)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st
from plotly.colors import qualitative

from outcrop.dashboard import fmt
from outcrop.dashboard.api_client import capacity as api
from outcrop.dashboard.api_client.base import Api, ApiError, current_api
from outcrop.dashboard.filters import Filters, read_filters
from outcrop.dashboard.ui import empty_state, error_line, loading

Group = api.Group
GRAIN_TEXT = {"1m": "per minute", "1h": "busiest minute of each hour", "1d": "busiest minute of each day"}
# (column, title, unit, whether the quota line belongs on it)
METRICS = (("quota_tpm", "Quota TPM", "quota tokens per minute", True),
           ("tpm", "TPM", "tokens per minute", True),
           ("rpm", "RPM", "requests per minute", False))
PALETTE = qualitative.Plotly + qualitative.D3 + qualitative.Dark24
FORECAST_METRICS = {"Quota TPM": ("peak_quota_tpm", "quota tokens per minute", True),
                    "TPM": ("peak_tpm", "tokens per minute", True),
                    "RPM": ("peak_rpm", "requests per minute", False)}


def render() -> None:
    st.title("Capacity")
    filters = read_filters()
    client = current_api()
    ignored = api.ignored_filters(filters)
    if ignored:
        st.warning(f"Capacity is kept per tenant, model and region only: the {', '.join(ignored)} filter "
                   "does not apply on this page.")
    try:
        with loading("Reading capacity…"):
            rows = api.report(client, filters)
            table = api.series(client, filters)
    except ApiError as exc:
        error_line(exc)
        return
    if not rows:
        empty_state("No LLM calls in this range, so no capacity to show.")
        return
    quotas = api.quotas(rows)
    groups = [Group(r["model"], r["region"]) for r in rows]
    _series_charts(table, quotas, filters, _colors(groups))
    _peak_minutes(table, quotas, filters)
    _shape(rows)
    _section("Forecast of the daily peak", lambda: _forecast(client, filters, groups, quotas))
    _section("Provisioned Throughput calculator",
             lambda: _calculator(client, filters, groups, api.sized_first(rows)))


def _section(title: str, draw: Callable[[], None]) -> None:
    """A titled part of the page whose API failure shows as its own error line."""
    st.subheader(title)
    try:
        draw()
    except ApiError as exc:
        error_line(exc)


# -- RPM, TPM and quota TPM over time ---------------------------------------------------

def _colors(groups: list[Group]) -> dict[Group, str]:
    """One colour per model and region, the same on every chart and for its quota line."""
    ordered = sorted(set(groups), key=lambda g: g.label)
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(ordered)}


def _series_charts(table: pa.Table, quotas: dict[Group, int], filters: Filters, colors: dict[Group, str]) -> None:
    grain = api.grain_for(filters)
    st.subheader("Requests and tokens per minute")
    st.caption(f"Each point is the {GRAIN_TEXT[grain]}. Quota TPM counts what Bedrock holds against the quota "
               "(input + cache write + output × the model's burndown rate); TPM counts every token. "
               "Dashed lines are the TPM quotas. Select a point to open its traces.")
    # one chart at a time (not tabs): the browser draws only the figure shown
    title = st.radio("Measure", [m[1] for m in METRICS], horizontal=True, key="capacity_metric")
    column, _, unit, with_quota = next(m for m in METRICS if m[1] == title)
    fig = _series_figure(table.to_pylist(), column, f"{title} per model and region ({GRAIN_TEXT[grain]})", unit,
                         quotas if with_quota else {}, filters, colors)
    _linked_chart(fig, "capacity_series")


def _series_figure(rows: list[dict[str, Any]], column: str, title: str, unit: str, quotas: dict[Group, int],
                   filters: Filters, colors: dict[Group, str]) -> go.Figure:
    fig = go.Figure()
    for group in sorted({Group(r["model"], r["region"]) for r in rows}, key=lambda g: g.label):
        mine = [r for r in rows if Group(r["model"], r["region"]) == group]
        fig.add_trace(go.Scatter(
            # markers, small: a selected point is what opens its traces
            x=[r["bucket"] for r in mine], y=[r[column] for r in mine], name=group.label, mode="lines+markers",
            line={"color": colors.get(group)}, marker={"size": 4},
            customdata=[api.minute_link(filters, r["quota_peak_at"] or r["bucket"], group) for r in mine],
            hovertemplate=f"%{{x|%Y-%m-%d %H:%M}} UTC<br>%{{y:,.0f}} {unit}<extra>{group.label}</extra>"))
    for group, quota in sorted(quotas.items(), key=lambda item: item[0].label):
        fig.add_trace(_quota_line(group, quota, [filters.start, filters.end], colors.get(group)))
    fig.update_layout(title=title, xaxis_title="Time (UTC)", yaxis_title=unit, legend_title="Model · region",
                      hovermode="closest")
    return fig


def _quota_line(group: Group, quota: int, x: list[Any], color: str | None) -> go.Scatter:
    return go.Scatter(x=x, y=[quota, quota], mode="lines", name=f"Quota · {group.label}",
                      line={"dash": "dash", "color": color, "width": 2},
                      hovertemplate=f"quota {quota:,} TPM<extra>{group.label}</extra>")


def _linked_chart(fig: go.Figure, key: str) -> None:
    """The chart; a selected point (customdata: its /traces link) shows its link beneath."""
    event: Any = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points")
    points = ((event or {}).get("selection") or {}).get("points") or []
    links = [p["customdata"] for p in points if isinstance(p.get("customdata"), str)]
    if links:
        st.markdown(f"[Open the traces of the selected minute →]({links[0]})")


# -- peak minutes and application shape -------------------------------------------------

def _peak_minutes(table: pa.Table, quotas: dict[Group, int], filters: Filters) -> None:
    st.subheader("Peak minutes")
    st.caption("The busiest points of the charts by quota TPM; the link opens the traces of that minute.")
    rows = api.peak_minutes(table, filters)
    st.dataframe([{
        "Minute (UTC)": f"{r['quota_peak_at'] or r['bucket']:%Y-%m-%d %H:%M}",
        "Model": r["model"], "Region": r["region"],
        "Quota TPM": fmt.count(r["quota_tpm"]),
        "Quota": fmt.count(quotas.get(Group(r["model"], r["region"]))),
        "Share of quota": fmt.percent(_share(r["quota_tpm"], quotas.get(Group(r["model"], r["region"])))),
        "TPM": fmt.count(r["tpm"]), "RPM": fmt.count(r["rpm"]), "Traces": r["traces"],
    } for r in rows], column_config={"Traces": st.column_config.LinkColumn("Traces", display_text="open")},
        hide_index=True, key="capacity_peaks")


def _share(value: float | None, quota: int | None) -> float | None:
    return value / quota if value is not None and quota else None


def _shape(rows: list[dict[str, Any]]) -> None:
    st.subheader("Peaks, quotas and application shape")
    st.caption("Per model and region over the range. Input tokens per request count input + cache read + "
               "cache write; the quota share is the busiest minute's quota TPM over the quota.")
    st.dataframe([{
        "Model": r["model"], "Region": r["region"], "Requests": fmt.count(r["requests"]),
        "Avg RPM": fmt.count(r["avg_rpm"]), "Peak RPM": fmt.count(r["peak_rpm"]),
        "Peak TPM": fmt.count(r["peak_tpm"]), "Peak quota TPM": fmt.count(r["peak_quota_tpm"]),
        "Quota TPM": fmt.count(r["quota_tpm"]), "Share of quota": fmt.percent(r["quota_share"]),
        "Throttle rate": fmt.percent(r["throttle_rate"]),
        "Input tokens/request (mean)": fmt.count(r["input_tokens_per_request_mean"]),
        "Input tokens/request (p95)": fmt.count(r["input_tokens_per_request_p95"]),
        "Output tokens/request (mean)": fmt.count(r["output_tokens_per_request_mean"]),
        "Output tokens/request (p95)": fmt.count(r["output_tokens_per_request_p95"]),
        "Quota source": r["quota_source"] or "—", "Missing": r["missing"] or "",
    } for r in rows], hide_index=True, key="capacity_shape")


# -- forecast ---------------------------------------------------------------------------

def _forecast(client: Api, filters: Filters, groups: list[Group], quotas: dict[Group, int]) -> None:
    left, right = st.columns([3, 1])
    first = next((i for i, g in enumerate(groups) if g in quotas), 0)  # one with a quota line, if any
    group = left.selectbox("Model and region", groups, index=first, format_func=lambda g: g.label,
                           key="capacity_forecast_group")
    name = right.radio("Peak", list(FORECAST_METRICS), horizontal=True, key="capacity_forecast_metric")
    column, unit, with_quota = FORECAST_METRICS[name]
    with loading("Forecasting…"):
        ahead = [r for r in api.forecast(client, filters).to_pylist() if Group(r["model"], r["region"]) == group]
        past = [r for r in api.daily_peaks(client, filters).to_pylist() if Group(r["model"], r["region"]) == group]
    if not ahead:
        st.info(f"No forecast for {group.label}: a forecast needs at least 7 days of daily peaks before "
                f"{filters.end:%Y-%m-%d}.")
        return
    quota = quotas.get(group) if with_quota else None
    st.plotly_chart(_forecast_figure(past, ahead, column, f"Daily peak {name} of {group.label}", unit, quota),
                    key="capacity_forecast")
    last = ahead[-1]
    st.caption(f"{api.FORECAST_HORIZON_DAYS}-day forecast with its 95% interval; on {last['date']:%Y-%m-%d}: "
               f"{fmt.count(last[column])} (up to {fmt.count(last[column + '_hi'])}) {unit}"
               + (f", against a quota of {fmt.count(quota)} TPM." if quota else "."))


def _forecast_figure(past: list[dict[str, Any]], ahead: list[dict[str, Any]], column: str, title: str, unit: str,
                     quota: int | None) -> go.Figure:
    days = [r["date"] for r in ahead]
    fig = go.Figure([
        go.Scatter(x=[r["day"] for r in past], y=[r[column] for r in past], name="Daily peak", mode="lines+markers"),
        go.Scatter(x=days, y=[r[column + "_hi"] for r in ahead], name="95% upper bound", mode="lines",
                   line={"width": 0}, showlegend=False),
        go.Scatter(x=days, y=[r[column + "_lo"] for r in ahead], name="95% interval", mode="lines",
                   line={"width": 0}, fill="tonexty", fillcolor="rgba(99, 110, 250, 0.2)"),
        go.Scatter(x=days, y=[r[column] for r in ahead], name="Forecast", mode="lines", line={"dash": "dot"}),
    ])
    if quota:
        start = past[0]["day"] if past else days[0]
        fig.add_trace(go.Scatter(x=[start, days[-1]], y=[quota, quota], name="Quota", mode="lines",
                                 line={"dash": "dash", "color": "crimson"}))
    fig.update_layout(title=title, xaxis_title="Day (UTC)", yaxis_title=unit)
    return fig


# -- Provisioned Throughput calculator --------------------------------------------------

# name -> (label, whole number, least value, step, help)
PT_FIELDS: dict[str, tuple[str, bool, float, float, str]] = {
    "peak_quota_tpm": ("Peak quota TPM", True, 1, 1000, "the busiest minute's quota tokens"),
    "input_tokens": ("Input-side tokens in the range", True, 0, 1000,
                     "input + cache write over the range: with the output tokens they split the peak "
                     "and give the average use of the units"),
    "output_tokens": ("Output tokens in the range", True, 0, 1000, "output tokens over the range"),
    "input_tpm_per_unit": ("Input TPM per model unit", True, 1, 100, "capacity.model_units input_tpm_per_unit"),
    "output_tpm_per_unit": ("Output TPM per model unit", True, 1, 100, "capacity.model_units output_tpm_per_unit"),
    "hourly_usd_1_month": ("$ per unit-hour, 1-month term", False, 0.01, 1.0, "hourly price of one unit"),
    "hourly_usd_6_month": ("$ per unit-hour, 6-month term", False, 0.01, 1.0, "hourly price of one unit"),
    "headroom": ("Headroom above the peak (share)", False, 0.0, 0.05, "0.2 sizes for the peak plus 20%"),
    "on_demand_monthly_usd": ("On-demand cost a month ($)", False, 0.0, 10.0,
                              "what this traffic costs a month on demand"),
}


def _calculator(client: Api, filters: Filters, groups: list[Group], first: int) -> None:
    group = st.selectbox("Model and region", groups, index=first, format_func=lambda g: g.label, key="pt_group")
    with loading("Sizing…"):
        defaults = api.provisioned(client, filters, group)
    # the prefill follows the group and the URL's range (not its resolved times, which move every minute)
    signature = (group, tuple(st.query_params.get_all("from")), tuple(st.query_params.get_all("to")))
    reset = st.button("Reset to the range's values", key="pt_reset")
    if reset or st.session_state.get("pt_signature") != signature:
        st.session_state["pt_signature"] = signature
        for name in PT_FIELDS:
            st.session_state[f"pt_{name}"] = defaults["inputs"].get(name)
    st.caption("Prefilled from the range's traffic and capacity.model_units; change any value to recompute.")
    values = _pt_inputs()
    changed = {k: v for k, v in values.items() if v != defaults["inputs"].get(k)}
    answer = api.provisioned(client, filters, group, values) if changed else defaults
    _pt_results(answer)


def _pt_inputs() -> dict[str, Any]:
    values: dict[str, Any] = {}
    columns = st.columns(3)
    for i, (name, (label, whole, least, step, help_text)) in enumerate(PT_FIELDS.items()):
        with columns[i % 3]:
            if whole:
                values[name] = st.number_input(label, min_value=int(least), step=int(step), value=None,
                                               key=f"pt_{name}", help=help_text)
            else:
                values[name] = st.number_input(label, min_value=float(least), step=float(step), value=None,
                                               format="%.4f", key=f"pt_{name}", help=help_text)
    return values


def _pt_results(answer: dict[str, Any]) -> None:
    cells = st.columns(3)
    cells[0].metric("Model units needed", fmt.count(answer["model_units_needed"]))
    cells[1].metric("PT a month, 1-month term", fmt.money(answer["pt_monthly_usd_1_month"]))
    cells[2].metric("PT a month, 6-month term", fmt.money(answer["pt_monthly_usd_6_month"]))
    cells = st.columns(3)
    cells[0].metric("On demand a month", fmt.money(answer["on_demand_monthly_usd"]))
    cells[1].metric("Break-even utilisation", fmt.percent(answer["breakeven_utilisation"]))
    cells[2].metric("Average use of the units", fmt.percent(answer["utilisation"]))
    st.caption("The 1-month commitment costs no more than on demand when the average use of the units is at "
               "or above the break-even; above 100% it cannot pay at any use. Peak split: "
               f"{fmt.count(answer['peak_input_tpm'])} input-side and {fmt.count(answer['peak_output_tpm'])} "
               "output tokens per minute.")
    for item in answer["missing"]:
        st.warning(f"Missing: {item}")

