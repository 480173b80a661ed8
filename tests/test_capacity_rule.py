"""Capacity rules: the forecast upper bound of a model's daily peak against a share of its
quota within horizon_days; no quota or too little history left unjudged; an evaluation as
of a past time sees only the days before it.

Hand-computed data: one call a day at noon, day i (0 = 1 Nov 2026) with 10,000 + 1,000 × i
input tokens and no output, so the peak TPM (and quota TPM: burndown 1, no output) of
day i is exactly 10,000 + 1,000 × i and the peak RPM is 1. A series on an exact line is
forecast on the same line with an interval of zero width, so the upper bound of day i
is 10,000 + 1,000 × i too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from outcrop.analytics.alerts import evaluate_alerts, list_alerts
from outcrop.analytics.alerts.capacity import capacity_samples
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import AlertRule, Settings
from outcrop.core.store.writer import Store
from tests.conftest import make_settings
from tests.test_alerts import Receiver
from tests.test_rollups_fixtures import insert_calls

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
REGION = "us-east-1"
NOV1 = datetime(2026, 11, 1)
KEY = '{"model":"anthropic.claude-3-5-haiku-20241022-v1:0","region":"us-east-1"}'


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def settings_for(url: str = "http://127.0.0.1:9/hook", quotas: list[dict[str, Any]] | None = None,
                 **rule: Any) -> Settings:
    r = {"name": "haiku-capacity", "kind": "capacity", "channels": ["ops"], **rule}
    quotas = [{"model": MODEL, "region": REGION, "tpm": 60_000, "rpm": 10}] if quotas is None else quotas
    return make_settings(alerts={"channels": {"ops": {"type": "webhook", "url": url}}, "rules": [r]},
                         capacity={"quotas": quotas})


def add_line(store: Store, days: int, model: str = MODEL, first: datetime = NOV1) -> None:
    """Day i: one call at noon with 10,000 + 1,000 × i input tokens; then the rollups."""
    rows = [{"call_id": f"{model}-{i}", "ts": first + timedelta(days=i, hours=12), "model": model,
             "region": REGION, "input_tokens": 10_000 + 1_000 * i, "output_tokens": 0} for i in range(days)]
    add_rows(store, rows, first + timedelta(days=days + 1))


def add_rows(store: Store, rows: list[dict[str, Any]], now: datetime) -> None:
    store.write(lambda con: insert_calls(con, rows, NOV1))
    store.write(lambda con: run_rollups(con, make_settings().pricing, now))


def samples(store: Store, settings: Settings, at: datetime) -> dict[str, Any]:
    rule: AlertRule = settings.alerts.rules[0]
    return store.write(lambda con: capacity_samples(con, rule, at, settings))  # type: ignore[no-any-return]


def test_fires_when_the_upper_bound_crosses_the_share_of_quota_within_the_horizon(
        store: Store, hook: Receiver) -> None:
    add_line(store, 30)  # 1 .. 30 Nov
    # the day of `at` is partial and never fitted: a spike in it changes nothing
    add_rows(store, [{"call_id": "spike", "ts": datetime(2026, 12, 1, 0, 10), "model": MODEL, "region": REGION,
                      "input_tokens": 5_000_000, "output_tokens": 0}], datetime(2026, 12, 1, 1))
    settings = settings_for(hook.url)
    at = datetime(2026, 12, 1, 0, 30)
    (sample,) = samples(store, settings, at).values()
    # horizon 2 .. 15 Dec = days 31 .. 44: 80% of 60,000 = 48,000 is passed on day 39 (49,000),
    # 10 Dec; the largest bound is day 44's 54,000 = 90% of the quota
    assert sample.group == {"model": MODEL, "region": REGION}
    assert sample.value == pytest.approx(0.9, abs=1e-6)
    assert sample.breaching is True
    outcome = evaluate_alerts(store, settings, at)
    assert [(c["rule"], c["state"]) for c in outcome["changes"]] == [("haiku-capacity", "firing")]
    (body,) = hook.bodies
    assert body["kind"] == "capacity"
    assert body["message"] == (
        f"haiku-capacity: at this growth the 95% upper bound of {MODEL}/{REGION}'s peak quota TPM reaches 80% "
        "of its 60,000 TPM quota on 2026-12-10 (forecast 49,000, upper bound 49,000); up to 90% within 14 days "
        "(quota from config)")


def test_does_not_fire_when_the_crossing_lies_beyond_the_horizon(store: Store) -> None:
    add_line(store, 30)
    settings = settings_for(horizon_days=7)
    (sample,) = samples(store, settings, datetime(2026, 12, 1, 0, 30)).values()
    # 2 .. 8 Dec = days 31 .. 37: at most 47,000 of 60,000 = 78.3%, under 80%
    assert sample.value == pytest.approx(47_000 / 60_000, abs=1e-6)
    assert sample.breaching is False
    assert sample.describe("ok") == (
        f"haiku-capacity: the 95% upper bound of {MODEL}/{REGION}'s peak quota TPM stays below 80% of its 60,000 "
        "TPM quota for the next 7 days: at most 78% on 2026-12-08 (forecast 47,000, upper bound 47,000; "
        "quota from config)")


def test_rpm_is_held_against_the_rpm_quota(store: Store) -> None:
    add_line(store, 30)
    # one call a minute at the peak, every day: 1 of 10 RPM = 10%, constant
    (sample,) = samples(store, settings_for(metric="rpm", threshold=0.5), datetime(2026, 12, 1)).values()
    assert (sample.value, sample.breaching) == (pytest.approx(0.1), False)
    (sample,) = samples(store, settings_for(metric="rpm", threshold=0.05), datetime(2026, 12, 1)).values()
    assert sample.breaching is True
    assert "peak RPM reaches 5% of its 10 RPM quota on 2026-12-02" in sample.describe("firing")


def test_no_quota_and_too_little_history_leave_the_group_unjudged(store: Store) -> None:
    add_line(store, 30)
    add_line(store, 5, model="amazon.nova-lite-v1:0", first=datetime(2026, 11, 26))  # 26 .. 30 Nov
    found = samples(store, settings_for(quotas=[]), datetime(2026, 12, 1))
    assert sorted(found) == ['{"model":"amazon.nova-lite-v1:0","region":"us-east-1"}', KEY]
    haiku, nova = found[KEY], found['{"model":"amazon.nova-lite-v1:0","region":"us-east-1"}']
    assert (haiku.value, haiku.breaching) == (None, None)
    assert haiku.describe("no_data") == (f"haiku-capacity: no quota known for {MODEL}/{REGION}: set one in "
                                         "[[capacity.quotas]] or turn on capacity.service_quotas")
    assert (nova.value, nova.breaching) == (None, None)
    assert nova.describe("no_data") == ("haiku-capacity: no forecast of amazon.nova-lite-v1:0/us-east-1's peak quota "
                                        "TPM: 5 day(s) of history up to 2026-11-30, fewer than the 7 a forecast needs")
    # a quota with only an RPM limit cannot judge TPM
    only_rpm = settings_for(quotas=[{"model": MODEL, "region": REGION, "rpm": 10}])
    sample = samples(store, only_rpm, datetime(2026, 12, 1))[KEY]
    assert sample.breaching is None
    assert sample.describe("no_data") == (f"haiku-capacity: {MODEL}/{REGION}'s quota has no TPM limit "
                                          "(quota from config)")


def test_an_evaluation_as_of_a_past_time_gives_that_times_answer(store: Store, hook: Receiver) -> None:
    add_line(store, 30)
    settings = settings_for(hook.url)
    # as of 21 Nov: history 1 .. 20 Nov, horizon 22 Nov .. 5 Dec = days 21 .. 34: at most
    # 44,000 of 60,000, whatever was stored for the days after
    (sample,) = samples(store, settings, datetime(2026, 11, 21, 6)).values()
    assert sample.value == pytest.approx(44_000 / 60_000, abs=1e-6)
    assert sample.breaching is False
    evaluate_alerts(store, settings, datetime(2026, 11, 21, 6))
    assert list_alerts(store, "all") == []
    evaluate_alerts(store, settings, datetime(2026, 12, 1, 6))
    (alert,) = list_alerts(store, "all")
    assert (alert["state"], alert["group"]) == ("firing", {"model": MODEL, "region": REGION})
