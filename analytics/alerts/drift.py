"""Drift rules: a metric in the latest window against the same clock window of the previous days.

The baseline of a window [at - window, at) is the same window on each of the previous
`baseline_days` days, pooled: [at - d days - window, at - d days) for d = 1..baseline_days.
Comparing 14:00-14:15 with 14:00-14:15 of last week, not with the night, means a daily
rhythm (a busy lunch hour that is always slower) does not page anyone. Both sides are read
from `llm_calls` with `ts >= lo AND ts < hi` (sql/alerts/drift_stats.sql, drift_cost.sql),
so an evaluation as of a past time sees what that time saw, whatever was stored since.

Each detector names its statistic, the direction that fires and whether its threshold is
a relative change (0.5 = 50% of the baseline) or absolute share points (0.02 = two points);
docs/alerts.md tables them. `min_requests` applies to the sample behind the statistic on
both sides: a small window or a thin baseline leaves the group unjudged (no_data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from outcrop.analytics.alerts.evaluate import Sample, fetch_dicts, group_key, where_text
from outcrop.core.settings import ALERT_GROUP_KEYS, AlertRule, Settings
from outcrop.core.sql import load_sql

Side = Mapping[str, Any]  # one row of drift_stats (plus drift_cost) for one group and side


@dataclass(frozen=True, slots=True)
class Detector:
    """How one drift metric is read from a side and judged against its baseline."""

    label: str  # `{finish_reason}` is the rule's
    direction: str  # rise | drop | either
    relative: bool  # threshold is a relative change; else absolute share points
    unit: str  # ms | tok/s | tokens | usd | share: how a value is printed
    read: Callable[[Side], tuple[int, float | None]]  # (sample size, statistic)


def _column(n: str, value: str) -> Callable[[Side], tuple[int, float | None]]:
    return lambda side: (int(side.get(n) or 0), side.get(value))


def _share(n: str, part: str, whole: str) -> Callable[[Side], tuple[int, float | None]]:
    def read(side: Side) -> tuple[int, float | None]:
        total = side.get(whole)
        return int(side.get(n) or 0), (float(side.get(part) or 0) / total if total else None)

    return read


def _mean(n: str, total: str) -> Callable[[Side], tuple[int, float | None]]:
    def read(side: Side) -> tuple[int, float | None]:
        count = int(side.get(n) or 0)
        return count, (float(side[total]) / count if count else None)

    return read


DETECTORS: dict[str, Detector] = {
    "ttft_ms_p95": Detector("TTFT p95", "rise", True, "ms", _column("ttft_n", "ttft_p95")),
    "ttlt_ms_p95": Detector("TTLT p95", "rise", True, "ms", _column("ttlt_n", "ttlt_p95")),
    "otps_p50": Detector("output tokens/s p50", "drop", True, "tok/s", _column("otps_n", "otps_p50")),
    "input_tokens_per_request": Detector("input tokens per request", "either", True, "tokens",
                                         _column("input_n", "input_mean")),
    "output_tokens_per_request": Detector("output tokens per request", "either", True, "tokens",
                                          _column("output_n", "output_mean")),
    "cost_per_request_usd": Detector("cost per request", "rise", True, "usd", _mean("cost_n", "cost_sum")),
    "cache_hit_share": Detector("cache-hit share", "drop", False, "share",
                                _share("input_n", "cache_read_sum", "prompt_sum")),
    "error_rate": Detector("error rate", "rise", False, "share", _share("attempts", "errors", "attempts")),
    "finish_reason_share": Detector("share of finish_reason {finish_reason}", "rise", False, "share",
                                    _share("finish_n", "finish_hits", "finish_n")),
}


def drift_samples(con: duckdb.DuckDBPyConnection, rule: AlertRule, at: datetime,
                  settings: Settings) -> dict[str, Sample]:
    """One sample per group seen on either side of the rule's metric as of `at`."""
    if not WINDOWS.is_open(con):  # called alone, not from evaluate_alerts
        WINDOWS.begin(con)
        try:
            return drift_samples(con, rule, at, settings)
        finally:
            WINDOWS.end(con)
    sides = _read_sides(con, rule, at)
    found = {}
    for key, (group, by_side) in sides.items():
        current, baseline = by_side.get("current", {}), by_side.get("baseline", {})
        if rule.metric == "response_model":
            found[key] = _model_sample(rule, group, current, baseline)
        else:
            found[key] = _metric_sample(rule, DETECTORS[str(rule.metric)], group, current, baseline)
    return found


class DriftWindows:
    """The calls (and, for cost rules, their costs) of every drift window of one evaluation.

    Filled once per window length and baseline days, one day window at a time: each is a
    ts range that DuckDB prunes by zone map, where one range over the whole baseline would
    scan every call of those days. `begin` empties them at the start of an evaluation.
    """

    def __init__(self) -> None:
        self._open: set[int] = set()
        self._calls: set[tuple[int, str]] = set()
        self._costs: set[tuple[int, str]] = set()

    def is_open(self, con: duckdb.DuckDBPyConnection) -> bool:
        return id(con) in self._open

    def begin(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(load_sql("alerts/drift_window_tables.sql"))
        self._open.add(id(con))
        self._calls = {c for c in self._calls if c[0] != id(con)}
        self._costs = {c for c in self._costs if c[0] != id(con)}

    def end(self, con: duckdb.DuckDBPyConnection) -> None:
        self.begin(con)  # empties the tables and forgets what was filled
        self._open.discard(id(con))

    def combo(self, con: duckdb.DuckDBPyConnection, rule: AlertRule, at: datetime, costs: bool) -> str:
        name = f"{rule.window_minutes}m/{rule.baseline_days}d/{at.isoformat()}"
        if (id(con), name) not in self._calls:
            for d, lo, hi in _windows(rule, at):
                con.execute(load_sql("alerts/drift_fill_calls.sql"), {"combo": name, "d": d, "lo": lo, "hi": hi})
            self._calls.add((id(con), name))
        if costs and (id(con), name) not in self._costs:
            for d, lo, hi in _windows(rule, at):
                # whole hours for the Provisioned Throughput share, but nothing from `at` on: a
                # later call in the same hour would change the share, and so a past answer
                hour_lo = lo.replace(minute=0, second=0, microsecond=0)
                price_hi = at if d == 0 else min(at, _ceil_hour(hi))
                con.execute(load_sql("alerts/drift_fill_costs.sql"), {
                    "combo": name, "d": d, "hour_lo": hour_lo, "price_hi": price_hi, "lo": lo, "hi": hi})
            self._costs.add((id(con), name))
        return name


WINDOWS = DriftWindows()


def _windows(rule: AlertRule, at: datetime) -> list[tuple[int, datetime, datetime]]:
    """(days back, start, end) of the current window (0) and each baseline day's."""
    window = timedelta(minutes=rule.window_minutes)
    return [(d, at - timedelta(days=d) - window, at - timedelta(days=d)) for d in range(rule.baseline_days + 1)]


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(hours=1)


def _read_sides(con: duckdb.DuckDBPyConnection, rule: AlertRule,
                at: datetime) -> dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    """group key -> (group, side -> statistics), from one or two statements."""
    costs = rule.metric == "cost_per_request_usd"
    shape: dict[str, Any] = {"combo": WINDOWS.combo(con, rule, at, costs)}
    shape |= {f"by_{k}": k in rule.by for k in ALERT_GROUP_KEYS}
    rows = fetch_dicts(con, load_sql("alerts/drift_stats.sql"), {**shape, "finish_reason": rule.finish_reason})
    if costs:
        rows += fetch_dicts(con, load_sql("alerts/drift_cost.sql"), shape)
    sides: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}
    for row in rows:
        group = {k: row[k] for k in rule.by}
        _, by_side = sides.setdefault(group_key(group), (group, {}))
        by_side.setdefault(row["side"], {}).update(row)
    return sides


def _too_small(rule: AlertRule, group: dict[str, Any], what: str, n_current: int, n_baseline: int) -> Sample:
    text = (f"{rule.name}: {rule.metric} unknown for {where_text(group)}: {n_current} {what} in the last "
            f"{rule.window_minutes} min and {n_baseline} in the same {rule.window_minutes} min of the previous "
            f"{rule.baseline_days} days; min_requests {rule.min_requests} on both sides")
    return Sample(group, n_current, None, None, lambda state: text)


def _metric_sample(rule: AlertRule, detector: Detector, group: dict[str, Any], current: Side,
                   baseline: Side) -> Sample:
    n_cur, now = detector.read(current)
    n_base, then = detector.read(baseline)
    if n_cur < rule.min_requests or n_base < rule.min_requests or now is None or then is None:
        return _too_small(rule, group, "calls", n_cur, n_base)
    breaching = _breaches(detector, now, then, rule.threshold)

    def describe(state: str) -> str:
        verb = "back to" if state == "resolved" else "at"
        label = detector.label.format(finish_reason=rule.finish_reason)
        return (f"{rule.name}: {label} {verb} {_fmt(detector.unit, now)} vs baseline "
                f"{_fmt(detector.unit, then)} ({_change(detector, now, then)}) for {where_text(group)}; "
                f"{n_cur} calls in the last {rule.window_minutes} min, {n_base} in the same "
                f"{rule.window_minutes} min of the previous {rule.baseline_days} days; "
                f"threshold {_threshold(detector, rule.threshold)}")

    return Sample(group, n_cur, now, breaching, describe)


def _breaches(detector: Detector, now: float, then: float, threshold: float) -> bool:
    if detector.relative:
        rise, drop = now > then * (1 + threshold), now < then * (1 - threshold)
    else:
        rise, drop = now - then > threshold, then - now > threshold
    return {"rise": rise, "drop": drop, "either": rise or drop}[detector.direction]


def _change(detector: Detector, now: float, then: float) -> str:
    if not detector.relative:
        return f"{(now - then) * 100:+.1f} points"
    if then == 0:
        return "from 0" if now else "no change"
    return f"{now / then - 1:+.1%}"


def _threshold(detector: Detector, threshold: float) -> str:
    sign = {"rise": "+", "drop": "-", "either": "±"}[detector.direction]
    return f"{sign}{threshold:.0%}" if detector.relative else f"{sign}{threshold * 100:g} points"


def _fmt(unit: str, value: float) -> str:
    if unit == "share":
        return f"{value:.2%}"
    if unit == "usd":
        return f"${value:.6f}"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "tok/s":
        return f"{value:,.1f} tok/s"
    return f"{value:,.1f} tokens"


def _model_sample(rule: AlertRule, group: dict[str, Any], current: Side, baseline: Side) -> Sample:
    """Share of the window's calls answered by a response model the baseline never saw."""
    now_models: dict[str, int] = dict(current.get("response_models") or {})
    base_models: dict[str, int] = dict(baseline.get("response_models") or {})
    n_cur, n_base = int(current.get("model_n") or 0), int(baseline.get("model_n") or 0)
    if n_cur < rule.min_requests or n_base < rule.min_requests:
        return _too_small(rule, group, "calls with a response model", n_cur, n_base)
    new = {m: n for m, n in now_models.items() if m not in base_models}
    share = sum(new.values()) / n_cur

    def describe(state: str) -> str:
        verb = "back to" if state == "resolved" else "at"
        return (f"{rule.name}: share answered by a response model new since the baseline {verb} {share:.2%} "
                f"for {where_text(group)} (new: {_models(new)}; now: {_models(now_models)}; baseline: "
                f"{_models(base_models)}); {n_cur} calls in the last {rule.window_minutes} min, {n_base} in "
                f"the same {rule.window_minutes} min of the previous {rule.baseline_days} days; "
                f"threshold {rule.threshold:.2%}")

    return Sample(group, n_cur, share, share > rule.threshold, describe)


def _models(counts: Mapping[str, int]) -> str:
    """'m2 (12), m1 (3)': most calls first, at most five named."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{m} ({n})" for m, n in ranked[:5])
    more = len(ranked) - 5
    return (text + (f" and {more} more" if more > 0 else "")) or "none"
