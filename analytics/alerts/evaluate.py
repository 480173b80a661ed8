"""Evaluate the `[[alerts.rules]]` at a time, keep the alert instances, send notifications.

Rates are read from `llm_calls`, not the minute rollups: the window is a sliding one
that ends at any instant (`--at`), not on a minute boundary, and the rollups lag the
calls by up to jobs.rollup_interval_seconds. Reading `ts >= at - window AND ts < at`
makes an evaluation as of a past time see exactly what that time saw; DuckDB's zone
maps on `ts` keep a 15-minute window cheap. Throttle rate = throttled / all attempts,
error rate = error / all attempts (a throttle is not counted as an error).

State changes are written in one transaction on the writer thread; notifications are
delivered after it commits, so a slow or failing channel never holds up evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb

from outcrop.analytics.alerts.channels import NoticeRule, Notification, deliver_all
from outcrop.analytics.alerts.lifecycle import OPEN_STATES, Open, Step, step
from outcrop.core.errors import QueryError
from outcrop.core.settings import ALERT_GROUP_KEYS, AlertRule, Settings
from outcrop.core.sql import load_sql

_LABEL = {"throttle_rate": ("throttle rate", "throttled"), "error_rate": ("error rate", "errors")}


class WriteStore(Protocol):
    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], Any], timeout: float | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class Sample:
    group: dict[str, str | None]
    requests: int
    bad: int

    @property
    def value(self) -> float:
        return self.bad / self.requests


def evaluate_alerts(store: WriteStore, settings: Settings, at: datetime,
                    backoff_seconds: float = 0.5) -> dict[str, Any]:
    """Evaluate every rule as of `at`; record changes, then deliver their notifications."""
    from outcrop.analytics.alerts.budgets import evaluate_budgets

    rules, budgets = settings.alerts.rules, settings.alerts.budgets

    def run(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], list[Notification]]:
        changes, notices = _evaluate_rules(con, rules, at)
        budget_changes, budget_notices = evaluate_budgets(con, budgets, at)
        return changes + budget_changes, notices + budget_notices

    changes, notices = store.write(run)
    deliveries = deliver_all(notices, settings, backoff_seconds)
    if deliveries:
        store.write(lambda con: con.executemany(load_sql("alerts/insert_delivery.sql"), deliveries))
    failed = sum(1 for d in deliveries if not d[6])
    return {"evaluated_at": at, "rules": len(rules), "budgets": len(budgets), "changes": changes,
            "notifications": len(notices), "delivery_attempts": len(deliveries), "failed_attempts": failed}


def _evaluate_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[AlertRule],
                    at: datetime) -> tuple[list[dict[str, Any]], list[Notification]]:
    changes: list[dict[str, Any]] = []
    notices: list[Notification] = []
    for rule in rules:
        samples = _samples(con, rule, at)
        opened = open_instances(con, rule.name)
        for key in sorted(set(samples) | set(opened)):
            sample = samples.get(key)
            current = opened.get(key)
            breaching = None if sample is None or sample.requests < rule.min_requests else sample.value > rule.threshold
            outcome = step(current[1] if current else None, breaching, at, rule.for_minutes, rule.renotify_minutes)
            if outcome is None:
                continue
            group = sample.group if sample else json.loads(key)
            change, notice = _apply(con, rule, key, group, sample, current, outcome, at)
            changes.append(change)
            if notice is not None:
                notices.append(notice)
    return changes, notices


def _samples(con: duckdb.DuckDBPyConnection, rule: AlertRule, at: datetime) -> dict[str, Sample]:
    params: dict[str, Any] = {"lo": at - timedelta(minutes=rule.window_minutes), "hi": at}
    params |= {f"by_{k}": k in rule.by for k in ALERT_GROUP_KEYS}
    bad_column = "throttles" if rule.kind == "throttle_rate" else "errors"
    cur = con.execute(load_sql("alerts/window_rates.sql"), params)
    names = [d[0] for d in cur.description]
    found = {}
    for row in cur.fetchall():
        record = dict(zip(names, row, strict=True))
        group = {k: record[k] for k in rule.by}
        found[group_key(group)] = Sample(group, int(record["requests"]), int(record[bad_column]))
    return found


def group_key(group: dict[str, Any]) -> str:
    """The canonical text of a group: one open instance per rule and this key."""
    return json.dumps(group, sort_keys=True, separators=(",", ":"))


def open_instances(con: duckdb.DuckDBPyConnection, rule: str) -> dict[str, tuple[int, Open]]:
    rows = con.execute(load_sql("alerts/open_instances.sql"), [rule]).fetchall()
    return {key: (alert_id, Open(state, started, fired, notified, acked, silenced))
            for alert_id, key, state, started, fired, notified, acked, silenced in rows}


def _apply(con: duckdb.DuckDBPyConnection, rule: AlertRule, key: str, group: dict[str, Any],
           sample: Sample | None, current: tuple[int, Open] | None, outcome: Step,
           at: datetime) -> tuple[dict[str, Any], Notification | None]:
    value = sample.value if sample else None
    requests = sample.requests if sample else 0
    message = _message(rule, group, sample, outcome.state)
    return record_step(con, rule, key, group, value, requests, message, current, outcome, at)


def record_step(con: duckdb.DuckDBPyConnection, rule: NoticeRule, key: str, group: dict[str, Any],
                value: float | None, requests: int, message: str, current: tuple[int, Open] | None,
                outcome: Step, at: datetime) -> tuple[dict[str, Any], Notification | None]:
    """Write one lifecycle step of an instance (new or open) and its event; the notice to send."""
    if current is None:
        (alert_id,) = con.execute(load_sql("alerts/insert_instance.sql"), [
            rule.name, rule.kind, key, outcome.state, rule.severity, value, rule.threshold, requests,
            message, at, outcome.fired_at]).fetchone() or (None,)
        started_at, previous = at, None
    else:
        alert_id, started_at, previous = current[0], current[1].started_at, current[1].state
        con.execute(load_sql("alerts/update_instance.sql"), [
            alert_id, outcome.state, value, requests, message, outcome.fired_at, outcome.resolved_at, at,
            rule.threshold, rule.severity])
    if outcome.state != previous:
        con.execute(load_sql("alerts/insert_event.sql"), [alert_id, at, outcome.state, value, message])
    notice = None
    if outcome.notify is not None:
        if outcome.notify != "resolved":
            con.execute(load_sql("alerts/mark_notified.sql"), [alert_id, at])
        if outcome.notify == "renotify":
            con.execute(load_sql("alerts/insert_event.sql"), [alert_id, at, "renotify", value, message])
        notice = Notification(alert_id, outcome.notify, rule, group, outcome.state, value, message, started_at)
    change = {"alert_id": alert_id, "rule": rule.name, "group": group, "state": outcome.state,
              "previous": previous, "value": value, "requests": requests, "notify": outcome.notify}
    return change, notice


def _message(rule: AlertRule, group: dict[str, Any], sample: Sample | None, state: str) -> str:
    label, noun = _LABEL[rule.kind]
    where = ", ".join(f"{k}={v}" for k, v in group.items()) or "all calls"
    if sample is None or sample.requests < rule.min_requests:
        seen = sample.requests if sample else 0
        return (f"{rule.name}: {label} unknown for {where}: {seen} attempts in the last "
                f"{rule.window_minutes} min, fewer than min_requests {rule.min_requests}")
    verb = "back to" if state == "resolved" else "at"
    return (f"{rule.name}: {label} {verb} {sample.value:.2%} ({sample.bad} {noun} of {sample.requests} "
            f"attempts in the last {rule.window_minutes} min) for {where}; threshold {rule.threshold:.2%}")


def list_alerts(store: WriteStore, state: str) -> list[dict[str, Any]]:
    """Alert instances, newest first: `firing`, `resolved`, `open` or `all`."""
    choices = {"firing": ["firing"], "resolved": ["resolved"], "open": list(OPEN_STATES),
               "all": [*OPEN_STATES, "resolved"]}
    if state not in choices:
        raise QueryError(f"state must be one of {', '.join(choices)}, got {state!r}")
    sql, params = load_sql("alerts/list_instances.sql"), {"states": choices[state]}
    rows: list[dict[str, Any]] = store.write(lambda con: _fetch(con, sql, params))
    for row in rows:
        row["group"] = json.loads(row.pop("group_key"))
    return rows


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def ack_alert(store: WriteStore, alert_id: int, at: datetime) -> dict[str, Any]:
    """Acknowledge an open instance: no more firing or re-notifications; resolution still sent."""
    def run(con: duckdb.DuckDBPyConnection) -> bool:
        if not con.execute(load_sql("alerts/ack.sql"), [alert_id]).fetchall():
            return False
        con.execute(load_sql("alerts/insert_event.sql"), [alert_id, at, "ack", None, None])
        return True

    if not store.write(run):
        raise QueryError(f"no open alert with alert_id {alert_id}")
    return {"alert_id": alert_id, "acked": True}


def silence_alert(store: WriteStore, alert_id: int, until: datetime, comment: str | None,
                  at: datetime) -> dict[str, Any]:
    """No notifications for the instance until `until`; the comment is kept in its history."""
    if until <= at:
        raise QueryError(f"--until must be in the future, got {until.isoformat()}")

    def run(con: duckdb.DuckDBPyConnection) -> bool:
        if not con.execute(load_sql("alerts/silence.sql"), [alert_id, until, comment]).fetchall():
            return False
        con.execute(load_sql("alerts/insert_event.sql"), [alert_id, at, "silence", None, comment])
        return True

    if not store.write(run):
        raise QueryError(f"no alert with alert_id {alert_id}")
    return {"alert_id": alert_id, "silenced_until": until, "comment": comment}
