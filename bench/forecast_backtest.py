"""Backtest: the daily-peak forecast (analytics.forecast) on held-out days, against a
seasonal naive baseline measured in the same run.

Series: synthetic daily peaks (growth + weekly pattern + multiplicative noise, with a
rare spike, one per seed) and the daily peak-minute requests of the `outcrop demo`
workload (outcrop.demo.schedule: diurnal and weekly traffic, hourly batch runs, one
throttle burst per afternoon). Each is fitted on its first N days; the next 7 or 14 days
are held out. Figures: MAPE of the point forecast, coverage of the 95% interval, and the
same for the seasonal naive forecast (the same weekday of the last week seen, with the
interval of Hyndman & Athanasopoulos, FPP3 5.5: sd of the weekly differences ×
sqrt(weeks ahead)); then the ratio ETS / baseline. Also the fit + predict time.

    .venv/bin/python bench/forecast_backtest.py [--seeds 20] [--demo-seeds 3]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from outcrop.analytics.forecast import LEVEL, forecast_daily  # noqa: E402
from outcrop.demo import schedule as demo_schedule  # noqa: E402

FIRST = date(2026, 9, 7)  # a Monday
WEEK = np.array([1.0, 1.08, 1.12, 1.1, 0.97, 0.55, 0.45])  # Monday .. Sunday
SPLITS = ((28, 7), (28, 14), (56, 7), (56, 14))  # (days fitted, days held out)
Z = 1.959964  # the normal quantile of a two-sided 95% interval


def synthetic(seed: int, days: int) -> np.ndarray:
    """A model's daily peak TPM: 40k growing 0.4-1.2% a day, the weekly pattern, 8% noise
    and one spike day (a batch backfill) of 1.5-2.5x somewhere in the series."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    growth = rng.uniform(0.004, 0.012)
    y = 40_000 * (1 + growth) ** t * WEEK[t % 7] * rng.lognormal(0, 0.08, days)
    y[rng.integers(0, days)] *= rng.uniform(1.5, 2.5)
    return np.asarray(y)


def demo_peaks(seed: int, days: int, per_hour: float) -> np.ndarray:
    """Peak-minute requests of each UTC day of the demo workload (all tenants together)."""
    rng = random.Random(seed)
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
    start_ns = int(start.timestamp() * 1e9)
    end_ns = start_ns + days * demo_schedule.DAY_NS
    spikes = demo_schedule.bursts(rng, start_ns, end_ns, end_ns)
    per_minute: dict[int, int] = {}
    for req in demo_schedule.schedule(rng, start_ns, end_ns, end_ns, per_hour, spikes):
        minute = (req.start_ns - start_ns) // demo_schedule.MINUTE_NS
        per_minute[minute] = per_minute.get(minute, 0) + 1
    peaks = np.zeros(days)
    for minute, n in per_minute.items():
        peaks[minute // 1440] = max(peaks[minute // 1440], n)
    return peaks


def seasonal_naive(history: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same weekday of the last week, with its 95% interval (FPP3 5.5)."""
    last_week = history[-7:]
    mean = np.array([last_week[h % 7] for h in range(horizon)])
    sigma = float(np.std(history[7:] - history[:-7], ddof=1))
    width = np.array([Z * sigma * math.sqrt(h // 7 + 1) for h in range(horizon)])
    return mean, np.maximum(mean - width, 0), mean + width


class Score:
    def __init__(self) -> None:
        self.errors: list[float] = []
        self.inside = 0
        self.points = 0

    def add(self, actual: np.ndarray, mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.errors += [abs(a - m) / a for a, m in zip(actual, mean, strict=True) if a > 0]
        self.inside += int(((lo <= actual) & (actual <= hi)).sum())
        self.points += len(actual)

    @property
    def mape(self) -> float:
        return 100 * statistics.fmean(self.errors)

    @property
    def coverage(self) -> float:
        return 100 * self.inside / self.points


def backtest(series: list[np.ndarray], fitted: int, held: int, fit_times: list[float]) -> tuple[Score, Score]:
    ets, naive = Score(), Score()
    for y in series:
        history, actual = y[:fitted], y[fitted:fitted + held]
        daily = {FIRST + timedelta(days=i): float(v) for i, v in enumerate(history)}
        began = time.perf_counter()
        forecast = forecast_daily(daily, FIRST + timedelta(days=fitted - 1), held)
        fit_times.append(time.perf_counter() - began)
        ets.add(actual, *(np.array([getattr(d, k) for d in forecast.days]) for k in ("value", "lo", "hi")))
        naive.add(actual, *seasonal_naive(history, held))
    return ets, naive


def report(name: str, series: list[np.ndarray], fit_times: list[float]) -> Iterator[str]:
    for fitted, held in SPLITS:
        ets, naive = backtest(series, fitted, held, fit_times)
        yield (f"| {name} | {len(series)} | {fitted} | {held} | {ets.mape:.1f}% | {naive.mape:.1f}% | "
               f"{ets.mape / naive.mape:.2f}x | {ets.coverage:.1f}% | {naive.coverage:.1f}% |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--demo-seeds", type=int, default=3)
    parser.add_argument("--demo-per-hour", type=float, default=600.0, help="demo traces per hour")
    args = parser.parse_args()
    days = max(f + h for f, h in SPLITS)
    began = time.perf_counter()
    import statsforecast.models  # noqa: F401  - timed apart from the fits

    import_seconds = time.perf_counter() - began
    fit_times: list[float] = []
    print(f"{LEVEL}% intervals; MAPE over held-out days; ratio = ETS MAPE / seasonal naive MAPE")
    print("| series | count | days fitted | days held out | ETS MAPE | seasonal naive MAPE | ratio "
          "| ETS coverage | naive coverage |")
    print("|---|---|---|---|---|---|---|---|---|")
    for line in report("synthetic", [synthetic(s, days) for s in range(args.seeds)], fit_times):
        print(line, flush=True)
    demo = [demo_peaks(s, days, args.demo_per_hour) for s in range(args.demo_seeds)]
    for line in report("demo workload", demo, fit_times):
        print(line, flush=True)
    print(f"\nimport statsforecast.models: {import_seconds:.2f} s; fit + predict: first "
          f"{fit_times[0] * 1000:.0f} ms, median {statistics.median(fit_times[1:]) * 1000:.0f} ms, "
          f"max {max(fit_times[1:]) * 1000:.0f} ms over {len(fit_times) - 1} more")


if __name__ == "__main__":
    main()
