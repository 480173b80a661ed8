"""What the read API and `outcrop alerts list` show of alerts: instances, one instance's
history, and the rules as configured.

Each read takes a `query(sql, params) -> pyarrow.Table` so the same code serves the
server's bounded reader and a local file. The configured rules are answered with channel
targets reduced to their kind and host: a Slack incoming-webhook URL is a credential, and
a reader token must not be enough to post into the team's channel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from outcrop.analytics.alerts.lifecycle import OPEN_STATES
from outcrop.core.errors import QueryError
from outcrop.core.settings import Settings
from outcrop.core.sql import load_sql

Query = Callable[[str, Any], pa.Table]
STATES: dict[str, list[str]] = {"firing": ["firing"], "resolved": ["resolved"], "open": list(OPEN_STATES),
                                "all": [*OPEN_STATES, "resolved"]}


def alert_rows(query: Query, state: str) -> list[dict[str, Any]]:
    """Alert instances in `state` (firing, resolved, open or all), newest first; `group` as an object."""
    if state not in STATES:
        raise QueryError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    rows = query(load_sql("alerts/list_instances.sql"), {"states": STATES[state]}).to_pylist()
    return [_decoded(row) for row in rows]


def alert_history(query: Query, alert_id: int) -> dict[str, Any]:
    """One instance, its events and its delivery attempts."""
    params = {"alert_id": alert_id}
    found = query(load_sql("alerts/get_instance.sql"), params).to_pylist()
    if not found:
        raise QueryError(f"no alert with alert_id {alert_id}")
    return {"alert": _decoded(found[0]),
            "events": query(load_sql("alerts/alert_events.sql"), params).to_pylist(),
            "deliveries": query(load_sql("alerts/alert_deliveries.sql"), params).to_pylist()}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["group"] = json.loads(row.pop("group_key"))
    return row


def alert_config(settings: Settings) -> dict[str, Any]:
    """The alert rules, budgets, channels (targets redacted) and capacity facts in force."""
    alerts, capacity = settings.alerts, settings.capacity
    channels = {name: {"type": c.type, "target": _redacted(c.url, c.topic_arn)}
                for name, c in sorted(alerts.channels.items())}
    return {
        "evaluate_seconds": alerts.evaluate_seconds,
        "channels": channels,
        "rules": [r.model_dump(mode="json") for r in alerts.rules],
        "budgets": [b.model_dump(mode="json") for b in alerts.budgets],
        "capacity": capacity.model_dump(mode="json"),
    }


def _redacted(url: str | None, topic_arn: str | None) -> str:
    if topic_arn is not None:
        return topic_arn  # an ARN grants nothing by itself; publishing needs IAM rights
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.hostname or ''}/…"
