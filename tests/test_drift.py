"""Drift rules: a metric in the latest window against the same clock window of the
previous days, on hand-made calls whose statistics are worked out here.

T is the evaluation time; the window is [T - 15 min, T) and the baseline the same
15 minutes on each of the 7 previous days. Latency values 100, 200, ..., 2000 ms have
quantile_cont p95 = 100 * (1 + 0.95 * 19) = 1905 ms; the baseline holds each value
seven times (140 calls), rank 0.95 * 139 = 132.05 falls between sorted indices 132
(1900) and 133 (2000), so its p95 is 1900 + 0.05 * 100 = 1905 ms as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from outcrop.analytics.alerts import evaluate_alerts, list_alerts
from outcrop.analytics.alerts.drift import drift_samples
from outcrop.analytics.alerts.evaluate import Sample
from outcrop.analytics.pricing import sync_prices
from outcrop.core.settings import Settings
from outcrop.core.store.writer import Store
from tests.conftest import make_settings
from tests.test_rollups_fixtures import insert_calls

T = datetime(2026, 3, 2, 12, 0, 0)
WINDOW = timedelta(minutes=15)
DAYS = 7
PRICED = "test.drift-model"  # $10 per million input tokens, output free

_ids = iter(range(10**9))


def calls(start: datetime, n: int, **columns: Any) -> list[dict[str, Any]]:
    """n calls 30 s apart from `start`; a list value gives call i its i-th item."""
    rows = []
    for i in range(n):
        row = {k: v[i] if isinstance(v, list) else v for k, v in columns.items()}
        rows.append({"call_id": f"d{next(_ids)}", "ts": start + timedelta(seconds=30 * i), **row})
    return rows


def every_day(days: Iterable[int], start: datetime, n: int, **columns: Any) -> list[dict[str, Any]]:
    """`calls(start - d days, n, ...)` for each d."""
    return [row for d in days for row in calls(start - timedelta(days=d), n, **columns)]


def put(store: Store, rows: list[dict[str, Any]]) -> None:
    store.write(lambda con: insert_calls(con, rows, T))


def drift_rule(metric: str, **over: Any) -> dict[str, Any]:
    return {"name": f"{metric}-drift", "kind": "drift", "metric": metric, "by": ["model"],
            "window_minutes": 15, "baseline_days": DAYS, "min_requests": 20, **over}


def samples(store: Store, rule: dict[str, Any], at: datetime = T) -> dict[str, Sample]:
    settings = make_settings(alerts={"rules": [rule]})
    return store.write(lambda con: drift_samples(con, settings.alerts.rules[0], at, settings))


def by_model(found: dict[str, Sample]) -> dict[str | None, Sample]:
    return {s.group["model"]: s for s in found.values()}


def ramp(step: float) -> list[float]:
    return [step * (i + 1) for i in range(20)]


def test_a_daily_rhythm_does_not_fire_and_twice_the_same_hours_does(store: Store) -> None:
    busy = T - WINDOW  # 11:45: the window's clock time, slow every day
    for model in ("steady", "slower"):
        put(store, every_day(range(1, DAYS + 1), busy, 20, model=model, ttft_ms=ramp(100)))
        # the night is fast: a baseline of all hours would have a much lower p95
        put(store, every_day(range(1, DAYS + 1), T - timedelta(hours=9), 200, model=model, ttft_ms=50.0))
    put(store, calls(busy, 20, model="steady", ttft_ms=ramp(100)))  # p95 1905, as the baseline
    put(store, calls(busy, 20, model="slower", ttft_ms=ramp(200)))  # p95 3810: +100%
    found = by_model(samples(store, drift_rule("ttft_ms_p95")))
    steady, slower = found["steady"], found["slower"]
    assert (steady.requests, steady.value, steady.breaching) == (20, 1905.0, False)
    assert (slower.requests, slower.value, slower.breaching) == (20, 3810.0, True)
    assert slower.describe("firing") == (
        "ttft_ms_p95-drift: TTFT p95 at 3,810 ms vs baseline 1,905 ms (+100.0%) for model=slower; "
        "20 calls in the last 15 min, 140 in the same 15 min of the previous 7 days; threshold +50%")
    assert steady.describe("resolved").startswith("ttft_ms_p95-drift: TTFT p95 back to 1,905 ms vs baseline 1,905 ms")


def test_a_rise_just_under_the_threshold_does_not_fire(store: Store) -> None:
    put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, ttlt_ms=1000.0))
    put(store, calls(T - WINDOW, 20, model="a", ttlt_ms=1490.0))  # +49%
    put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, model="a", ttlt_ms=1000.0))
    put(store, calls(T - WINDOW, 20, ttlt_ms=1510.0))  # +51%
    found = samples(store, drift_rule("ttlt_ms_p95"))
    assert sorted((s.group["model"] or "", s.value, s.breaching) for s in found.values()) == [
        ("a", 1490.0, False), ("anthropic.claude-3-5-haiku-20241022-v1:0", 1510.0, True)]


def test_a_small_sample_on_either_side_is_not_judged(store: Store) -> None:
    # thin window: 19 calls (min_requests 20) against a full baseline
    put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, model="thin-now", ttft_ms=100.0))
    put(store, calls(T - WINDOW, 19, model="thin-now", ttft_ms=900.0))
    # thin baseline: 3 days x 6 calls = 18, and a full window
    put(store, every_day(range(1, 4), T - WINDOW, 6, model="thin-then", ttft_ms=100.0))
    put(store, calls(T - WINDOW, 20, model="thin-then", ttft_ms=900.0))
    # calls outside the windows (at 11:30, and the window 8 days back) do not count
    put(store, every_day(range(0, DAYS + 2), T - 2 * WINDOW, 20, model="thin-then", ttft_ms=100.0))
    put(store, every_day([DAYS + 1], T - WINDOW, 20, model="thin-then", ttft_ms=100.0))
    found = by_model(samples(store, drift_rule("ttft_ms_p95")))
    assert [(m, s.requests, s.value, s.breaching) for m, s in sorted(found.items())] == [
        ("thin-now", 19, None, None), ("thin-then", 20, None, None)]
    assert found["thin-then"].describe("no_data") == (
        "ttft_ms_p95-drift: ttft_ms_p95 unknown for model=thin-then: 20 calls in the last 15 min and 18 in "
        "the same 15 min of the previous 7 days; min_requests 20 on both sides")
    # the same data judged with min_requests 18: both sides are big enough, and 9x fires
    assert by_model(samples(store, drift_rule("ttft_ms_p95", min_requests=18)))["thin-then"].breaching is True


def test_speed_drops_and_token_counts_move_either_way(store: Store) -> None:
    base = {"otps": 50.0, "input_tokens": 200, "cache_read_tokens": 800, "cache_write_tokens": 0,
            "output_tokens": 500}
    for model in ("same", "moved"):
        put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, model=model, **base))
    # same prompt size (1,000), cached differently; otps -20%; output +40%
    put(store, calls(T - WINDOW, 20, model="same", otps=40.0, input_tokens=1000, cache_read_tokens=0,
                     output_tokens=700))
    # prompt 400 (-60%), otps 30 (-40%), output 200 (-60%)
    put(store, calls(T - WINDOW, 20, model="moved", otps=30.0, input_tokens=400, output_tokens=200))
    judged = {metric: {m: (s.value, s.breaching) for m, s in by_model(samples(store, drift_rule(metric))).items()}
              for metric in ("otps_p50", "input_tokens_per_request", "output_tokens_per_request")}
    assert judged == {
        "otps_p50": {"same": (40.0, False), "moved": (30.0, True)},
        "input_tokens_per_request": {"same": (1000.0, False), "moved": (400.0, True)},
        "output_tokens_per_request": {"same": (700.0, False), "moved": (200.0, True)},
    }


def test_shares_move_by_absolute_points(store: Store) -> None:
    base = every_day(range(1, DAYS + 1), T - WINDOW, 20, input_tokens=200, cache_read_tokens=800,
                     status=["error"] + ["ok"] * 19,  # error rate 1/20 = 5%
                     finish_reason=["end_turn"] + ["max_tokens"] * 2 + ["end_turn"] * 17)  # 2 of 19 ok: 10.53%
    put(store, base)
    # cache hit 0.8 -> 0.7 (-10 points), errors 4/20 (+15 points), max_tokens 10 of 20 ok calls
    put(store, calls(T - WINDOW, 20, input_tokens=300, cache_read_tokens=700, status="ok",
                     finish_reason=["MAX_TOKENS"] * 10 + ["end_turn"] * 10))
    put(store, calls(T - WINDOW + timedelta(seconds=1), 4, input_tokens=None, status="error"))
    (cache,) = samples(store, drift_rule("cache_hit_share")).values()
    assert (cache.value, cache.breaching) == (0.7, False)  # a drop of 10 points, threshold 20
    (cache,) = samples(store, drift_rule("cache_hit_share", threshold=0.05)).values()
    assert cache.breaching is True
    assert "cache-hit share at 70.00% vs baseline 80.00% (-10.0 points)" in cache.describe("firing")
    assert "threshold -5 points" in cache.describe("firing")
    (errors,) = samples(store, drift_rule("error_rate")).values()
    assert (errors.requests, errors.value, errors.breaching) == (24, 4 / 24, True)
    assert "error rate at 16.67% vs baseline 5.00% (+11.7 points)" in errors.describe("firing")
    (finish,) = samples(store, drift_rule("finish_reason_share")).values()
    assert (finish.requests, finish.value, finish.breaching) == (20, 0.5, True)
    assert "vs baseline 10.53% (+39.5 points)" in finish.describe("firing")
    (other,) = samples(store, drift_rule("finish_reason_share", finish_reason="end_turn")).values()
    assert (other.value, other.breaching) == (0.5, False)  # 89.47% -> 50%: a drop does not fire


def test_cost_per_request_is_priced_as_the_rollups_price_it(store: Store) -> None:
    settings = make_settings(pricing={"use_genai_prices": False, "overrides": [
        {"model": PRICED, "input_per_mtok": 10.0, "output_per_mtok": 0.0}]})
    store.write(lambda con: sync_prices(con, settings.pricing, T))
    put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, model=PRICED, input_tokens=1000))  # $0.01
    put(store, calls(T - WINDOW, 20, model=PRICED, input_tokens=2000))  # $0.02
    put(store, calls(T - WINDOW, 5, model=PRICED, input_tokens=2000, status="error"))  # not counted
    put(store, calls(T - WINDOW, 30, model="unpriced-model", input_tokens=2000))  # no price: no sample
    found = by_model(samples(store, drift_rule("cost_per_request_usd")))
    cost = found[PRICED]
    assert (cost.requests, round(cost.value or 0, 12), cost.breaching) == (20, 0.02, True)
    assert cost.describe("firing").startswith(
        f"cost_per_request_usd-drift: cost per request at $0.020000 vs baseline $0.010000 (+100.0%) "
        f"for model={PRICED}; 20 calls")
    assert (found["unpriced-model"].requests, found["unpriced-model"].breaching) == (0, None)


def test_a_route_answering_with_another_model(store: Store) -> None:
    rule = drift_rule("response_model", by=["route"])
    for route in ("kept", "switched"):
        put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, route=route, response_model="claude-v1"))
    put(store, calls(T - WINDOW, 20, route="kept", response_model="claude-v1"))
    put(store, calls(T - WINDOW, 20, route="switched", response_model=["claude-v2"] * 8 + ["claude-v1"] * 12))
    found = {s.group["route"]: s for s in samples(store, rule).values()}
    assert (found["kept"].value, found["kept"].breaching) == (0.0, False)
    assert (found["switched"].value, found["switched"].breaching) == (0.4, True)
    assert found["switched"].describe("firing") == (
        "response_model-drift: share answered by a response model new since the baseline at 40.00% for "
        "route=switched (new: claude-v2 (8); now: claude-v1 (12), claude-v2 (8); baseline: claude-v1 (140)); "
        "20 calls in the last 15 min, 140 in the same 15 min of the previous 7 days; threshold 5.00%")


def test_history_is_data_later_calls_do_not_change_a_past_evaluation(store: Store) -> None:
    put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, ttft_ms=ramp(100), response_model="v1"))
    put(store, calls(T - WINDOW, 20, ttft_ms=ramp(200), response_model="v1"))
    rules = [drift_rule("ttft_ms_p95"), drift_rule("response_model")]

    def seen() -> list[tuple[Any, ...]]:
        return [(k, s.requests, s.value, s.breaching, s.describe("firing"))
                for rule in rules for k, s in sorted(samples(store, rule).items())]

    before = seen()
    # what was stored later: calls from T on (in the next windows) and on the next day
    put(store, calls(T, 40, ttft_ms=5.0, response_model="v2"))
    put(store, calls(T - WINDOW + timedelta(days=1), 20, ttft_ms=5.0, response_model="v2"))
    assert seen() == before
    assert [b[3] for b in before] == [True, False]


def lifecycle_settings() -> Settings:
    return make_settings(alerts={"rules": [drift_rule("ttft_ms_p95")]})


def test_fires_then_resolves_through_the_evaluation_loop(store: Store) -> None:
    settings = lifecycle_settings()
    # every previous day, 11:30 to 12:30 runs at p95 1905 ms
    for minutes in (-30, -15, 0, 15):
        put(store, every_day(range(1, DAYS + 1), T + timedelta(minutes=minutes), 20, ttft_ms=ramp(100)))
    put(store, calls(T - WINDOW, 20, ttft_ms=ramp(200)))  # twice as slow before 12:00
    put(store, calls(T + WINDOW, 20, ttft_ms=ramp(100)))  # back to normal 12:15-12:25
    evaluate_alerts(store, settings, T)
    (row,) = list_alerts(store, "firing")
    assert (row["rule"], row["kind"], row["value"], row["requests"], row["threshold"]) == (
        "ttft_ms_p95-drift", "drift", 3810.0, 20, 0.5)
    assert "TTFT p95 at 3,810 ms vs baseline 1,905 ms (+100.0%)" in row["message"]
    evaluate_alerts(store, settings, T + 2 * WINDOW)  # window [12:15, 12:30)
    (row,) = list_alerts(store, "all")
    assert (row["state"], row["value"], row["resolved_at"]) == ("resolved", 1905.0, T + 2 * WINDOW)
    assert "TTFT p95 back to 1,905 ms vs baseline 1,905 ms (+0.0%)" in row["message"]


def test_an_evaluation_as_of_a_past_time_equals_the_one_made_then(store: Store, tmp_path: Any) -> None:
    settings = lifecycle_settings()
    put(store, every_day(range(1, DAYS + 1), T - WINDOW, 20, ttft_ms=ramp(100)))
    put(store, calls(T - WINDOW, 20, ttft_ms=ramp(200)))
    then = Store.open(str(tmp_path / "then.duckdb"))
    try:
        rows = store.query("SELECT * EXCLUDE (write_seq) FROM llm_calls").to_pylist()
        then.write(lambda con: insert_calls(con, rows, T))
        evaluate_alerts(then, settings, T)  # made at T, knowing nothing later
        put(store, calls(T, 40, ttft_ms=5.0))  # stored later, at 12:00-12:20
        evaluate_alerts(store, settings, T)  # as of T, afterwards
        keep = ("rule", "group", "state", "value", "requests", "message", "started_at", "fired_at")
        assert [{k: r[k] for k in keep} for r in list_alerts(store, "all")] == [
            {k: r[k] for k in keep} for r in list_alerts(then, "all")]
        assert list_alerts(then, "firing")[0]["value"] == 3810.0
    finally:
        then.close()


def test_a_day_long_window_compares_whole_days(store: Store) -> None:
    rule = drift_rule("ttft_ms_p95", window_minutes=1440, baseline_days=2)
    put(store, every_day([1, 2], T - timedelta(hours=5), 10, ttft_ms=ramp(100)[:10]))
    put(store, every_day([1, 2], T - timedelta(hours=17), 10, ttft_ms=ramp(100)[10:]))
    put(store, every_day([3], T - timedelta(hours=5), 20, ttft_ms=99_000.0))  # before the baseline
    put(store, calls(T - timedelta(hours=23), 20, ttft_ms=ramp(300)))
    (found,) = samples(store, rule).values()
    assert (found.requests, found.value, found.breaching) == (20, 5715.0, True)
    assert "5,715 ms vs baseline 1,905 ms (+200.0%)" in found.describe("firing")
    assert "40 in the same 1440 min of the previous 2 days" in found.describe("firing")


def test_a_provisioned_hour_is_shared_among_the_calls_before_the_evaluation(store: Store) -> None:
    pt_model = "test.drift-pt-model"
    settings = make_settings(pricing={"use_genai_prices": False, "provisioned": [
        {"model": pt_model, "region": "us-east-1", "model_units": 1, "hourly_rate_per_unit": 20.0,
         "valid_from": "2026-01-01"}]})
    store.write(lambda con: sync_prices(con, settings.pricing, T))
    # each 12:00 hour: 20 calls of 1,000 tokens share $20, so $1 a call
    put(store, every_day(range(0, DAYS + 1), T, 20, model=pt_model, input_tokens=1000))
    rule, at = drift_rule("cost_per_request_usd"), T + timedelta(minutes=10)
    (before,) = samples(store, rule, at).values()
    assert (before.requests, before.value, before.breaching) == (20, 1.0, False)
    put(store, calls(T + timedelta(minutes=20), 20, model=pt_model, input_tokens=1000))  # later, same hour
    (after,) = samples(store, rule, at).values()
    assert (after.value, after.describe("firing")) == (before.value, before.describe("firing"))


def test_an_hour_long_window_is_read(store: Store) -> None:
    # 60 min x 60,000,000 us overflows a 32-bit product: the window length is widened first
    hour = timedelta(minutes=60)
    put(store, every_day(range(1, DAYS + 1), T - hour, 20, ttft_ms=100.0))
    put(store, calls(T - hour, 20, ttft_ms=300.0))
    (found,) = samples(store, drift_rule("ttft_ms_p95", window_minutes=60)).values()
    assert (found.requests, found.value, found.breaching) == (20, 300.0, True)
