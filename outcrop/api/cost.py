"""Read API for the cost page: budget burn-down (GET /v1/budgets/burndown).

Budgets are settings, not data, so no named query can draw them. Each budget's current
period as of `?at=` (default now) comes back as the day-by-day cumulative spend so far
(named query `daily_cost`, the rollups' cost) and the forecast line from `at` to the
period end. The forecast is the one `outcrop report budgets` gives (`budget_status`):
linear on the elapsed part of the period, or for a month with two weeks of history the
weekday pattern; each point is that forecast evaluated to the midnight it stands for, so
the line ends at the budget's `forecast_usd`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import Response

from outcrop.analytics.alerts.budgets import (
    HISTORY_DAYS,
    budget_status,
    linear_forecast,
    weekday_factors,
    weekday_forecast,
)
from outcrop.analytics.queries import parse_time, run_query
from outcrop.analytics.windows import floor_to
from outcrop.core.settings import AlertBudget
from outcrop.core.store.readonly import to_json

if TYPE_CHECKING:
    from outcrop.api.app import ApiHandlers

RunQuery = Callable[[str, dict[str, Any]], pa.Table]
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


class CostApi:
    """The cost endpoints, on the read API's store, settings and token."""

    def __init__(self, handlers: ApiHandlers) -> None:
        self._handlers = handlers

    def burndown(self, request: Request) -> Response:
        """Every budget's burn-down as of `?at=` (ISO 8601 UTC; default now)."""
        h = self._handlers
        h._require_reader(request)
        at_text = request.query_params.get("at")
        at = parse_time(at_text, "at") if at_text else h.clock()

        def run(name: str, params: dict[str, Any]) -> pa.Table:
            return run_query(h.reader, name, params)

        body = [budget_burndown(run, b, at) for b in h.settings.alerts.budgets]
        return Response(to_json(body), media_type="application/json")


def budget_burndown(run: RunQuery, budget: AlertBudget, at: datetime) -> dict[str, Any]:
    """One budget's period: spend so far, the daily cumulative actuals and the forecast points."""
    status = budget_status(run, budget, at)
    at = floor_to(at, MINUTE)  # as budget_status: the rollups count by minute
    start, end = status.start, status.end
    daily = _daily(run, budget, start, at) if at > start else {}
    days, total = [], 0.0
    for i in range(-((start - at) // DAY)):  # the days begun before `at`, the current one too
        day = (start + timedelta(days=i)).date()
        total += daily.get(day, 0.0)
        point = min(start + timedelta(days=i + 1), at)
        days.append({"day": day, "ts": point, "cost_usd": daily.get(day, 0.0), "cumulative_usd": total})
    method, forecast = _forecast_points(run, budget, status.spent_usd, start, end, at)
    row = status.row()
    return {**row, "start": start, "end": end, "at": at, "method": method, "days": days, "forecast": forecast}


def _forecast_points(run: RunQuery, budget: AlertBudget, spent: float, start: datetime, end: datetime,
                     at: datetime) -> tuple[str | None, list[dict[str, Any]]]:
    """The forecast line from `at` to each midnight after it, up to `end`, with the method
    budget_status chose: the weekday pattern for a month with enough history, else linear."""
    if at <= start:
        return None, []  # nothing of the period has elapsed: no rate to project
    factors = None
    if budget.period == "month":
        today = at.date()
        factors = weekday_factors(_daily(run, budget, _midnight(today - timedelta(days=HISTORY_DAYS)),
                                         _midnight(today)), today)
    marks = [floor_to(at, DAY) + timedelta(days=i + 1)
             for i in range((end - floor_to(at, DAY)).days)]
    limit = budget.limit_usd
    if factors is not None and weekday_forecast(spent, start, end, at, limit, factors) is not None:
        points = [_value(weekday_forecast(spent, start, t, at, limit, factors)) for t in marks]
        method = "weekday"
    else:
        points = [_value(linear_forecast(spent, start, t, at, limit)) for t in marks]
        method = "linear"
    line = [{"ts": at, "cumulative_usd": spent}]
    line += [{"ts": t, "cumulative_usd": v} for t, v in zip(marks, points, strict=True)]
    return method, line


def _value(forecast: tuple[float | None, datetime | None] | None) -> float | None:
    return None if forecast is None else forecast[0]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _daily(run: RunQuery, budget: AlertBudget, lo: datetime, hi: datetime) -> dict[date, float]:
    """The budget scope's priced spend per UTC day over [lo, hi) (unpriced calls add nothing)."""
    params = {"from": lo.isoformat() + "Z", "to": hi.isoformat() + "Z", "by": [], "where": budget.scope.where()}
    table = run("daily_cost", params)
    daily: dict[date, float] = {}
    for bucket, cost in zip(table.column("day").to_pylist(), table.column("cost_usd").to_pylist(), strict=True):
        day = bucket.date() if isinstance(bucket, datetime) else date.fromisoformat(str(bucket)[:10])
        daily[day] = daily.get(day, 0.0) + (cost or 0.0)
    return daily

