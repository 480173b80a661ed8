"""The Cost page (`/cost`): spend over time by a chosen key, cost per request, the cost
drivers, the prompt-version comparison, budget burn-down and the unpriced models, with
CSV and Parquet downloads of every breakdown (chargeback).

Thin: each chart is one `api_client.cost` call; the numbers are the server's (docs/cost.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from outcrop.dashboard import fmt, ui
from outcrop.dashboard.api_client import cost
from outcrop.dashboard.api_client.base import Api, ApiError, current_api
from outcrop.dashboard.filters import Filters, iso, link, read_filters

MONEY = st.column_config.NumberColumn(format="$%.4f")
SHARE = st.column_config.NumberColumn(format="percent")
COUNT = st.column_config.NumberColumn(format="localized")
TRACES = st.column_config.LinkColumn("Traces", display_text="open traces")


def render() -> None:
    st.title("Cost")
    filters = read_filters()
    try:
        api = current_api()
        with ui.loading("Reading spend…"):
            total = cost.totals(api, filters)
    except ApiError as exc:
        ui.error_line(exc)
        return
    if not total or not total.get("requests"):
        ui.empty_state("No LLM calls in this range, so no spend.")
        return
    _headline(total)
    key = st.selectbox("Break spend down by", list(cost.BREAKDOWNS), format_func=cost.BREAKDOWNS.__getitem__,
                       key="cost_breakdown")
    ui.section(lambda: _spend(api, filters, key))
    ui.section(lambda: _drivers(api, filters, key))
    ui.section(lambda: _prompt_versions(api, filters))
    ui.section(lambda: _budgets(api, filters))
    ui.section(lambda: _unpriced(api, filters))


def _headline(total: dict[str, Any]) -> None:
    spend, requests_, per_request, per_1k, unpriced = st.columns(5)
    spend.metric("Spend", fmt.money(total.get("cost_usd")))
    requests_.metric("Requests", fmt.count(total.get("requests")))
    per_request.metric("Cost per request", fmt.money(total.get("cost_per_request_usd")))
    per_1k.metric("Cost per 1k requests", fmt.money(total.get("cost_per_1k_requests_usd")))
    unpriced.metric("Unpriced calls", fmt.count(total.get("unpriced_requests")),
                    help="Calls whose model has no price: their cost is unknown, never counted as $0.")


def _spend(api: Api, filters: Filters, key: str) -> None:
    label = cost.BREAKDOWNS[key]
    st.subheader(f"Spend over time by {label.lower()}")
    series = cost.spend_series(api, filters, key)
    grain = cost.grain(filters)
    fig = go.Figure()
    for value in sorted({str(v) for v in series.column(key).to_pylist()}):
        rows = [r for r in series.to_pylist() if str(r[key]) == value]
        fig.add_bar(x=[r["bucket"] for r in rows], y=[r["cost_usd"] for r in rows], name=value,
                    customdata=[[value] for _ in rows],
                    hovertemplate=f"{label} %{{customdata[0]}}<br>%{{x}}<br>$%{{y:,.4f}}<extra></extra>")
    fig.update_layout(barmode="stack", title=f"Spend per {'hour' if grain == '1h' else 'day'} (USD)",
                      xaxis_title="Time (UTC)", yaxis_title="Spend (USD)", legend_title=label,
                      yaxis_tickprefix="$", height=380)
    event = st.plotly_chart(fig, key="cost_spend_chart", on_select="rerun", selection_mode="points")
    _point_link(event, filters, key, grain)
    st.subheader(f"Cost per request by {label.lower()}")
    table = cost.breakdown(api, filters, key)
    shown = _with_links(table, filters, {key: key})
    st.dataframe(shown, hide_index=True, key="cost_breakdown_table", column_config={
        key: label, "requests": st.column_config.NumberColumn("Requests", format="localized"),
        "cost_usd": st.column_config.NumberColumn("Spend", format="$%.2f"),
        "cost_per_request_usd": st.column_config.NumberColumn("Cost per request", format="$%.4f"),
        "cost_per_1k_requests_usd": st.column_config.NumberColumn("Cost per 1k requests", format="$%.2f"),
        "unpriced_requests": st.column_config.NumberColumn("Unpriced calls", format="localized"),
        "input_tokens": st.column_config.NumberColumn("Input tokens", format="compact"),
        "output_tokens": st.column_config.NumberColumn("Output tokens", format="compact"),
        "cache_read_tokens": st.column_config.NumberColumn("Cache-read tokens", format="compact"),
        "cache_write_tokens": st.column_config.NumberColumn("Cache-write tokens", format="compact"),
        "traces": TRACES})
    _downloads(table, f"cost-by-{key}", filters)


def _point_link(event: Any, filters: Filters, key: str, grain: str) -> None:
    """A selected bar opens the traces of its bucket and group."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    if not points:
        st.caption("Select a bar to open the traces behind it.")
        return
    point = points[0]
    start = datetime.fromisoformat(str(point["x"]).replace("Z", "")[:19])
    value = str((point.get("customdata") or [""])[0])
    extra: dict[str, str | datetime] = {"from": start, "to": start + cost.bucket_length(grain), key: value}
    url = link("traces", filters, **extra)
    st.markdown(f"[Open the traces of {cost.BREAKDOWNS[key].lower()} {value} from {iso(start)}]({url})")


def _with_links(table: pa.Table, filters: Filters, keys: dict[str, str]) -> pa.Table:
    """The table with a `traces` column: each row's link to /traces with its key values as filters."""
    urls = []
    for row in table.select(list(keys.values())).to_pylist():
        values: dict[str, str | None] = {param: str(row[col]) for param, col in keys.items() if row[col] is not None}
        urls.append(link("traces", filters, **values))
    return table.append_column("traces", pa.array(urls, pa.string()))


def _drivers(api: Api, filters: Filters, key: str) -> None:
    label = cost.BREAKDOWNS[key]
    st.subheader(f"Cost drivers by {label.lower()}")
    st.caption("Long prompts and large outputs: calls above the group's p90. Unserved: failed or throttled "
               "attempts (retries and fallbacks). Cache saving: if every cache write had been a read. Expensive "
               "model: excess over the cheapest text model on groups whose median request is under 1,000 tokens.")
    table = cost.drivers(api, filters, key)
    rows = table.to_pylist()
    names = [str(r[key]) for r in rows]
    fig = go.Figure()
    for column, title in (("long_prompt_cost_usd", "Long prompts"), ("large_output_cost_usd", "Large outputs"),
                          ("unserved_cost_usd", "Retries and fallbacks"), ("cache_saving_usd", "Cache saving"),
                          ("expensive_model_excess_usd", "Expensive model")):
        fig.add_bar(x=names, y=[r[column] for r in rows], name=title,
                    hovertemplate=f"{title}<br>%{{x}}<br>$%{{y:,.4f}}<extra></extra>")
    fig.update_layout(barmode="group", title="Cost attributable to each driver (USD)", xaxis_title=label,
                      yaxis_title="USD", yaxis_tickprefix="$", height=360)
    st.plotly_chart(fig, key="cost_drivers_chart")
    st.dataframe(_with_links(table, filters, {key: key}), hide_index=True, key="cost_drivers_table",
                 column_config={
                     key: label, "requests": COUNT, "cost_usd": MONEY, "long_prompt_cost_usd": MONEY,
                     "long_prompt_share": SHARE, "large_output_cost_usd": MONEY, "large_output_share": SHARE,
                     "unserved_cost_usd": MONEY, "unserved_share": SHARE, "cacheable_share": SHARE,
                     "cache_read_share": SHARE, "cache_saving_usd": MONEY,
                     "cheapest_usd_per_1k_tokens": MONEY, "expensive_model_excess_usd": MONEY, "traces": TRACES})
    _downloads(table, f"cost-drivers-by-{key}", filters)


def _prompt_versions(api: Api, filters: Filters) -> None:
    st.subheader("Prompt versions side by side")
    table = cost.prompt_versions(api, filters)
    if table.num_rows == 0:
        st.caption("No calls in this range.")
        return
    st.dataframe(_with_links(table, filters, {"workflow": "workflow", "prompt_version": "prompt_version"}),
                 hide_index=True, key="cost_prompt_versions_table", column_config={
                     "workflow": "Workflow", "prompt_version": "Prompt version", "requests": COUNT,
                     "cost_usd": MONEY, "cost_per_request_usd": MONEY, "cost_per_1k_requests_usd": MONEY,
                     "cost_per_trace_usd": MONEY,
                     "input_tokens_per_request": st.column_config.NumberColumn("Input tokens / request",
                                                                               format="%.0f"),
                     "output_tokens_per_request": st.column_config.NumberColumn("Output tokens / request",
                                                                                format="%.0f"),
                     "ttft_ms_p95": st.column_config.NumberColumn("TTFT p95 (ms)", format="%.0f"),
                     "ttlt_ms_p95": st.column_config.NumberColumn("TTLT p95 (ms)", format="%.0f"),
                     "error_rate": SHARE, "throttle_rate": SHARE, "traces": TRACES})
    _downloads(table, "prompt-versions", filters)


def _budgets(api: Api, filters: Filters) -> None:
    st.subheader("Budget burn-down")
    budgets = cost.burndown(api, filters)
    if not budgets:
        st.caption("No budgets configured: add `[[alerts.budgets]]` to the settings.")
        return
    st.caption(f"Each budget's period as of {iso(filters.end)} (the end of the range).")
    for i, budget in enumerate(budgets):
        st.plotly_chart(_burndown_figure(budget), key=f"cost_budget_{i}")
        breach = f", runs out on {budget['breach_date']}" if budget.get("breach_date") else ""
        st.caption(f"{budget['name']} ({budget['scope']}, {budget['period']}): spent {fmt.money(budget['spent_usd'])} "
                   f"of {fmt.money(budget['limit_usd'])} ({fmt.percent(budget['share'])}); forecast "
                   f"{fmt.money(budget.get('forecast_usd'))} by the period end{breach}.")


def _burndown_figure(budget: dict[str, Any]) -> go.Figure:
    days = budget.get("days") or []
    line = budget.get("forecast") or []
    fig = go.Figure()
    fig.add_scatter(x=[budget["start"], *(d["ts"] for d in days)], y=[0.0, *(d["cumulative_usd"] for d in days)],
                    mode="lines+markers", name="Spent (cumulative)")
    if line:
        label = "Forecast (weekday pattern)" if budget.get("method") == "weekday" else "Forecast (linear)"
        fig.add_scatter(x=[p["ts"] for p in line], y=[p["cumulative_usd"] for p in line], mode="lines",
                        line={"dash": "dash"}, name=label)
    fig.add_scatter(x=[budget["start"], budget["end"]], y=[budget["limit_usd"]] * 2, mode="lines",
                    line={"color": "firebrick"}, name=f"Limit {fmt.money(budget['limit_usd'])}")
    fig.update_layout(title=f"{budget['name']}: {budget['period']}", xaxis_title="Time (UTC)",
                      yaxis_title="Cumulative spend (USD)", yaxis_tickprefix="$", height=340)
    return fig


def _unpriced(api: Api, filters: Filters) -> None:
    st.subheader("Unpriced calls")
    table = cost.unpriced(api, filters)
    if table.num_rows == 0:
        st.caption("Every call in this range found a price.")
        return
    st.warning(f"{fmt.count(sum(table.column('calls').to_pylist()))} calls have no price, so their cost is "
               "unknown (not $0). Add a price for each model:")
    st.dataframe(table, hide_index=True, key="cost_unpriced_table", column_config={
        "model": "Model id", "scope": "Scope", "calls": COUNT, "tenants": COUNT,
        "first_seen": "First seen (UTC)", "last_seen": "Last seen (UTC)"})
    models = sorted({str(m) for m in table.column("model").to_pylist()})
    st.code(cost.override_hint(models), language="toml")
    _downloads(table, "unpriced-models", filters)


def _downloads(table: pa.Table, name: str, filters: Filters) -> None:
    """CSV and Parquet of the table as the server answered it (no link column)."""
    stem = f"{name}_{iso(filters.start)}_{iso(filters.end)}".replace(":", "")
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("Download CSV", cost.csv_bytes(table), f"{stem}.csv", "text/csv", key=f"{name}_csv")
    right.download_button("Download Parquet", cost.parquet_bytes(table), f"{stem}.parquet",
                          "application/vnd.apache.parquet", key=f"{name}_parquet")
