"""The Alerts page's reads and actions: alert instances, one instance's history and
delivery attempts (the reader token), acknowledge and silence (the admin endpoints).

The admin endpoints answer only to callers on the server's host or to the admin token
(`server.admin_token`); a dashboard on another host needs that token in its settings, and
without it the server's refusal comes back as the ApiError's one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from outcrop.dashboard import fmt
from outcrop.dashboard.api_client.base import Api, dashboard_settings
from outcrop.dashboard.filters import iso

# The states GET /v1/alerts takes, as the page offers them: open is pending, firing or no data
STATES: dict[str, str] = {"firing": "Firing", "open": "Open", "resolved": "Resolved", "all": "All"}
# Kinds whose value and threshold are shares (a rate, a budget's spent share, a quota's share)
SHARE_KINDS = frozenset({"throttle_rate", "error_rate", "capacity", "budget", "budget_forecast"})
OPEN_STATES = frozenset({"pending", "firing", "no_data"})


def alerts(api: Api, state: str) -> list[dict[str, Any]]:
    """GET /v1/alerts?state=: the instances in `state`, newest first."""
    rows: list[dict[str, Any]] = api.get(f"/v1/alerts?state={quote(state)}")
    return rows


def alert(api: Api, alert_id: int) -> dict[str, Any]:
    """GET /v1/alerts/{id}: {"alert": …, "events": […], "deliveries": […]}."""
    detail: dict[str, Any] = api.get(f"/v1/alerts/{int(alert_id)}")
    return detail


def acknowledge(api: Api, alert_id: int) -> dict[str, Any]:
    """POST /v1/admin/alerts/ack: no more firing notices for the instance."""
    answer: dict[str, Any] = admin_api(api).post("/v1/admin/alerts/ack", {"alert_id": int(alert_id)})
    return answer


def silence(api: Api, alert_id: int, until: datetime, comment: str | None) -> dict[str, Any]:
    """POST /v1/admin/alerts/silence: no notices until `until` (naive UTC); the comment is kept."""
    body = {"alert_id": int(alert_id), "until": iso(until), "comment": comment or None}
    answer: dict[str, Any] = admin_api(api).post("/v1/admin/alerts/silence", body)
    return answer


def admin_api(api: Api) -> Api:
    """`api` with the admin token of the settings when one is set, else `api` as it is
    (the server then answers only if this dashboard runs on its host)."""
    token = dashboard_settings().server.admin_token
    return Api(api.base_url, token, api.timeout) if token else api


# -- what the page shows of them --------------------------------------------------------

def group_text(group: Mapping[str, Any] | None) -> str:
    """{"model": "m1", "region": "us-east-1"} as "model=m1, region=us-east-1"; "all calls" when empty."""
    return ", ".join(f"{k}={v}" for k, v in (group or {}).items()) or "all calls"


def value_text(kind: str, value: float | None) -> str:
    """A value as people read it: shares as percentages, else the number (a drift rule's
    value is its metric's: milliseconds, tokens, dollars; the message names the unit)."""
    if kind in SHARE_KINDS:
        return fmt.percent(value)
    return fmt.NONE if value is None else f"{value:,.4g}"


def threshold_text(kind: str, value: float | None) -> str:
    """A threshold as people read it: a drift threshold is a share too (relative, or points)."""
    return fmt.percent(value) if kind == "drift" else value_text(kind, value)


def label(row: Mapping[str, Any]) -> str:
    """One line naming an instance, for a picker: "#7 throttles (model=m1) — firing"."""
    return f"#{row['alert_id']} {row['rule']} ({group_text(row.get('group'))}) — {state_text(row['state'])}"


def state_text(state: str) -> str:
    return state.replace("_", " ")


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The instances as the page's table shows them."""
    return [{
        "ID": r["alert_id"], "Rule": r["rule"], "Kind": r["kind"], "Group": group_text(r.get("group")),
        "State": state_text(r["state"]), "Severity": r["severity"],
        "Value": value_text(r["kind"], r.get("value")), "Threshold": threshold_text(r["kind"], r.get("threshold")),
        "Message": r.get("message") or "", "Started": _when(r.get("started_at")),
        "Resolved": _when(r.get("resolved_at")), "Acked": bool(r.get("acked")),
        "Silenced until": _when(r.get("silenced_until")),
    } for r in rows]


def event_rows(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [{"At": _when(e.get("event_at")), "Event": state_text(e["event"]),
             "Value": value_text(kind, e.get("value")), "Detail": e.get("detail") or ""} for e in events]


def delivery_rows(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"At": _when(d.get("attempted_at")), "Notice": d["event"], "Channel": d["channel"],
             "Type": d["channel_type"], "Attempt": d["attempt"], "Delivered": bool(d["ok"]),
             "Error": d.get("error") or ""} for d in deliveries]


def is_open(row: Mapping[str, Any]) -> bool:
    return row.get("state") in OPEN_STATES


def _when(value: str | None) -> str:
    """An API timestamp ("2026-11-18T17:00:00.25Z") as "2026-11-18 17:00:00 UTC"."""
    if not value:
        return ""
    return f"{datetime.fromisoformat(value.replace('Z', '+00:00')):%Y-%m-%d %H:%M:%S} UTC"
