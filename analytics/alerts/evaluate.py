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
import pyarrow as pa

from outcrop.analytics.alerts.channels import NoticeRule, Notification, deliver_all
from outcrop.analytics.alerts.lifecycle import Open, Step, step
from outcrop.core.errors import QueryError
from outcrop.core.settings import ALERT_GROUP_KEYS, AlertRule, Settings
from outcrop.core.sql import load_sql

_LABEL = {"throttle_rate": ("throttle rate", "throttled"), "error_rate": ("error rate", "errors")}


class WriteStore(Protocol):
    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], Any], timeout: float | None = None) -> Any: ...


class ReadStore(Protocol):
    def query(self, sql: str, params: Any = None) -> pa.Table: ...


@dataclass(frozen=True, slots=True)
class Sample:
    """What one evaluation saw of one group of a rule.

    `breaching` is None when the sample is too small to judge (the instance goes to
    no_data); `describe(state)` is the alert message for the state it leads to.
    """

    group: dict[str, str | None]
    requests: int
    value: float | None
    breaching: bool | None
    describe: Callable[[str], str]


# kind -> the samples of a rule as of `at`, one per group key (drift and capacity add theirs)
Sampler = Callable[[duckdb.DuckDBPyConnection, AlertRule, datetime, Settings], dict[str, Sample]]


def evaluate_alerts(store: WriteStore, settings: Settings, at: datetime,
                    backoff_seconds: float = 0.5) -> dict[str, Any]:
    """Evaluate every rule as of `at`; record changes, then deliver their notifications."""
    from outcrop.analytics.alerts.budgets import evaluate_budgets

    rules, budgets = settings.alerts.rules, settings.alerts.budgets

    def run(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], list[Notification]]:
        changes, notices = _evaluate_rules(con, rules, at, settings)
        budget_changes, budget_notices = evaluate_budgets(con, budgets, at)
        return changes + budget_changes + _close_orphans(con, rules, budgets, at), notices + budget_notices

    changes, notices = store.write(run)
    deliveries = deliver_all(notices, settings, backoff_seconds)
    if deliveries:
        store.write(lambda con: con.executemany(load_sql("alerts/insert_delivery.sql"), deliveries))
    failed = sum(1 for d in deliveries if not d[6])
    return {"evaluated_at": at, "rules": len(rules), "budgets": len(budgets), "changes": changes,
            "notifications": len(notices), "delivery_attempts": len(deliveries), "failed_attempts": failed}


def _close_orphans(con: duckdb.DuckDBPyConnection, rules: Sequence[AlertRule], budgets: Sequence[Any],
                   at: datetime) -> list[dict[str, Any]]:
    """Resolve (without a notification) the open instances of rules no longer configured."""
    names = [r.name for r in rules] + [b.name for b in budgets]
    closed = con.execute(load_sql("alerts/close_orphans.sql"), {"names": names, "at": at}).fetchall()
    for alert_id, _, message in closed:
        con.execute(load_sql("alerts/insert_event.sql"), [alert_id, at, "resolved", None, message])
    return [{"alert_id": alert_id, "rule": rule, "state": "resolved", "notify": None} for alert_id, rule, _ in closed]


def sampler(kind: str) -> Sampler:
    if kind == "drift":
        from outcrop.analytics.alerts.drift import drift_samples

        return drift_samples
    if kind == "capacity":
        from outcrop.analytics.alerts.capacity import capacity_samples

        return capacity_samples
    return rate_samples


def _evaluate_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[AlertRule], at: datetime,
                    settings: Settings) -> tuple[list[dict[str, Any]], list[Notification]]:
    changes: list[dict[str, Any]] = []
    notices: list[Notification] = []
    drift = any(r.kind == "drift" for r in rules)
    if drift:
        from outcrop.analytics.alerts.drift import WINDOWS

        WINDOWS.begin(con)  # the drift rules' day windows, read once for all of them
    try:
        _step_rules(con, rules, at, settings, changes, notices)
    finally:
        if drift:
            WINDOWS.end(con)
    return changes, notices


def _step_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[AlertRule], at: datetime, settings: Settings,
                changes: list[dict[str, Any]], notices: list[Notification]) -> None:
    for rule in rules:
        samples = sampler(rule.kind)(con, rule, at, settings)
        opened = open_instances(con, rule.name)
        for key in sorted(set(samples) | set(opened)):
            sample = samples.get(key)
            current = opened.get(key)
            if current is not None and current[1].evaluated_at > at:
                continue  # evaluated as of a later time already: an earlier look cannot undo that
            breaching = None if sample is None else sample.breaching
            outcome = step(current[1] if current else None, breaching, at, rule.for_minutes, rule.renotify_minutes)
            if outcome is None:
                continue
            group = sample.group if sample else json.loads(key)
            value = sample.value if sample else None
            requests = sample.requests if sample else 0
            message = sample.describe(outcome.state) if sample else _no_sample(rule, group)
            change, notice = record_step(con, rule, key, group, value, requests, message, current, outcome, at)
            changes.append(change)
            if notice is not None:
                notices.append(notice)


def where_text(group: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "all calls"


def _no_sample(rule: AlertRule, group: dict[str, Any]) -> str:
    return f"{rule.name}: no calls for {where_text(group)} in the last {rule.window_minutes} min"


def rate_samples(con: duckdb.DuckDBPyConnection, rule: AlertRule, at: datetime,
                 settings: Settings) -> dict[str, Sample]:
    """Throttle or error rate per group over the sliding window [at - window, at).

    A throttle rule grouped by nothing but model and region also reads CloudWatch's
    InvocationThrottles where the metrics poller runs: Bedrock counts requests it refused
    before any client span or log saw them. Of the two, the higher judged rate is used,
    and the message says which source it came from.
    """
    params: dict[str, Any] = {"lo": at - timedelta(minutes=rule.window_minutes), "hi": at}
    params |= {f"by_{k}": k in rule.by for k in ALERT_GROUP_KEYS}
    bad_column = "throttles" if rule.kind == "throttle_rate" else "errors"
    found = {}
    for record in fetch_dicts(con, load_sql("alerts/window_rates.sql"), params):
        group = {k: record[k] for k in rule.by}
        requests, bad = int(record["requests"]), int(record[bad_column])
        found[group_key(group)] = _rate_sample(rule, group, requests, bad, "calls")
    if rule.kind == "throttle_rate" and set(rule.by) <= {"model", "region"}:
        for key, sample in _cloudwatch_samples(con, rule, params).items():
            mine = found.get(key)
            if mine is None or _judged(sample) > _judged(mine):
                found[key] = sample
    return found


def _cloudwatch_samples(con: duckdb.DuckDBPyConnection, rule: AlertRule,
                        params: dict[str, Any]) -> dict[str, Sample]:
    bound = {k: params[k] for k in ("lo", "hi", "by_model", "by_region")}
    if not con.execute(load_sql("alerts/cloudwatch_polled.sql"), {"lo": bound["lo"], "hi": bound["hi"]}).fetchall():
        return {}
    found = {}
    for record in fetch_dicts(con, load_sql("alerts/cloudwatch_throttles.sql"), bound):
        group = {k: record[k] for k in rule.by}
        sample = _rate_sample(rule, group, int(record["requests"]), int(record["throttles"]),
                              "CloudWatch InvocationThrottles")
        found[group_key(group)] = sample
    return found


def _judged(sample: Sample) -> float:
    """Order of preference between two sources' samples: a judged one over a too-small one,
    then the higher rate."""
    return -1.0 if sample.value is None else sample.value


def _rate_sample(rule: AlertRule, group: dict[str, Any], requests: int, bad: int, source: str) -> Sample:
    label, noun = _LABEL[rule.kind]
    where = where_text(group)
    if requests < rule.min_requests:
        text = (f"{rule.name}: {label} unknown for {where}: {requests} attempts in the last "
                f"{rule.window_minutes} min, fewer than min_requests {rule.min_requests} (from {source})")
        return Sample(group, requests, None, None, lambda state: text)
    value = bad / requests

    def describe(state: str) -> str:
        verb = "back to" if state == "resolved" else "at"
        return (f"{rule.name}: {label} {verb} {value:.2%} ({bad} {noun} of {requests} "
                f"attempts in the last {rule.window_minutes} min) for {where}; threshold {rule.threshold:.2%} "
                f"(from {source})")

    return Sample(group, requests, value, value > rule.threshold, describe)


def group_key(group: dict[str, Any]) -> str:
    """The canonical text of a group: one open instance per rule and this key."""
    return json.dumps(group, sort_keys=True, separators=(",", ":"))


def open_instances(con: duckdb.DuckDBPyConnection, rule: str) -> dict[str, tuple[int, Open]]:
    """The rule's open instances by group key."""
    rows = con.execute(load_sql("alerts/open_instances.sql"), [rule]).fetchall()
    return {key: (alert_id, Open(state, started, fired, notified, acked, silenced, evaluated))
            for alert_id, key, state, started, fired, notified, acked, silenced, evaluated in rows}


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


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def list_alerts(store: ReadStore, state: str) -> list[dict[str, Any]]:
    """Alert instances, newest first: `firing`, `resolved`, `open` or `all`."""
    from outcrop.analytics.alerts.read import alert_rows

    return alert_rows(store.query, state)


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
