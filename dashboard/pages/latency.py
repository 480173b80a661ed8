"""The Latency page (`/latency`): TTFT, TTLT and OTPS percentiles over time by model, route
or tenant; where the time of a request goes (p50 and p95 per stage and route); latency
against output tokens; the slowest routes. Every chart point links to its traces.

Thin: each chart is one `api_client.latency` call; percentiles and stages are the server's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from outcrop.dashboard import fmt, ui
from outcrop.dashboard.api_client import latency
from outcrop.dashboard.api_client.base import ApiError, current_api
from outcrop.dashboard.filters import Filters, iso, link, read_filters
from outcrop.dashboard.pages.traces import COLOURS

# (column, title, unit) of each percentile chart
SERIES: tuple[tuple[str, str, str], ...] = (
    ("ttft_ms", "Time to first token", "ms"),
    ("ttlt_ms", "Time to last token", "ms"),
)


def render() -> None:
    st.title("Latency")
    filters = read_filters()
    rollups = latency.rollups_can_filter(filters)
    # the group picked last time (the selectbox below keeps it), so every read starts at once
    group = str(st.session_state.get("latency_group", next(iter(latency.GROUPS)))) if rollups else None
    try:
        api = current_api()
        reads = latency.Reads(api, filters, group)
        with ui.loading("Reading latency…"):
            routes = reads.get("routes") if rollups else None
    except ApiError as exc:
        ui.error_line(exc)
        return
    if routes is not None and routes.num_rows == 0:
        ui.empty_state("No LLM calls in this range, so no latency.")
        return
    if routes is None:
        st.info("Percentiles over time and the slowest routes come from the rollups, which keep no prompt "
                "version: clear the prompt version filter to see them.")
    else:
        st.selectbox("Percentiles over time by", list(latency.GROUPS), format_func=latency.GROUPS.__getitem__,
                     key="latency_group")
    if group is not None:
        ui.section(lambda: _over_time(reads, filters, group))
    ui.section(lambda: _stages(reads, filters))
    ui.section(lambda: _scatter(reads, filters))
    if routes is not None:
        _slowest(routes, filters)


def _points(event: Any) -> list[dict[str, Any]]:
    return list((event or {}).get("selection", {}).get("points", [])) if isinstance(event, dict) else []


# -- percentiles over time ---------------------------------------------------------------

def _over_time(reads: latency.Reads, filters: Filters, group: str) -> None:
    label = latency.GROUPS[group]
    st.subheader(f"Percentiles over time by {label.lower()}")
    table = reads.get("over_time")
    grain = latency.grain(filters)
    rows = table.to_pylist()
    values = sorted({str(r[group]) for r in rows})
    for column, title, unit in SERIES:
        fig = go.Figure()
        for value in values:
            mine = [r for r in rows if str(r[group]) == value]
            for pct, dash in (("p50", "solid"), ("p95", "dot")):
                fig.add_scatter(x=[r["bucket"] for r in mine], y=[r[f"{column}_{pct}"] for r in mine],
                                mode="lines+markers", line={"dash": dash}, name=f"{value} {pct}",
                                customdata=[[value] for _ in mine],
                                hovertemplate=f"{value} {pct}<br>%{{x}}<br>%{{y:,.0f}} {unit}<extra></extra>")
        fig.update_layout(title=f"{title} p50 and p95 ({unit}) per {_grain_word(grain)}", xaxis_title="Time (UTC)",
                          yaxis_title=f"{title} ({unit})", legend_title=label, height=340)
        _linked_chart(fig, f"latency_{column}", filters, group, grain)
    fig = go.Figure()
    for value in values:
        mine = [r for r in rows if str(r[group]) == value]
        fig.add_scatter(x=[r["bucket"] for r in mine], y=[r["otps_p50"] for r in mine], mode="lines+markers",
                        name=value, customdata=[[value] for _ in mine],
                        hovertemplate=f"{value}<br>%{{x}}<br>%{{y:,.1f}} tokens/s<extra></extra>")
    fig.update_layout(title=f"Output tokens per second, p50 per {_grain_word(grain)}", xaxis_title="Time (UTC)",
                      yaxis_title="Output tokens per second", legend_title=label, height=340)
    _linked_chart(fig, "latency_otps", filters, group, grain)
    st.caption("TTFT exists only for streamed calls. Percentiles come from the rollup histograms (within 2%).")


def _grain_word(grain: str) -> str:
    return {"1m": "minute", "1h": "hour"}.get(grain, "day")


def _linked_chart(fig: go.Figure, key: str, filters: Filters, group: str, grain: str) -> None:
    """The chart, and for a selected point a link to the traces of its bucket and group value."""
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points")
    points = _points(event)
    if not points:
        return
    start = datetime.fromisoformat(str(points[0]["x"]).replace("Z", "")[:19])
    value = str((points[0].get("customdata") or [""])[0])
    extra: dict[str, str | datetime] = {"from": start, "to": start + latency.bucket_length(grain), group: value}
    url = link("traces", filters, **extra)
    st.markdown(f"[Open the traces of {latency.GROUPS[group].lower()} {value} from {iso(start)}]({url})")


# -- where the time goes -------------------------------------------------------------------

def _stages(reads: latency.Reads, filters: Filters) -> None:
    st.subheader("Where the time goes")
    table = reads.get("stages")
    if table.num_rows == 0:
        st.caption("No traces with spans in this range: stage times need the services' spans, not only LLM calls.")
        return
    rows = table.to_pylist()
    routes = list(dict.fromkeys(r["route"] for r in rows))
    stages = list(dict.fromkeys(r["stage"] for r in sorted(rows, key=lambda r: r["stage_order"])))
    # one figure, the percentile picked: a second stacked chart cost the page ~0.3 s to draw
    pct = st.radio("Percentile", ["p95", "p50"], horizontal=True, key="latency_stages_pct")
    fig = go.Figure()
    for stage in stages:
        mine = {r["route"]: r for r in rows if r["stage"] == stage}
        fig.add_bar(x=routes, y=[(mine.get(route) or {}).get(f"{pct}_ms") for route in routes], name=stage,
                    marker_color=COLOURS.get(stage),
                    hovertemplate=f"{stage}<br>route %{{x}}<br>{pct} %{{y:,.0f}} ms<extra></extra>")
    fig.update_layout(barmode="stack", title=f"{pct} time per stage and route (ms per trace)",
                      xaxis_title="Route", yaxis_title=f"{pct} per stage (ms)", legend_title="Stage", height=380)
    event = st.plotly_chart(fig, key="latency_stages_chart", on_select="rerun", selection_mode="points")
    points = _points(event)
    if points:
        route = str(points[0]["x"])
        st.markdown(f"[Open the traces of route {route}]({link('traces', filters, route=route)})")
    st.caption("Each stage's time is the summed duration of its spans in a trace, stacked per route; `other` is "
               "the rest of the trace. Stages come from span names by the server's [stages] settings.")
    shown = pa.table({
        "route": table.column("route"), "stage": table.column("stage"), "traces": table.column("traces"),
        "p50_ms": table.column("p50_ms"), "p95_ms": table.column("p95_ms"),
        "trace_p95_ms": table.column("trace_p95_ms"),
        "open": pa.array([link("traces", filters, route=r["route"]) for r in rows], pa.string()),
    })
    st.dataframe(shown, hide_index=True, key="latency_stages_table", column_config={
        "route": "Route", "stage": "Stage", "traces": st.column_config.NumberColumn("Traces", format="localized"),
        "p50_ms": st.column_config.NumberColumn("p50", format="%.0f ms"),
        "p95_ms": st.column_config.NumberColumn("p95", format="%.0f ms"),
        "trace_p95_ms": st.column_config.NumberColumn("Whole trace p95", format="%.0f ms"),
        "open": st.column_config.LinkColumn("Traces", display_text="open traces")})


# -- latency against output tokens -----------------------------------------------------------

def _scatter(reads: latency.Reads, filters: Filters) -> None:
    st.subheader("Latency against output tokens")
    table = reads.get("scatter")
    if table.num_rows == 0:
        st.caption("No successful call with output tokens and a TTLT in this range.")
        return
    rows = table.to_pylist()
    fig = go.Figure()
    for model in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == model]
        fig.add_scatter(x=[r["output_tokens"] for r in mine], y=[r["ttlt_ms"] for r in mine], mode="markers",
                        name=model, marker={"size": 6, "opacity": 0.6},
                        customdata=[[r["trace_id"] or "", r["route"]] for r in mine],
                        hovertemplate=f"{model}<br>%{{x:,}} output tokens<br>%{{y:,.0f}} ms"
                                      "<br>route %{customdata[1]}<extra></extra>")
    fig.update_layout(title="Time to last token (ms) against output tokens, by model", xaxis_title="Output tokens",
                      yaxis_title="Time to last token (ms)", legend_title="Model", height=420)
    event = st.plotly_chart(fig, key="latency_scatter", on_select="rerun", selection_mode="points")
    shown = rows[0]["sampled_from"]
    st.caption(f"{fmt.count(len(rows))} of {fmt.count(shown)} successful calls (a stable sample). "
               "Select a point to open its trace.")
    points = _points(event)
    trace_id = str((points[0].get("customdata") or [""])[0]) if points else ""
    if trace_id:
        st.markdown(f"[Open trace {trace_id}]({link('traces', filters, trace_id=trace_id)})")
    elif points:
        st.caption("That call came from an invocation log only: it has no trace.")


# -- slowest routes ------------------------------------------------------------------------

def _slowest(routes: pa.Table, filters: Filters) -> None:
    st.subheader("Slowest routes")
    rows = routes.to_pylist()
    slowest = rows[0]
    st.caption(f"By TTLT p95: {slowest['route']} is the slowest at {fmt.ms(slowest.get('ttlt_ms_p95'))} "
               f"over {fmt.count(slowest.get('requests'))} calls.")
    columns = ["route", "requests", "ttft_ms_p50", "ttft_ms_p95", "ttlt_ms_p50", "ttlt_ms_p95", "ttlt_ms_p99",
               "otps_p50", "error_rate", "throttle_rate"]
    shown = routes.select([c for c in columns if c in routes.column_names])
    urls = [link("traces", filters, route=r["route"],
                 min_duration_ms=None if r.get("ttlt_ms_p95") is None else f"{r['ttlt_ms_p95']:.0f}") for r in rows]
    shown = shown.append_column("open", pa.array(urls, pa.string()))
    st.dataframe(shown, hide_index=True, key="latency_routes_table", column_config={
        "route": "Route", "requests": st.column_config.NumberColumn("Calls", format="localized"),
        "ttft_ms_p50": st.column_config.NumberColumn("TTFT p50", format="%.0f ms"),
        "ttft_ms_p95": st.column_config.NumberColumn("TTFT p95", format="%.0f ms"),
        "ttlt_ms_p50": st.column_config.NumberColumn("TTLT p50", format="%.0f ms"),
        "ttlt_ms_p95": st.column_config.NumberColumn("TTLT p95", format="%.0f ms"),
        "ttlt_ms_p99": st.column_config.NumberColumn("TTLT p99", format="%.0f ms"),
        "otps_p50": st.column_config.NumberColumn("OTPS p50", format="%.1f tokens/s"),
        "error_rate": st.column_config.NumberColumn("Errors", format="percent"),
        "throttle_rate": st.column_config.NumberColumn("Throttles", format="percent"),
        "open": st.column_config.LinkColumn("Slow traces", display_text="open traces ≥ p95")})
