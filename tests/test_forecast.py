"""The daily forecast: its interval covers a series of known noise, the weekly season from
14 days on and not before, too little history refused with a reason, days without calls
counted as zero peaks, and the same series giving the same forecast."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from outcrop.analytics.forecast import MIN_HISTORY_DAYS, NoForecast, forecast_daily, history

MONDAY = date(2026, 10, 5)
# Monday .. Sunday: weekdays busy, weekends quiet, as most LLM traffic is
WEEK = np.array([1.0, 1.1, 1.15, 1.1, 1.0, 0.6, 0.5])


def series(values: np.ndarray | list[float], first: date = MONDAY) -> dict[date, float]:
    return {first + timedelta(days=i): float(v) for i, v in enumerate(values)}


def weekly(days: int, seed: int, sigma: float = 100.0, growth: float = 10.0) -> np.ndarray:
    """(2000 + growth × t) × the weekday's factor + N(0, sigma): trend, week and known noise."""
    t = np.arange(days)
    return (2000 + growth * t) * WEEK[t % 7] + np.random.default_rng(seed).normal(0, sigma, days)


@pytest.mark.parametrize(("level", "low", "high"), [(80, 0.68, 0.90), (95, 0.88, 0.99)])
def test_the_interval_covers_held_out_days_of_a_series_with_known_noise(level: int, low: float,
                                                                        high: float) -> None:
    # 40 seeds x 7 held-out days = 280 points. ETS intervals leave out the uncertainty of
    # the fitted parameters, so they cover a little less than their level (docs/forecasting.md)
    inside = total = 0
    for seed in range(40):
        y = weekly(42 + 7, seed)
        forecast = forecast_daily(series(y[:42]), MONDAY + timedelta(days=41), 7, level)
        assert [d.day for d in forecast.days] == [MONDAY + timedelta(days=42 + k) for k in range(7)]
        for k, day in enumerate(forecast.days):
            assert day.lo <= day.value <= day.hi
            total += 1
            inside += day.lo <= y[42 + k] <= day.hi
    assert low <= inside / total <= high


def test_from_14_days_the_forecast_follows_the_weekly_pattern() -> None:
    y = weekly(14, seed=3, sigma=20.0, growth=0.0)
    forecast = forecast_daily(series(y), MONDAY + timedelta(days=13), 7)
    assert forecast.seasonal and forecast.history_days == 14
    assert forecast.method.endswith(("A)", "M)"))  # a seasonal ETS form
    # days 14..20 are Monday..Sunday again: each within 5% of 2000 x its weekday's factor
    for k, day in enumerate(forecast.days):
        assert day.day.weekday() == k
        assert day.value == pytest.approx(2000 * WEEK[k], rel=0.05)


def test_below_14_days_there_is_no_weekly_season() -> None:
    y = weekly(13, seed=3, sigma=20.0, growth=0.0)
    forecast = forecast_daily(series(y), MONDAY + timedelta(days=12), 7)
    assert not forecast.seasonal
    assert forecast.method.endswith(",N)")
    values = [d.value for d in forecast.days]
    # a forecast without a season is flat, a line or a damped line: it never turns back,
    # so the quiet weekend of the pattern cannot appear in it
    steps = np.diff(values)
    assert (steps >= -1e-9).all() or (steps <= 1e-9).all()
    assert max(values) - min(values) < 0.2 * 2000


def test_too_little_history_gives_a_reason_instead_of_a_forecast() -> None:
    daily = series([120.0, 150.0, 130.0, 160.0, 140.0, 170.0])  # 6 days
    with pytest.raises(NoForecast, match=r"6 day\(s\) of history up to 2026-10-10, fewer than the 7"):
        forecast_daily(daily, MONDAY + timedelta(days=5), 14)
    assert MIN_HISTORY_DAYS == 7
    # the seventh day makes it enough
    daily[MONDAY + timedelta(days=6)] = 150.0
    assert len(forecast_daily(daily, MONDAY + timedelta(days=6), 14).days) == 14


def test_a_day_without_calls_is_a_zero_peak_and_history_starts_at_the_first_call() -> None:
    daily = {MONDAY + timedelta(days=2): 5.0, MONDAY + timedelta(days=4): 7.0, MONDAY + timedelta(days=9): 1.0}
    # from the 3rd day (the first call) to `through`; the day after `through` is left out
    assert history(daily, MONDAY + timedelta(days=6)) == [5.0, 0.0, 7.0, 0.0, 0.0]
    assert history({}, MONDAY) == []


def test_bounds_are_never_below_zero_and_the_forecast_is_deterministic() -> None:
    y = [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 5.0, 0.0, 1.0, 0.0]  # sparse: a wide interval around ~1
    first = forecast_daily(series(y), MONDAY + timedelta(days=9), 5)
    assert all(d.lo == 0.0 and d.hi > d.value > 0 for d in first.days)
    assert forecast_daily(series(y), MONDAY + timedelta(days=9), 5) == first


def test_a_constant_series_stays_flat() -> None:
    forecast = forecast_daily(series([40.0] * 10), MONDAY + timedelta(days=9), 3)
    assert [(d.value, d.lo, d.hi) for d in forecast.days] == [(40.0, 40.0, 40.0)] * 3


def test_bad_arguments_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="horizon_days"):
        forecast_daily(series([1.0] * 7), MONDAY + timedelta(days=6), 0)
    with pytest.raises(ValueError, match="level"):
        forecast_daily(series([1.0] * 7), MONDAY + timedelta(days=6), 7, level=100)
