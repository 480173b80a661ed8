"""The Alerts page: alert instances by state, one instance's history and delivery attempts,
and Acknowledge / Silence through the server's admin endpoints. `?alert_id=N` opens an
instance (notifications link to `<alerts.dashboard_url>/alerts?alert_id=N`); `?state=`
keeps the list's state in the URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st

from outcrop.dashboard.api_client import alerts as api
from outcrop.dashboard.api_client.base import Api, ApiError, current_api
from outcrop.dashboard.filters import KEYS, Filters, link
from outcrop.dashboard.ui import error_line, loading, one_line

DEFAULT_STATE = "firing"
_NOTICE = "alerts_notice"  # the outcome of an action, shown after the rerun it causes


def render() -> None:
    st.title("Alerts")
    client = current_api()
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.success(notice)
    state = _state_selector()
    try:
        with loading("Reading alerts…"):
            rows = api.alerts(client, state)
    except ApiError as exc:
        error_line(exc)
        return
    chosen = _chosen_id()
    if rows:
        st.dataframe(api.table_rows(rows), hide_index=True, key="alerts_table")
    else:
        st.info(f"No {api.STATES[state].lower()} alerts. Alert rules are `[[alerts.rules]]` and budgets "
                "`[[alerts.budgets]]` in outcrop.toml (shown on the Settings page); they are evaluated every "
                "`alerts.evaluate_seconds` by `outcrop serve`.")
    chosen = _picker(rows, chosen)
    if chosen is not None:
        _detail(client, chosen)


def _state_selector() -> str:
    """The list's state, from `?state=` and written back to it."""
    wanted = st.query_params.get("state", DEFAULT_STATE)
    if wanted not in api.STATES:
        st.warning(f"state={wanted!r} is not one of {', '.join(api.STATES)}; showing {DEFAULT_STATE}")
        wanted = DEFAULT_STATE
    if st.session_state.get("alerts_state_url") != wanted:
        st.session_state["alerts_state"] = st.session_state["alerts_state_url"] = wanted
    state: str = st.radio("State", list(api.STATES), format_func=api.STATES.__getitem__, horizontal=True,
                          key="alerts_state", on_change=_write_state)
    return state


def _write_state() -> None:
    state = st.session_state["alerts_state"]
    st.session_state["alerts_state_url"] = state
    if state == DEFAULT_STATE:
        st.query_params.pop("state", None)
    else:
        st.query_params["state"] = state


def _chosen_id() -> int | None:
    text = st.query_params.get("alert_id")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        st.warning(f"alert_id={text!r} is not an alert number")
        return None


def _picker(rows: list[dict[str, Any]], chosen: int | None) -> int | None:
    """A picker of the listed instances (and of `?alert_id`'s, listed or not), kept in the URL."""
    labels = {r["alert_id"]: api.label(r) for r in rows}
    options: list[int | None] = [None, *labels]
    if chosen is not None and chosen not in labels:
        options.append(chosen)
    if st.session_state.get("alerts_pick_url") != chosen:
        st.session_state["alerts_pick"] = st.session_state["alerts_pick_url"] = chosen
    picked: int | None = st.selectbox(
        "Alert", options, key="alerts_pick", on_change=_write_pick,
        format_func=lambda i: "Choose an alert to see its history" if i is None else labels.get(i, f"#{i}"))
    return picked


def _write_pick() -> None:
    picked = st.session_state["alerts_pick"]
    st.session_state["alerts_pick_url"] = picked
    if picked is None:
        st.query_params.pop("alert_id", None)
    else:
        st.query_params["alert_id"] = str(picked)


# -- one instance -----------------------------------------------------------------------

def _detail(client: Api, alert_id: int) -> None:
    try:
        with loading("Reading the alert's history…"):
            detail = api.alert(client, alert_id)
    except ApiError as exc:
        error_line(exc)
        return
    row = detail["alert"]
    st.subheader(f"#{row['alert_id']} {row['rule']} — {api.state_text(row['state'])}")
    st.markdown(row.get("message") or "")
    _facts(row)
    _actions(client, row)
    st.markdown("**History**")
    st.dataframe(api.event_rows(detail["events"], row["kind"]), hide_index=True, key="alerts_events")
    st.markdown("**Delivery attempts**")
    if detail["deliveries"]:
        st.dataframe(api.delivery_rows(detail["deliveries"]), hide_index=True, key="alerts_deliveries")
    else:
        st.caption("No notification was sent for this alert (no channel, or silenced).")


def _facts(row: dict[str, Any]) -> None:
    (shown,) = api.table_rows([row])
    cells = st.columns(4)
    cells[0].metric("Value", shown["Value"])
    cells[1].metric("Threshold", shown["Threshold"])
    cells[2].metric("Severity", row["severity"])
    cells[3].metric("Acknowledged", "yes" if row["acked"] else "no")
    st.caption(f"Group: {shown['Group']} · kind {row['kind']} · started {shown['Started']}"
               + (f" · resolved {shown['Resolved']}" if shown["Resolved"] else "")
               + (f" · silenced until {shown['Silenced until']}" if shown["Silenced until"] else "")
               + (f" ({row['silence_comment']})" if row.get("silence_comment") else ""))
    traces = _traces_link(row)
    if traces:
        st.markdown(f"[Open the traces of this group around the alert →]({traces})")


def _traces_link(row: dict[str, Any]) -> str | None:
    """/traces for the alert's group keys (those that are filters) from an hour before it started."""
    where = {k: [str(v)] for k, v in (row.get("group") or {}).items() if k in KEYS}
    started = _parse(row.get("started_at"))
    if started is None:
        return None
    ended = _parse(row.get("resolved_at")) or datetime.now(UTC).replace(tzinfo=None)
    return link("traces", Filters(started - timedelta(hours=1), max(ended, started + timedelta(minutes=1)), where))


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _actions(client: Api, row: dict[str, Any]) -> None:
    """Acknowledge and Silence; the server's refusal (e.g. no admin token) is shown as its line."""
    alert_id, is_open = int(row["alert_id"]), api.is_open(row)
    if st.button("Acknowledge", key="alert_ack", disabled=not is_open or bool(row["acked"]),
                 help="No more firing notices; the resolution is still sent."):
        _act(lambda: api.acknowledge(client, alert_id), f"Alert #{alert_id} acknowledged.")
    with st.form("alert_silence"):
        st.markdown("**Silence** — no notifications until the time given (UTC)")
        soon = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0) + timedelta(hours=1)
        left, middle, right = st.columns([1, 1, 2])
        day = left.date_input("Until (date, UTC)", value=soon.date(), key="alert_silence_date")
        at = middle.time_input("Until (time, UTC)", value=soon.time(), key="alert_silence_time", step=900)
        comment = right.text_input("Comment", key="alert_silence_comment", placeholder="why, and who to ask")
        if st.form_submit_button("Silence"):
            if not isinstance(day, date) or not isinstance(at, time):
                st.error("Give the date and the time to silence the alert until.")
                return
            until = datetime.combine(day, at)
            _act(lambda: api.silence(client, alert_id, until, comment),
                 f"Alert #{alert_id} silenced until {until:%Y-%m-%d %H:%M} UTC.")


def _act(action: Callable[[], Any], success: str) -> None:
    try:
        action()
    except ApiError as exc:
        st.error(f"Refused: {one_line(exc)}")
        return
    st.session_state[_NOTICE] = success
    st.rerun()
