"""The daily forecast: its interval covers a series of known noise, the weekly season from
14 days on and not before, too little history refused with a reason, days without calls
counted as zero peaks, the same series giving the same forecast; and `outcrop report
forecast` on a database file and through the running server."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from outcrop.analytics.forecast import MIN_HISTORY_DAYS, NoForecast, forecast_daily, history
from outcrop.analytics.rollups import run_rollups
from outcrop.cli.main import main
from outcrop.core.store.writer import Store
from tests.conftest import make_settings
from tests.test_rollups_fixtures import insert_calls

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


# -- `outcrop report forecast` end to end, on the file and through the server --------------

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA = "amazon.nova-lite-v1:0"
NOV1 = datetime(2026, 11, 1)


def add_calls(store: Store) -> None:
    """Haiku: one call a day at noon for 30 days (1 .. 30 Nov), day i with 10,000 + 1,000 × i
    input tokens (an exact line, forecast on the line with zero width); Nova: 5 days only."""
    rows = [{"call_id": f"h{i}", "ts": NOV1 + timedelta(days=i, hours=12), "tenant": "acme", "model": HAIKU,
             "input_tokens": 10_000 + 1_000 * i, "output_tokens": 0} for i in range(30)]
    rows += [{"call_id": f"n{i}", "ts": NOV1 + timedelta(days=25 + i, hours=12), "tenant": "globex", "model": NOVA,
              "input_tokens": 500, "output_tokens": 0} for i in range(5)]
    store.write(lambda con: insert_calls(con, rows, NOV1))
    store.write(lambda con: run_rollups(con, make_settings().pricing, datetime(2026, 12, 1, 1)))


def report(capsys: Any, db_path: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["report", "forecast", "--db", db_path, "--at", "2026-12-01T00:30:00Z", "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else []), err


def check_haiku_rows(rows: list[dict[str, Any]], days: int) -> None:
    # the day of --at (1 Dec) is partial: never fitted, and the forecast starts on 2 Dec (day 31)
    assert [r["date"] for r in rows] == [f"2026-12-{2 + k:02d}" for k in range(days)]
    for k, row in enumerate(rows):
        line = 10_000 + 1_000 * (31 + k)
        assert set(row) == {"model", "region", "date", "peak_rpm", "peak_rpm_lo", "peak_rpm_hi", "peak_tpm",
                            "peak_tpm_lo", "peak_tpm_hi", "peak_quota_tpm", "peak_quota_tpm_lo",
                            "peak_quota_tpm_hi", "quota_tpm"}
        assert (row["model"], row["region"], row["quota_tpm"]) == (HAIKU, "us-east-1", 60_000)
        assert (row["peak_rpm"], row["peak_rpm_lo"], row["peak_rpm_hi"]) == (1.0, 1.0, 1.0)
        for metric in ("peak_tpm", "peak_quota_tpm"):
            for end in ("", "_lo", "_hi"):
                assert row[metric + end] == pytest.approx(line, abs=1.0)


@pytest.fixture
def toml(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "outcrop.toml").write_text(
        f'[[capacity.quotas]]\nmodel = "{HAIKU}"\nregion = "us-east-1"\ntpm = 60000\n')
    monkeypatch.chdir(tmp_path)


def test_report_forecast_on_the_file(store: Store, capsys: Any, db_path: str, toml: None) -> None:
    add_calls(store)
    store.close()
    code, rows, err = report(capsys, db_path, "--horizon-days", "7")
    assert code == 0
    check_haiku_rows(rows, 7)  # Nova has 5 days: no rows, a line on stderr instead
    assert (f"model={NOVA}, region=us-east-1: no forecast: 5 day(s) of history up to 2026-11-30, fewer than "
            "the 7 a forecast needs") in err
    # grouped by tenant there is no quota to show
    code, rows, _ = report(capsys, db_path, "--by", "tenant", "--where", "tenant=acme")
    assert code == 0 and len(rows) == 14  # the default horizon
    assert {(r["tenant"], r["quota_tpm"]) for r in rows} == {("acme", None)}
    assert "model" not in rows[0]
    # the text table, as a person reads it
    assert main(["report", "forecast", "--db", db_path, "--at", "2026-12-01T00:30:00Z", "--horizon-days", "7",
                 "--where", f"model={HAIKU}"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["model", "region", "date", "peak_rpm", "peak_rpm_lo", "peak_rpm_hi",
                                            "peak_tpm", "peak_tpm_lo", "peak_tpm_hi", "peak_quota_tpm",
                                            "peak_quota_tpm_lo", "peak_quota_tpm_hi", "quota_tpm"]
    assert "(7 rows)" in text


def test_report_forecast_refuses_bad_arguments(store: Store, capsys: Any, db_path: str, toml: None) -> None:
    store.close()
    for extra, message in ((["--by", "route"], "a forecast groups by tenant, model, region only, got route"),
                           (["--horizon-days", "31"], "horizon_days must be from 7 to 30, got 31"),
                           (["--horizon-days", "6"], "horizon_days must be from 7 to 30, got 6"),
                           (["--history-days", "3"], "history_days must be from 7 to 366, got 3")):
        code, _, err = report(capsys, db_path, *extra)
        assert (code, err.strip()) == (2, f"outcrop report: {message}")


def test_report_forecast_through_the_running_server(server_factory: Any, capsys: Any, db_path: str,
                                                    toml: None) -> None:
    running = server_factory()
    add_calls(running.store)
    code, rows, _ = report(capsys, db_path, "--horizon-days", "7", "--where", f"model={HAIKU}")
    assert code == 0
    check_haiku_rows(rows, 7)


def test_the_read_api_answers_the_same_forecast(server_factory: Any) -> None:
    running = server_factory(capacity={"quotas": [{"model": HAIKU, "region": "us-east-1", "tpm": 60_000}]})
    add_calls(running.store)
    url = running.api_url + "/v1/reports/forecast"
    params = {"where": {"model": HAIKU}, "at": "2026-12-01T00:30:00Z", "horizon_days": 7}
    answer = httpx.post(url, json={"params": params}, timeout=30)
    assert answer.status_code == 200
    check_haiku_rows(answer.json(), 7)
    bad = httpx.post(url, json={"params": {**params, "horizon_days": "7"}}, timeout=30)
    assert (bad.status_code, bad.json()["message"]) == (400, "horizon_days and history_days must be whole "
                                                             "numbers of days")
    bad = httpx.post(url, json={"params": {**params, "by": ["route"]}}, timeout=30)
    assert (bad.status_code, bad.json()["message"]) == (400, "a forecast groups by tenant, model, region only, "
                                                             "got route")
