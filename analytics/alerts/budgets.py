"""Budgets (`[[alerts.budgets]]`): spend so far in the calendar period, forecast-to-breach,
and one alert instance per budget, period and threshold crossed.

Spend is the named query `cost` (the rollups' cost, the one pricing) over
[period start, at), with `at` cut to its minute: the rollups count by minute, so a
minute-aligned `at` sees exactly the spend with ts < at and an evaluation as of a past
time gives that time's answer. The forecast is linear on the elapsed part of the period
(spend / elapsed time, projected to the period end) until there are 14 days of history;
from then on a month's forecast follows the day-of-week pattern of the last 28 complete
days (`weekday_forecast`), so a weekday-heavy burn is not averaged with idle weekends.

Each threshold's instance has the period in its group, so it fires once per period (it
is never re-notified) and a new period starts with no open instances; an instance of an
earlier period is resolved quietly when its period is over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from outcrop.analytics.alerts.channels import Notification
from outcrop.analytics.alerts.evaluate import group_key, open_instances, record_step
from outcrop.analytics.alerts.lifecycle import Open, Step, step
from outcrop.analytics.queries import run_query
from outcrop.analytics.windows import floor_to
from outcrop.core.settings import AlertBudget

RunQuery = Callable[[str, dict[str, Any]], pa.Table]
BUDGET_COLUMNS = ("name", "period", "scope", "spent_usd", "limit_usd", "share", "forecast_usd", "breach_date")
# once per period: longer than any period, so a still-crossed threshold is never re-notified
_NEVER_RENOTIFY_MINUTES = 10**9
_FORECAST = "forecast"
HISTORY_DAYS = 28  # the weekday pattern is read from the last four complete weeks
MIN_HISTORY_DAYS = 14  # two of each weekday before the pattern is trusted


@dataclass(frozen=True, slots=True)
class BudgetRule:
    """A budget's threshold (or its forecast) as the thing an alert instance belongs to."""

    name: str
    kind: str
    severity: str
    threshold: float
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: AlertBudget
    period: str  # "2026-12" for a month, "2026-12-04" for a day
    start: datetime
    end: datetime
    spent_usd: float
    forecast_usd: float | None  # None before any of the period has elapsed
    breach_at: datetime | None  # when the linear burn crosses the limit; None if it never does

    @property
    def share(self) -> float:
        return self.spent_usd / self.budget.limit_usd

    def breaches_in_period(self) -> bool:
        return self.breach_at is not None and self.breach_at < self.end

    def row(self) -> dict[str, Any]:
        """A row of `outcrop report budgets`."""
        return {"name": self.budget.name, "period": self.period, "scope": scope_text(self.budget),
                "spent_usd": self.spent_usd, "limit_usd": self.budget.limit_usd, "share": self.share,
                "forecast_usd": self.forecast_usd,
                # a crossing after the period end is no breach: the next period starts from $0
                "breach_date": self.breach_at.date().isoformat() if self.breach_at and self.breaches_in_period()
                else None}


def period_bounds(period: str, at: datetime) -> tuple[datetime, datetime, str]:
    """The calendar (UTC) day or month holding `at`: start, end (exclusive) and its label."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1), f"{day:%Y-%m-%d}"
    start = day.replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end, f"{start:%Y-%m}"


def linear_forecast(spent: float, start: datetime, end: datetime, at: datetime,
                    limit: float) -> tuple[float | None, datetime | None]:
    """Spend at period end and the limit's crossing time at the period's average burn rate."""
    elapsed = (at - start).total_seconds()
    if elapsed <= 0:
        return None, None
    rate = spent / elapsed  # USD per second
    forecast = rate * (end - start).total_seconds()
    if rate <= 0:
        return forecast, None
    return forecast, start + timedelta(seconds=limit / rate)


def weekday_factors(daily: dict[date, float], today: date) -> list[float] | None:
    """Each weekday's mean spend over the last HISTORY_DAYS complete days, as a share of the
    mean day (Monday first); None with under MIN_HISTORY_DAYS of history or no spend."""
    known = [d for d in daily if today - timedelta(days=HISTORY_DAYS) <= d < today]
    if not known or min(known) > today - timedelta(days=MIN_HISTORY_DAYS):
        return None
    days = [min(known) + timedelta(days=i) for i in range((today - min(known)).days)]
    overall = sum(daily.get(d, 0.0) for d in days) / len(days)
    if overall <= 0:
        return None
    factors = []
    for weekday in range(7):
        same = [daily.get(d, 0.0) for d in days if d.weekday() == weekday]
        factors.append(sum(same) / len(same) / overall if same else 1.0)
    return factors


def weekday_forecast(spent: float, start: datetime, end: datetime, at: datetime, limit: float,
                     factors: list[float]) -> tuple[float, datetime | None] | None:
    """Spend at period end and the limit's crossing when each day burns base x its weekday's
    factor, base fitted to the spend so far; None when the elapsed days weigh nothing."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    elapsed = sum(factors[d.weekday()] * _overlap(d, start, at) for d in days)
    if elapsed <= 0:
        return None
    base = spent / elapsed  # USD on a day of factor 1
    forecast = spent + base * sum(factors[d.weekday()] * _overlap(d, at, end) for d in days)
    if spent >= limit:  # already crossed: when, at the period's average rate
        return forecast, linear_forecast(spent, start, end, at, limit)[1]
    left = limit - spent
    for d in days:
        share = _overlap(d, at, end)
        per_day = base * factors[d.weekday()]
        if share <= 0 or per_day <= 0:
            continue
        if per_day * share >= left:
            return forecast, max(d, at) + timedelta(days=left / per_day)
        left -= per_day * share
    return forecast, None


def _overlap(day: datetime, lo: datetime, hi: datetime) -> float:
    """The share of the day [day, day + 1) that lies in [lo, hi)."""
    seconds = (min(day + timedelta(days=1), hi) - max(day, lo)).total_seconds()
    return max(seconds, 0.0) / 86400


def budget_status(run: RunQuery, budget: AlertBudget, at: datetime) -> BudgetStatus:
    """Spend so far and the forecast of one budget as of `at`."""
    at = floor_to(at, timedelta(minutes=1))
    start, end, label = period_bounds(budget.period, at)
    spent = _spend(run, budget, start, at) if at > start else 0.0
    forecast, breach_at = linear_forecast(spent, start, end, at, budget.limit_usd)
    if budget.period == "month" and at > start:
        # a day's pattern does not change within the day: only a month's forecast uses it
        today = at.date()
        factors = weekday_factors(_daily_spend(run, budget, today - timedelta(days=HISTORY_DAYS), today), today)
        patterned = weekday_forecast(spent, start, end, at, budget.limit_usd, factors) if factors else None
        if patterned is not None:
            forecast, breach_at = patterned
    return BudgetStatus(budget, label, start, end, spent, forecast, breach_at)


def _daily_spend(run: RunQuery, budget: AlertBudget, lo: date, hi: date) -> dict[date, float]:
    params = {"from": f"{lo.isoformat()}T00:00:00Z", "to": f"{hi.isoformat()}T00:00:00Z",
              "by": [], "where": budget.scope.where()}
    table = run("daily_cost", params)
    daily: dict[date, float] = {}
    for bucket, cost in zip(table.column("day").to_pylist(), table.column("cost_usd").to_pylist(),
                            strict=True):
        day = _day(bucket)
        daily[day] = daily.get(day, 0.0) + (cost or 0.0)
    return daily


def _day(value: Any) -> date:
    # a local read gives a datetime; the read API may give ISO text
    if isinstance(value, datetime):
        return value.date()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()


def _spend(run: RunQuery, budget: AlertBudget, start: datetime, at: datetime) -> float:
    params = {"from": _iso(start), "to": _iso(at), "by": [], "where": budget.scope.where()}
    costs = run("cost", params).column("cost_usd").to_pylist()
    # unpriced calls have no cost (never $0): the budget counts what is known
    return float(sum(c for c in costs if c is not None))


def _iso(t: datetime) -> str:
    return t.isoformat() + "Z"


def budget_rows(run: RunQuery, budgets: Sequence[AlertBudget], at: datetime) -> pa.Table:
    """`outcrop report budgets`: one row per budget, its current period as of `at`."""
    rows = [budget_status(run, b, at).row() for b in budgets]
    if not rows:
        return pa.table({c: pa.array([], pa.null()) for c in BUDGET_COLUMNS})
    return pa.Table.from_pylist(rows)


def scope_text(budget: AlertBudget) -> str:
    where = budget.scope.where()
    return ",".join(f"{k}={v}" for k, v in where.items()) or "all"


def evaluate_budgets(con: duckdb.DuckDBPyConnection, budgets: Sequence[AlertBudget],
                     at: datetime) -> tuple[list[dict[str, Any]], list[Notification]]:
    """Step every budget's threshold and forecast instances as of `at` (inside a store write)."""
    def run(name: str, params: dict[str, Any]) -> pa.Table:
        return run_query(con, name, params)

    changes: list[dict[str, Any]] = []
    notices: list[Notification] = []
    for budget in budgets:
        status = budget_status(run, budget, at)
        wanted = _wanted(status)
        opened = open_instances(con, budget.name)
        for key in sorted(set(wanted) | set(opened)):
            current = opened.get(key)
            if current is not None and current[1].evaluated_at > at:
                continue  # evaluated as of a later time already: an earlier look cannot undo that
            if key in wanted:
                group, rule, breaching, value, message = wanted[key]
                outcome = step(current[1] if current else None, breaching, at, 0, _NEVER_RENOTIFY_MINUTES)
            else:
                assert current is not None
                group = json.loads(key)
                if str(group.get("period", "")) >= status.period:
                    continue  # a later period's instance, seen from an evaluation as of the past
                rule, value = _rule(budget, group), None
                message = f"{budget.name}: period {group.get('period')} is over"
                outcome = _close(current[1], at)
            if outcome is None:
                continue
            change, notice = record_step(con, rule, key, group, value, 0, message, current, outcome, at)
            changes.append(change)
            if notice is not None:
                notices.append(notice)
    return changes, notices


Wanted = tuple[dict[str, Any], BudgetRule, bool, float | None, str]


def _wanted(status: BudgetStatus) -> dict[str, Wanted]:
    budget = status.budget
    out: dict[str, Wanted] = {}
    for threshold in budget.thresholds:
        group = {"budget": budget.name, "period": status.period, "threshold": f"{threshold:g}"}
        out[group_key(group)] = (group, _rule(budget, group), status.share >= threshold, status.share,
                                 _spent_message(status, threshold))
    group = {"budget": budget.name, "period": status.period, "threshold": _FORECAST}
    share = status.forecast_usd / budget.limit_usd if status.forecast_usd is not None else None
    out[group_key(group)] = (group, _rule(budget, group), status.breaches_in_period(), share,
                             _forecast_message(status))
    return out


def _rule(budget: AlertBudget, group: dict[str, Any]) -> BudgetRule:
    mark = str(group.get("threshold", ""))
    if mark == _FORECAST:
        return BudgetRule(budget.name, "budget_forecast", budget.severity, 1.0, budget.channels)
    try:
        threshold = float(mark)
    except ValueError:
        threshold = 1.0
    return BudgetRule(budget.name, "budget", budget.severity, threshold, budget.channels)


def _close(current: Open, at: datetime) -> Step:
    # the period is over: nothing to tell anyone, the instance only leaves the open set
    return Step("resolved", current.fired_at, at, None)


def _where(status: BudgetStatus) -> str:
    scope = scope_text(status.budget)
    return "all calls" if scope == "all" else scope


def _spent_message(status: BudgetStatus, threshold: float) -> str:
    budget = status.budget
    return (f"{budget.name}: spent ${status.spent_usd:,.2f} of ${budget.limit_usd:,.2f} ({status.share:.0%}) "
            f"in {budget.period} {status.period} for {_where(status)}; threshold {threshold:.0%}")


def _forecast_message(status: BudgetStatus) -> str:
    budget = status.budget
    if status.forecast_usd is None:
        return f"{budget.name}: no forecast yet: nothing of {budget.period} {status.period} has elapsed"
    tail = (f"forecast ${status.forecast_usd:,.2f} of ${budget.limit_usd:,.2f} "
            f"by the end of {budget.period} {status.period}")
    if not status.breaches_in_period() or status.breach_at is None:
        return f"{budget.name}: {tail} for {_where(status)}"
    when = (f"at {status.breach_at:%H:%M} UTC" if budget.period == "day"
            else f"on the {_ordinal(status.breach_at.day)} ({status.breach_at:%Y-%m-%d})")
    adjective = "daily" if budget.period == "day" else "monthly"
    return f"{budget.name}: at this burn rate {_where(status)}'s {adjective} budget runs out {when}; {tail}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
