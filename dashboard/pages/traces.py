"""The Traces page (`/traces`): search the traces of the range, open one as a waterfall.

The search takes the shared filters (tenant, route, workflow, model, … in the sidebar)
and its own URL parameters (`status`, `min_duration_ms`, `min_cost_usd`, `request_id`);
`trace_id` opens that trace's waterfall. Selecting a row of the results opens its trace.
Thin: each part is one `api_client.traces` call; stages, costs and attempts are the server's.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from outcrop.dashboard import fmt, ui
from outcrop.dashboard.api_client import traces
from outcrop.dashboard.api_client.base import Api, ApiError, current_api
from outcrop.dashboard.filters import Filters, link, read_filters

# the colour of each stage a span shows (the [stages] settings may name more: they cycle below)
COLOURS: dict[str, str] = {
    "retrieval": "#2a9d8f", "rerank": "#8ab17d", "prompt": "#e9c46a", "inference": "#264653",
    "guardrail": "#9b5de5", "postprocess": "#f4a261", "retry": "#e63946", "fallback": "#fb8500",
    "other": "#adb5bd",
}
_MORE_COLOURS = ("#118ab2", "#ef476f", "#06d6a0", "#8d99ae")
_ANY = "any"
_SELECTED = "traces_selected_row"


def render() -> None:
    st.title("Traces")
    filters = read_filters()
    query = {key: st.query_params.get_all(key) for key in traces.SEARCH_PARAMS}
    wanted, problems = traces.Search.from_query(query)
    for problem in problems:
        st.warning(problem)
    trace_id = (st.query_params.get("trace_id") or "").strip()
    _search_form(wanted, trace_id)
    try:
        api = current_api()
    except ApiError as exc:
        ui.error_line(exc)
        return
    if trace_id:
        ui.section(lambda: _trace(api, filters, trace_id))
    ui.section(lambda: _results(api, filters, wanted, trace_id))


# -- search ------------------------------------------------------------------------------

def _search_form(wanted: traces.Search, trace_id: str) -> None:
    with st.form("trace_search", border=True):
        st.caption("Tenant, route, workflow, model, region and prompt version come from the filters in the "
                   "sidebar; the time range too.")
        status, duration, cost, trace, request = st.columns([1, 1, 1, 2, 2])
        options = [_ANY, *traces.STATUSES]
        status.selectbox("Status", options, index=options.index(wanted.status or _ANY), key="traces_status")
        duration.number_input("Min duration (ms)", min_value=0.0, value=wanted.min_duration_ms, step=100.0,
                              key="traces_min_duration_ms", placeholder="any")
        cost.number_input("Min cost (USD)", min_value=0.0, value=wanted.min_cost_usd, step=0.001, format="%.4f",
                          key="traces_min_cost_usd", placeholder="any")
        trace.text_input("Trace id", value=trace_id, key="traces_trace_id", placeholder="32 hex digits")
        request.text_input("Bedrock request id", value=wanted.request_id or "", key="traces_request_id")
        st.form_submit_button("Search", on_click=_submit)


def _submit() -> None:
    """Put the form's values in the URL (so the search is a link); empty ones leave it."""
    state = st.session_state
    values: dict[str, Any] = {
        "status": None if state["traces_status"] == _ANY else state["traces_status"],
        "min_duration_ms": state["traces_min_duration_ms"], "min_cost_usd": state["traces_min_cost_usd"],
        "request_id": str(state["traces_request_id"]).strip() or None,
        "trace_id": str(state["traces_trace_id"]).strip() or None,
    }
    for key, value in values.items():
        if value is None:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = f"{value:g}" if isinstance(value, float) else str(value)


def _results(api: Api, filters: Filters, wanted: traces.Search, trace_id: str) -> None:
    st.subheader("Traces, newest first")
    table = traces.search(api, filters, wanted)
    if table.num_rows == 0:
        if wanted.params() or filters.where:
            st.info("No trace of this range matches the search; widen the range or clear a filter.")
        else:
            ui.empty_state("No traces in this range.")
        return
    rows = table.to_pylist()
    shown = pa.table({
        "start_time": table.column("start_time"), "root_name": table.column("root_name"),
        "tenant": table.column("tenant"), "route": table.column("route"), "calls": table.column("calls"),
        "tokens": table.column("tokens"), "cost_usd": table.column("cost_usd"),
        "duration_ms": table.column("duration_ms"), "status": table.column("status"),
        "open": pa.array([link("traces", filters, trace_id=r["trace_id"]) for r in rows], pa.string()),
        "trace_id": table.column("trace_id"),
    })
    event = st.dataframe(shown, hide_index=True, key="traces_results", on_select="rerun",
                         selection_mode="single-row", column_config={
                             "start_time": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                             "root_name": "Root span", "tenant": "Tenant", "route": "Route",
                             "calls": st.column_config.NumberColumn("LLM calls", format="localized"),
                             "tokens": st.column_config.NumberColumn("Tokens", format="localized"),
                             "cost_usd": st.column_config.NumberColumn("Cost", format="$%.4f"),
                             "duration_ms": st.column_config.NumberColumn("Duration (ms)", format="%.0f"),
                             "status": "Status",
                             "open": st.column_config.LinkColumn("Waterfall", display_text="open"),
                             "trace_id": "Trace id"})
    unpriced = sum(r["unpriced_calls"] for r in rows)
    note = f" {fmt.count(unpriced)} of their calls have no price: their cost shows as unknown." if unpriced else ""
    more = " (the newest shown; narrow the search for older ones)" if len(rows) >= traces.SEARCH_ROWS else ""
    plural = "" if len(rows) == 1 else "s"
    st.caption(f"{fmt.count(len(rows))} trace{plural}{more}. Select a row to open its waterfall.{note}")
    _open_selected(event, rows, trace_id)


def _open_selected(event: Any, rows: list[dict[str, Any]], trace_id: str) -> None:
    """A newly selected row opens its trace (a selection left from before does not reopen it)."""
    selected = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    picked = rows[selected[0]]["trace_id"] if selected and selected[0] < len(rows) else None
    if picked is None or st.session_state.get(_SELECTED) == picked:
        return
    st.session_state[_SELECTED] = picked
    if picked != trace_id:
        st.query_params["trace_id"] = picked
        st.rerun()


# -- one trace ---------------------------------------------------------------------------

def _trace(api: Api, filters: Filters, trace_id: str) -> None:
    st.subheader(f"Trace {trace_id}")
    spans = traces.waterfall(api, trace_id)
    if spans.num_rows == 0:
        st.info(f"No span of trace {trace_id} has been received. Spans arrive as their service exports them; "
                "a trace known only from Bedrock invocation logs has no spans.")
        return
    rows = spans.to_pylist()
    _headline(traces.totals(api, trace_id), rows)
    event = st.plotly_chart(_waterfall_figure(rows), key="traces_waterfall", on_select="rerun",
                            selection_mode="points")
    st.markdown(f"[Link to this trace]({link('traces', filters, trace_id=trace_id)})")
    _span_panel(rows, _picked_span(event))


def _headline(total: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    start, end = min(r["start_time"] for r in rows), max(r["end_time"] for r in rows)
    duration, spans, calls, tokens, cost = st.columns(5)
    duration.metric("Duration", fmt.ms((end - start).total_seconds() * 1000))
    spans.metric("Spans", fmt.count(len(rows)))
    calls.metric("LLM calls", fmt.count(total.get("calls")),
                 help=f"{fmt.count(total.get('errors'))} failed, {fmt.count(total.get('throttles'))} throttled")
    kinds = [total.get(k) or 0 for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")]
    tokens.metric("Tokens", fmt.count(sum(kinds)) if total.get("calls") else fmt.NONE,
                  help="input {} · cache read {} · cache write {} · output {}".format(*map(fmt.count, kinds)))
    cost.metric("Cost", fmt.money(total.get("cost_usd")),
                help="Every LLM call of the trace, retries and fallbacks included; unknown when a call is unpriced.")


def _label(row: dict[str, Any]) -> str:
    """What an LLM span's bar says: model, tokens by kind, TTFT and cost."""
    if row.get("call_id") is None:
        return ""
    kinds = (("input_tokens", "in"), ("cache_read_tokens", "cache read"), ("cache_write_tokens", "cache write"),
             ("output_tokens", "out"))
    tokens = " / ".join(f"{fmt.count(row[k])} {name}" for k, name in kinds if row.get(k) is not None)
    parts = [str(row.get("model") or "unknown model"), tokens or "tokens unknown",
             f"TTFT {fmt.ms(row.get('ttft_ms'))}", fmt.money(row.get("cost_usd"))]
    if row.get("call_status") not in (None, "ok"):
        parts.append(f"{row['call_status']} (attempt {row.get('attempt')})")
    return " · ".join(parts)


def _waterfall_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """One horizontal bar per span, from its start to its end (ms after the trace's start),
    indented by depth and coloured by the stage the server gave it."""
    origin = min(r["start_time"] for r in rows)
    offsets = [(r["start_time"] - origin).total_seconds() * 1000 for r in rows]
    ticks = [f"{' ' * 3 * int(r['depth'])}{r['name']}" for r in rows]
    fig = go.Figure()
    extra = iter(_MORE_COLOURS * (1 + len(rows) // len(_MORE_COLOURS)))
    for stage in dict.fromkeys(r["stage"] for r in rows):
        picked = [i for i, r in enumerate(rows) if r["stage"] == stage]
        fig.add_bar(
            orientation="h", y=picked, base=[offsets[i] for i in picked],
            x=[max(float(rows[i]["duration_ms"]), 0.0) for i in picked], name=stage,
            marker_color=COLOURS.get(stage) or next(extra), text=[_label(rows[i]) for i in picked],
            textposition="auto", cliponaxis=False,
            customdata=[[i, rows[i]["name"], fmt.ms(rows[i]["duration_ms"]), _label(rows[i]) or stage]
                        for i in picked],
            hovertemplate="%{customdata[1]}<br>%{customdata[2]} from %{base:,.0f} ms<br>%{customdata[3]}"
                          "<extra></extra>")
    fig.update_layout(
        title="Spans of the trace (ms after its start), coloured by stage", barmode="overlay",
        xaxis_title="Time after the trace's start (ms)", legend_title="Stage",
        yaxis={"tickmode": "array", "tickvals": list(range(len(rows))), "ticktext": ticks, "autorange": "reversed",
               "title": None},
        height=max(240, 70 + 28 * len(rows)), margin={"l": 10})
    return fig


def _picked_span(event: Any) -> int | None:
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    data = points[0].get("customdata") if points else None
    return int(data[0]) if data else None


def _span_panel(rows: list[dict[str, Any]], picked: int | None) -> None:
    """The attributes and events of the span picked on the chart, or in the select box."""
    def name(i: int) -> str:
        return f"{rows[i]['name']} ({rows[i]['stage']}, {fmt.ms(rows[i]['duration_ms'])})"

    index = st.selectbox("Span", range(len(rows)), index=picked or 0, key=f"traces_span_{picked}",
                         format_func=name, help="Or select a bar of the waterfall.")
    row = rows[index]
    attributes, events = traces.span_details(row)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{row['name']}** · {row['kind']} · status {row['status_code']}"
                    + (f" ({row['status_message']})" if row.get("status_message") else "")
                    + f" · span `{row['span_id']}`")
        st.json(attributes, expanded=True)
    with right:
        st.markdown(f"**Events** ({len(events)})")
        if events:
            st.json(events, expanded=True)
        else:
            st.caption("This span has no events.")
