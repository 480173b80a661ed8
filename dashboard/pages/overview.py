"""Overview: the range's headline numbers against the previous period, requests over
time, top movers and firing alerts; every bar and row opens the matching traces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from outcrop.dashboard import fmt, ui
from outcrop.dashboard.api_client import overview
from outcrop.dashboard.api_client.base import Api, ApiError, current_api
from outcrop.dashboard.filters import Filters, read_filters

_FORMAT: dict[str, Callable[[float | None], str]] = {
    "count": fmt.count, "money": fmt.money, "ms": fmt.ms, "share": fmt.percent}
_COLUMNS = 4


def render() -> None:
    st.title("Overview")
    filters = read_filters()
    try:
        api = current_api()
        with ui.loading("Reading the headline numbers…"):
            head = overview.headline(api, filters)
    except ApiError as exc:
        ui.error_line(exc)
        return
    st.caption(f"{fmt.when(filters.start)} – {fmt.when(filters.end)} UTC, against the "
               f"{fmt.duration(filters.length)} before it")
    if head.requests == 0:
        ui.empty_state()
        return
    _numbers(head, filters)
    for note in head.notes:
        st.caption(note)
    _section(api, filters, _requests_chart)
    _section(api, filters, _movers)
    _section(api, filters, _alerts)


def _section(api: Api, filters: Filters, draw: Callable[[Api, Filters], None]) -> None:
    """One part of the page; its API failure is one line there, the rest still draws."""
    try:
        draw(api, filters)
    except ApiError as exc:
        ui.error_line(exc)


def _numbers(head: overview.Headline, filters: Filters) -> None:
    previous = f"vs previous {fmt.duration(filters.length)}"
    columns = st.columns(_COLUMNS)
    for i, number in enumerate(head.numbers):
        delta = (fmt.points if number.unit == "share" else fmt.change)(number.now, number.before)
        series = [v for v in number.series if v is not None]
        with columns[i % _COLUMNS]:
            st.metric(number.label, _FORMAT[number.unit](number.now),
                      delta=None if delta == fmt.NONE else delta,
                      delta_color="inverse" if number.lower_is_better else "normal",
                      delta_description=previous, chart_data=series or None, chart_type="area", border=True,
                      help=f"Previous period: {_FORMAT[number.unit](number.before)}")


def _requests_chart(api: Api, filters: Filters) -> None:
    buckets = overview.buckets(api, filters)
    if not buckets:
        return
    per = "hour" if overview.grain_for(filters) == "1h" else "day"
    fig = go.Figure(go.Bar(
        x=[b.start for b in buckets], y=[b.requests for b in buckets],
        customdata=[[fmt.money(b.cost_usd)] for b in buckets],
        hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>%{y:,} requests<br>%{customdata[0]}<extra></extra>",
    ))
    fig.update_layout(title=f"Requests per {per} (select a bar to open its traces)", height=280,
                      margin={"l": 40, "r": 10, "t": 40, "b": 30}, xaxis_title="time (UTC)",
                      yaxis_title="requests", dragmode="select")
    event: Any = st.plotly_chart(fig, key="overview_requests", on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", [])
    for point in points[:3]:
        bucket = buckets[int(point["point_index"])]
        st.markdown(f"[Traces of {fmt.when(bucket.start)} UTC ({fmt.count(bucket.requests)} requests)]"
                    f"({bucket.traces})")


def _mover_rows(items: tuple[overview.Mover, ...], show: Callable[[float | None], str]) -> list[dict[str, Any]]:
    return [{"by": m.key, "name": m.value, "now": show(m.now), "before": show(m.before),
             "change": fmt.change(m.now, m.before), "traces": m.traces} for m in items]


def _movers(api: Api, filters: Filters) -> None:
    with ui.loading("Finding what moved…"):
        moved = overview.movers(api, filters)
    st.subheader("Top movers")
    links = {"traces": st.column_config.LinkColumn("traces", display_text="open traces")}
    left, right = st.columns(2)
    with left:
        st.markdown("**Spend** (tenants, routes, models)")
        if moved.spend:
            st.dataframe(_mover_rows(moved.spend, fmt.money), column_config=links, hide_index=True)
        else:
            st.caption("No spend moved against the previous period.")
    with right:
        st.markdown("**p95 TTLT** (tenants, routes, models)")
        if moved.ttlt_p95:
            st.dataframe(_mover_rows(moved.ttlt_p95, fmt.ms), column_config=links, hide_index=True)
        else:
            st.caption("No p95 TTLT to compare with the previous period.")
    for note in moved.notes:
        st.caption(note)


def _alerts(api: Api, filters: Filters) -> None:
    firing = overview.firing_alerts(api, filters)
    st.subheader(f"Firing alerts ({len(firing)})")
    if not firing:
        st.caption("No alert is firing.")
        return
    rows = [{"rule": a.rule, "kind": a.kind, "severity": a.severity or "", "group": a.group,
             "value": a.value, "threshold": a.threshold, "since": fmt.when(a.since) if a.since else "",
             "message": a.message or "", "traces": a.traces} for a in firing]
    st.dataframe(rows, hide_index=True,
                 column_config={"traces": st.column_config.LinkColumn("traces", display_text="open traces")})
    st.markdown("[All alerts, with their history](/alerts)")
