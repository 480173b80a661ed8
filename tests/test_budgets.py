"""Budgets: spend so far from the rollups' cost, linear forecast-to-breach, one alert per
period and threshold, a new period resetting, scope by tenant, and `--at` a past time.

Hand-computed data: one call a day at noon with 1,000,000 input tokens of a model priced
at $10 per million input tokens, so every day costs exactly $10."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from outcrop.analytics.alerts import evaluate_alerts, list_alerts
from outcrop.analytics.rollups import run_rollups
from outcrop.cli.main import main
from outcrop.core.settings import Settings
from outcrop.core.store.writer import Store
from tests.conftest import make_settings
from tests.test_alerts import Receiver
from tests.test_rollups_fixtures import insert_calls

MODEL = "test.budget-model"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
DEC = datetime(2026, 12, 1)


def settings_for(url: str, **budget: Any) -> Settings:
    b = {"name": "acme-monthly", "scope": {"tenant": "acme"}, "period": "month", "limit_usd": 200.0,
         "channels": ["ops"], **budget}
    return make_settings(
        pricing={"use_genai_prices": False,
                 "overrides": [{"model": MODEL, "input_per_mtok": 10.0, "output_per_mtok": 0.0}]},
        alerts={"channels": {"ops": {"type": "webhook", "url": url}}, "budgets": [b]})


def add_days(store: Store, settings: Settings, first: datetime, days: int, tenant: str = "acme") -> None:
    """One $10 call at noon on each of `days` days from `first`; then the rollups."""
    rows = [{"call_id": f"{tenant}-{first:%Y%m%d}-{i}", "ts": first + timedelta(days=i, hours=12),
             "tenant": tenant, "model": MODEL, "input_tokens": 1_000_000, "output_tokens": 0}
            for i in range(days)]
    last = first + timedelta(days=days + 1)
    store.write(lambda con: insert_calls(con, rows, first))
    store.write(lambda con: run_rollups(con, settings.pricing, last))


def budget_alerts(store: Store) -> list[tuple[str, str, str]]:
    rows = list_alerts(store, "all")
    return sorted((r["group"]["period"], r["group"]["threshold"], r["state"]) for r in rows)


def test_linear_burn_spent_forecast_and_breach_to_the_day(store: Store, hook: Receiver,
                                                          capsys: Any, db_path: str) -> None:
    settings = settings_for(hook.url)
    add_days(store, settings, DEC, 20)  # the 1st .. the 20th; the 10th onwards lie after `at`
    outcome = evaluate_alerts(store, settings, datetime(2026, 12, 10))
    assert outcome["budgets"] == 1
    # $90 of $200 = 45%: no threshold crossed; $10/day over 31 days = $310, out on the 21st
    assert budget_alerts(store) == [("2026-12", "forecast", "firing")]
    (body,) = hook.bodies
    assert body["kind"] == "budget_forecast"
    assert body["group"] == {"budget": "acme-monthly", "period": "2026-12", "threshold": "forecast"}
    assert body["message"] == ("acme-monthly: at this burn rate tenant=acme's monthly budget runs out on the "
                               "21st (2026-12-21); forecast $310.00 of $200.00 by the end of month 2026-12")
    assert body["value"] == pytest.approx(310 / 200)


def test_report_budgets_on_the_file_as_of_a_past_time(store: Store, hook: Receiver,
                                                      capsys: Any, db_path: str, tmp_path: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(hook.url)
    add_days(store, settings, DEC, 20)
    store.close()
    (tmp_path / "outcrop.toml").write_text(
        '[pricing]\nuse_genai_prices = false\n'
        f'[[pricing.overrides]]\nmodel = "{MODEL}"\ninput_per_mtok = 10.0\noutput_per_mtok = 0.0\n'
        '[[alerts.budgets]]\nname = "acme-monthly"\nscope = { tenant = "acme" }\nperiod = "month"\n'
        'limit_usd = 200.0\n')
    monkeypatch.chdir(tmp_path)
    assert main(["report", "budgets", "--at", "2026-12-10T00:00:00Z", "--db", db_path, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row == {"name": "acme-monthly", "period": "2026-12", "scope": "tenant=acme", "spent_usd": 90.0,
                   "limit_usd": 200.0, "share": 0.45, "forecast_usd": pytest.approx(310.0),
                   "breach_date": "2026-12-21"}
    assert main(["report", "budgets", "--at", "2026-12-05T00:00:00Z", "--db", db_path, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["spent_usd"], row["breach_date"]) == (40.0, "2026-12-21")  # 4 days; same rate
    assert main(["report", "budgets", "--at", "yesterday", "--db", db_path]) == 2
    assert "'--at'" in capsys.readouterr().err


def test_each_threshold_fires_once_per_period_and_a_new_period_resets(store: Store,
                                                                      hook: Receiver) -> None:
    settings = settings_for(hook.url)
    add_days(store, settings, DEC, 31)
    add_days(store, settings, datetime(2027, 1, 1), 3)
    for day in (11, 12, 17, 21, 25):  # $100 (50%), $110, $160 (80%), $200 (100%), $240
        evaluate_alerts(store, settings, datetime(2026, 12, day))
    fired = [(b["group"]["threshold"], b["event"]) for b in hook.bodies]
    # deliveries run in parallel: the 11th's two notices may arrive in either order
    assert sorted(fired) == [("0.5", "firing"), ("0.8", "firing"), ("1", "firing"), ("forecast", "firing")]
    assert budget_alerts(store) == [("2026-12", "0.5", "firing"), ("2026-12", "0.8", "firing"),
                                    ("2026-12", "1", "firing"), ("2026-12", "forecast", "firing")]
    spent = next(r for r in list_alerts(store, "all") if r["group"]["threshold"] == "1")
    assert spent["message"] == ("acme-monthly: spent $240.00 of $200.00 (120%) in month 2026-12 for "
                                "tenant=acme; threshold 100%")
    evaluate_alerts(store, settings, datetime(2027, 1, 3))  # $20 of January: 2 days
    assert budget_alerts(store) == [("2026-12", "0.5", "resolved"), ("2026-12", "0.8", "resolved"),
                                    ("2026-12", "1", "resolved"), ("2026-12", "forecast", "resolved"),
                                    ("2027-01", "forecast", "firing")]  # $10/day: $310 > $200 again
    assert len(hook.bodies) == 5  # the old period closes quietly; January's forecast fires anew


def test_scope_counts_only_its_tenant(store: Store, hook: Receiver) -> None:
    settings = settings_for(hook.url, thresholds=[0.05])
    add_days(store, settings, DEC, 9)
    add_days(store, settings, DEC, 9, tenant="globex")
    add_days(store, settings, DEC, 9, tenant="initech")
    at = datetime(2026, 12, 10)
    evaluate_alerts(store, settings, at)
    (row,) = [r for r in list_alerts(store, "all") if r["group"]["threshold"] == "0.05"]
    assert row["value"] == pytest.approx(90 / 200)  # acme's $90 only, not $270
    everyone = settings_for(hook.url, name="all", scope={}, thresholds=[0.05])
    evaluate_alerts(store, everyone, at)
    (row,) = [r for r in list_alerts(store, "all") if r["rule"] == "all" and r["group"]["threshold"] == "0.05"]
    assert row["value"] == pytest.approx(270 / 200)


def test_a_day_budget_and_no_breach_without_spend(store: Store, hook: Receiver) -> None:
    settings = settings_for(hook.url, period="day", limit_usd=15.0)
    add_days(store, settings, DEC, 2)  # $10 at noon on the 1st and the 2nd
    evaluate_alerts(store, settings, datetime(2026, 12, 2, 6))  # nothing yet today
    assert budget_alerts(store) == []
    evaluate_alerts(store, settings, datetime(2026, 12, 2, 13))  # $10 in 13 h: $18.46 by midnight
    assert budget_alerts(store) == [("2026-12-02", "0.5", "firing"), ("2026-12-02", "forecast", "firing")]
    (forecast,) = [b for b in hook.bodies if b["kind"] == "budget_forecast"]
    assert "daily budget runs out at 19:30 UTC" in forecast["message"]  # 15 / (10 / 13 h) = 19.5 h


def test_report_budgets_through_the_running_server(server_factory: Any, db_path: str, tmp_path: Any,
                                                   monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    pricing = {"use_genai_prices": False,
               "overrides": [{"model": MODEL, "input_per_mtok": 10.0, "output_per_mtok": 0.0}]}
    running = server_factory(pricing=pricing)
    add_days(running.store, make_settings(pricing=pricing), DEC, 20)
    (tmp_path / "outcrop.toml").write_text(
        '[[alerts.budgets]]\nname = "everyone"\nperiod = "month"\nlimit_usd = 400.0\n')
    monkeypatch.chdir(tmp_path)  # the budgets are the command's config; the spend is the server's
    assert main(["report", "budgets", "--at", "2026-12-10T00:00:00Z", "--db", db_path, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["scope"], row["spent_usd"], row["share"], row["breach_date"]) == ("all", 90.0, 0.225, None)
    assert row["forecast_usd"] == pytest.approx(310.0)  # under $400: no breach this month


def test_weekday_pattern_with_two_weeks_of_history(store: Store, hook: Receiver) -> None:
    """$10 each weekday, nothing at weekends, from Monday 2 November: by Thursday 10 December
    four full weeks of history give weekday factors 1.4 (10 / (50/7)) and weekend 0. December's
    7 weekdays so far cost $70; the 16 weekdays left add $160: forecast $230 (linear: $241.11).
    $195 is reached halfway through the 13th weekday left, Monday the 28th (linear: the 26th)."""
    settings = settings_for(hook.url, limit_usd=195.0)
    first = datetime(2026, 11, 2)
    weekdays = [first + timedelta(days=i) for i in range(60) if (first + timedelta(days=i)).weekday() < 5]
    rows = [{"call_id": f"wd-{d:%Y%m%d}", "ts": d + timedelta(hours=12), "tenant": "acme", "model": MODEL,
             "input_tokens": 1_000_000, "output_tokens": 0} for d in weekdays]
    store.write(lambda con: insert_calls(con, rows, first))
    store.write(lambda con: run_rollups(con, settings.pricing, datetime(2027, 1, 2)))
    evaluate_alerts(store, settings, datetime(2026, 12, 10))
    (row,) = [r for r in list_alerts(store, "all") if r["group"]["threshold"] == "forecast"]
    assert row["value"] == pytest.approx(230 / 195)
    assert "runs out on the 28th (2026-12-28); forecast $230.00 of $195.00" in row["message"]


def test_daily_cost_has_one_row_a_day_with_that_days_spend(store: Store, hook: Receiver) -> None:
    from outcrop.analytics.queries import run_query

    settings = settings_for(hook.url)
    add_days(store, settings, DEC, 3)  # $10 a day for acme, on Dec 1, 2 and 3
    add_days(store, settings, DEC + timedelta(days=1), 1, tenant="globex")  # $10 on Dec 2
    # from the middle of Dec 1 (the noon call is in) to 06:00 on Dec 3 (its noon call is not)
    rows = run_query(store, "daily_cost", {
        "from": "2026-12-01T06:00:00Z", "to": "2026-12-03T06:00:00Z", "by": ["tenant"], "where": {}}).to_pylist()
    assert [(r["day"].day, r["tenant"], r["requests"], r["cost_usd"]) for r in rows] == [
        (1, "acme", 1, 10.0), (2, "acme", 1, 10.0), (2, "globex", 1, 10.0)]
