"""Daily forecasts with prediction intervals: exponential smoothing (ETS) chosen by AICc.

`forecast_daily` is a pure function from a daily series to the next days' point forecasts
and their interval. The model is statsforecast's AutoETS, which fits the error, trend
(none, additive, additive damped) and season forms and keeps the one with the lowest
AICc, as R's forecast::ets does (Hyndman & Khandakar 2008,
https://doi.org/10.18637/jss.v027.i03). Multiplicative forms are only tried on series
with no zero, so a day without calls never breaks a fit. Its intervals are the ETS
model's analytical ones (Hyndman et al. 2008, ch. 6); bounds are clipped at 0, as a peak
is never negative.

The series runs from its first day with a value to `through`, the last complete day;
a day in between with no value is a day without calls, so its peak is 0. From 14 days
on the model has a weekly season (period 7, additive or multiplicative); below that it
has none (with one of each weekday, a weekday's effect cannot be told from noise). With
fewer than MIN_HISTORY_DAYS there is no forecast, and `NoForecast` says why. The fit has
no randomness: the same series gives the same forecast.

docs/forecasting.md has the method, the backtest figures and why this library.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from outcrop.core.errors import QueryError
from outcrop.core.settings import Settings

MIN_HISTORY_DAYS = 7
SEASONAL_MIN_DAYS = 14  # two of each weekday before a weekly pattern is fitted
SEASON_LENGTH = 7
LEVEL = 95  # percent: the prediction interval reported and held against quotas
MAX_HORIZON_DAYS = 366


class NoForecast(ValueError):
    """The series cannot be forecast (too little history); the message says why."""


@dataclass(frozen=True, slots=True)
class DayForecast:
    day: date
    value: float
    lo: float
    hi: float


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast of the `days` after the history's last day, at `level` percent."""

    days: tuple[DayForecast, ...]
    level: int
    method: str  # the chosen model, e.g. "ETS(A,Ad,A)": error, trend, season
    seasonal: bool  # whether the model has the weekly season
    history_days: int


def history(daily: Mapping[date, float], through: date) -> list[float]:
    """The values from the first day with one up to `through`, a missing day as 0."""
    known = [d for d in daily if d <= through]
    if not known:
        return []
    first = min(known)
    return [float(daily.get(first + timedelta(days=i), 0.0)) for i in range((through - first).days + 1)]


def forecast_daily(daily: Mapping[date, float], through: date, horizon_days: int,
                   level: int = LEVEL) -> Forecast:
    """Forecast the `horizon_days` days after `through` from the days up to it.

    Values after `through` are ignored. Raises NoForecast with fewer than
    MIN_HISTORY_DAYS days from the first value to `through`.
    """
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ValueError(f"horizon_days must be from 1 to {MAX_HORIZON_DAYS}, got {horizon_days}")
    if not 50 <= level < 100:
        raise ValueError(f"level must be a percentage from 50 to 99, got {level}")
    values = history(daily, through)
    if len(values) < MIN_HISTORY_DAYS:
        raise NoForecast(f"{len(values)} day(s) of history up to {through.isoformat()}, "
                         f"fewer than the {MIN_HISTORY_DAYS} a forecast needs")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError("a daily peak must be a finite number of at least 0")
    seasonal = len(values) >= SEASONAL_MIN_DAYS
    method, mean, lo, hi = _fit_predict(tuple(values), SEASON_LENGTH if seasonal else 1, horizon_days, level)
    days = tuple(
        DayForecast(through + timedelta(days=i + 1), max(float(m), 0.0), max(float(low), 0.0), max(float(high), 0.0))
        for i, (m, low, high) in enumerate(zip(mean, lo, hi, strict=True)))
    return Forecast(days, level, method, seasonal, len(values))


@functools.lru_cache(maxsize=1024)
def _fit_predict(values: tuple[float, ...], season_length: int, horizon: int,
                 level: int) -> tuple[str, tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """The chosen model and its mean, lo and hi per future day.

    Cached on the series itself: a daily series changes only when a day completes (or late
    data rewrites one), so the alerts job, which evaluates every minute, fits each group
    once a day instead of each time, and a changed series is simply a new key.
    """
    method, mean, lo, hi = _fit(np.asarray(values), season_length, horizon, level)
    return method, tuple(float(v) for v in mean), tuple(float(v) for v in lo), tuple(float(v) for v in hi)


def _fit(y: np.ndarray, season_length: int, horizon: int,
         level: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    # imported here: statsforecast brings numba and takes a second to import, which
    # commands that never forecast should not pay
    from statsforecast.models import AutoETS

    if float(np.ptp(y)) == 0.0:
        # a constant series has no error to fit (AutoETS would divide by zero): it stays flat
        flat = np.full(horizon, y[0])
        return "constant", flat, flat, flat
    best: Any = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # AutoETS warns on candidate models that cannot be fitted; it skips them
        warnings.simplefilter("ignore", RuntimeWarning)
        for spec in _candidates(y, season_length):
            try:
                model = AutoETS(season_length=season_length, model=spec).fit(y)
            except Exception as exc:  # AutoETS raises a bare Exception when no form of `spec` fits
                if "no model able to be fitted" not in str(exc):
                    raise
                continue
            if best is None or model.model_["aicc"] < best.model_["aicc"]:
                best = model
        if best is None:
            raise NoForecast(f"no exponential smoothing model fits the {len(y)} days of history")
        out = best.predict(h=horizon, level=[level])
    return (str(best.model_["method"]), np.asarray(out["mean"]), np.asarray(out[f"lo-{level}"]),
            np.asarray(out[f"hi-{level}"]))


def _candidates(y: np.ndarray, season_length: int) -> tuple[str, ...]:
    """AutoETS model strings (error, trend, season; Z = chosen by AICc) to fit.

    With the weekly period, only seasonal forms: at 14 to 20 days the AICc penalty of six
    seasonal states rejects even a strong weekday/weekend pattern about half the time
    (docs/forecasting.md), and daily LLM traffic nearly always has one. A multiplicative
    season needs every day above 0.
    """
    if season_length == 1:
        return ("ZZN",)
    return ("ZZA", "ZZM") if float(y.min()) > 0 else ("ZZA",)


# -- daily peaks per group: `outcrop report forecast`, the read API and the capacity rule --

RunQuery = Callable[[str, dict[str, Any]], pa.Table]
PEAK_METRICS = ("peak_rpm", "peak_tpm", "peak_quota_tpm")
FORECAST_KEYS = ("tenant", "model", "region")  # the keys the capacity rollups keep
HISTORY_DAYS = 56  # eight weeks: enough for the weekly season, short enough to follow a change
MAX_HISTORY_DAYS = 366
MIN_HORIZON_DAYS, MAX_REPORT_HORIZON_DAYS, DEFAULT_HORIZON_DAYS = 7, 30, 14
Group = tuple[str | None, ...]  # the values of the `by` keys, in FORECAST_KEYS order


@dataclass(frozen=True, slots=True)
class GroupForecast:
    """The forecasts of one group, by metric, or why there is none."""

    group: dict[str, str | None]
    forecasts: dict[str, Forecast]
    reason: str | None = None  # set when `forecasts` is empty


def day_window(at: datetime, history_days: int) -> tuple[date, date]:
    """The history as of `at`: the `history_days` complete UTC days before `at`'s day
    (first, last). `at`'s own day is partial, so it is never fitted."""
    today = at.date()
    return today - timedelta(days=history_days), today - timedelta(days=1)


def read_daily_peaks(run: RunQuery, by: Sequence[str], where: Mapping[str, Any], first: date,
                     last: date) -> dict[Group, dict[str, dict[date, float]]]:
    """The `daily_peaks` of [first, last] per group: metric -> day -> peak."""
    params = {"from": f"{first.isoformat()}T00:00:00Z", "to": f"{(last + timedelta(days=1)).isoformat()}T00:00:00Z",
              "by": list(by), "where": dict(where)}
    table = run("daily_peaks", params)
    if getattr(run, "truncated", False):  # a runner that cut the answer at server.query_max_rows
        raise QueryError("daily_peaks answered more rows than server.query_max_rows; "
                         "narrow the groups with --where or shorten the history")
    keys = [k for k in FORECAST_KEYS if k in by]
    out: dict[Group, dict[str, dict[date, float]]] = {}
    for row in table.to_pylist():
        series = out.setdefault(tuple(row[k] for k in keys), {m: {} for m in PEAK_METRICS})
        day = _day(row["day"])
        for metric in PEAK_METRICS:
            if row[metric] is not None:
                series[metric][day] = float(row[metric])
    return out


def forecast_groups(run: RunQuery, by: Sequence[str], where: Mapping[str, Any], at: datetime,
                    horizon_days: int, history_days: int = HISTORY_DAYS,
                    metrics: Sequence[str] = PEAK_METRICS, level: int = LEVEL) -> list[GroupForecast]:
    """Each group's forecast of the `horizon_days` days after `at`'s day, from the
    `history_days` complete days before it (groups with no call in them are not shown)."""
    unknown = [k for k in by if k not in FORECAST_KEYS]
    if unknown:
        raise QueryError(f"a forecast groups by {', '.join(FORECAST_KEYS)} only, got {', '.join(unknown)}")
    first, last = day_window(at, history_days)
    keys = [k for k in FORECAST_KEYS if k in by]
    out = []
    for values, series in sorted(read_daily_peaks(run, keys, where, first, last).items(), key=_sort_key):
        group = dict(zip(keys, values, strict=True))
        try:
            # +1: the day of `at` is forecast too, then left out (its peak may lie behind `at`)
            forecasts = {m: _after_today(forecast_daily(series[m], last, horizon_days + 1, level)) for m in metrics}
        except NoForecast as exc:
            out.append(GroupForecast(group, {}, str(exc)))
            continue
        out.append(GroupForecast(group, forecasts))
    return out


def _after_today(forecast: Forecast) -> Forecast:
    return Forecast(forecast.days[1:], forecast.level, forecast.method, forecast.seasonal, forecast.history_days)


def _sort_key(item: tuple[Group, Any]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in item[0])


def _day(value: Any) -> date:
    # a local read gives a datetime; the read API gives ISO text
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()


def forecast_table(run: RunQuery, settings: Settings, by: Sequence[str], where: Mapping[str, Any],
                   at: datetime, horizon_days: int,
                   history_days: int = HISTORY_DAYS) -> tuple[pa.Table, list[str]]:
    """`outcrop report forecast`: one row per group and day, each peak's forecast with its
    `_lo` / `_hi` bounds, and `quota_tpm` where a quota is known (grouped by model and
    region); and, for each group with no forecast, why not."""
    if not MIN_HORIZON_DAYS <= horizon_days <= MAX_REPORT_HORIZON_DAYS:
        raise QueryError(f"horizon_days must be from {MIN_HORIZON_DAYS} to {MAX_REPORT_HORIZON_DAYS}, "
                         f"got {horizon_days}")
    if not MIN_HISTORY_DAYS <= history_days <= MAX_HISTORY_DAYS:
        raise QueryError(f"history_days must be from {MIN_HISTORY_DAYS} to {MAX_HISTORY_DAYS}, got {history_days}")
    groups = forecast_groups(run, by, where, at, horizon_days, history_days)
    keys = [k for k in FORECAST_KEYS if k in by]
    quotas = _quota_tpm(settings, [g.group for g in groups if g.forecasts]) if {"model", "region"} <= set(keys) \
        else {}
    rows, notes = [], []
    for g in groups:
        if not g.forecasts:
            notes.append(f"{_group_text(g.group)}: no forecast: {g.reason}")
            continue
        model, region = g.group.get("model"), g.group.get("region")
        quota = quotas.get((model, region)) if model is not None and region is not None else None
        for i, day in enumerate(g.forecasts[PEAK_METRICS[0]].days):
            row: dict[str, Any] = {**g.group, "date": day.day}
            for metric in PEAK_METRICS:
                d = g.forecasts[metric].days[i]
                row |= {metric: d.value, f"{metric}_lo": d.lo, f"{metric}_hi": d.hi}
            rows.append(row | {"quota_tpm": quota})
    return pa.Table.from_pylist(rows, schema=_schema(keys)), notes


def _schema(keys: Sequence[str]) -> pa.Schema:
    fields = [pa.field(k, pa.string()) for k in keys] + [pa.field("date", pa.date32())]
    fields += [pa.field(f"{m}{end}", pa.float64()) for m in PEAK_METRICS for end in ("", "_lo", "_hi")]
    return pa.schema([*fields, pa.field("quota_tpm", pa.int64())])


def _quota_tpm(settings: Settings, groups: Sequence[dict[str, str | None]]) -> dict[tuple[str, str], int | None]:
    from outcrop.analytics.capacity import resolve_quotas

    pairs = sorted({(m, r) for g in groups if (m := g["model"]) is not None and (r := g["region"]) is not None})
    return {pair: quota.tpm for pair, quota in resolve_quotas(settings, pairs).items()}


def _group_text(group: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "all calls"
