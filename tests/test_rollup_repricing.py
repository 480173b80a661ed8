"""Cost at read time: a changed price shows in the rollup reads without rewriting a window,
applies from its first day on, and a Provisioned Throughput change still rewrites them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError
from test_rollups_fixtures import fresh_db, insert_calls

from outcrop.analytics.pricing import sync_prices
from outcrop.analytics.queries import run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PriceOverride, PricingSettings, ProvisionedThroughput

MODEL = "test.model-v1:0"
# $2 input, $10 output per million tokens
PRICE = PriceOverride(model=MODEL, input_per_mtok=2.0, output_per_mtok=10.0)
SETTINGS = PricingSettings(use_genai_prices=False, overrides=(PRICE,))
DAY1 = datetime(2025, 3, 1)
NOW = DAY1 + timedelta(days=3)  # days 1-3 complete: whole days come from rollup_counts_1d


def _db() -> object:
    """Two calls a day for three days: 1000 input + 100 output tokens each, one of them
    through a US profile and one as batch inference on the second day."""
    con = fresh_db()
    rows = []
    for day in range(3):
        ts = DAY1 + timedelta(days=day, hours=9)
        rows.append({"call_id": f"a{day}", "model": MODEL, "ts": ts, "input_tokens": 1000, "output_tokens": 100})
        rows.append({"call_id": f"b{day}", "model": MODEL, "ts": ts + timedelta(minutes=30),
                     "input_tokens": 1000, "output_tokens": 100,
                     "inference_profile": "us.test.model-v1:0" if day != 1 else None,
                     "operation": "InvokeModelBatch" if day == 1 else "chat"})  # fmt: skip
    insert_calls(con, rows, DAY1)
    run_rollups(con, SETTINGS, NOW)
    return con


def _cost(con: object, start: datetime, end: datetime) -> float:
    got = run_query(con, "cost", {"from": start, "to": end, "by": []}).to_pylist()  # type: ignore[arg-type]
    return float(got[0]["cost_usd"])


def test_a_new_price_shows_in_reads_without_rewriting_a_window() -> None:
    con = _db()
    # each full-price call: 1000 * 2e-6 + 100 * 10e-6 = 0.003; the batch call half of it
    assert _cost(con, DAY1, NOW) == pytest.approx(5 * 0.003 + 0.0015)
    dearer = PRICE.model_copy(update={"input_per_mtok": 4.0})  # 0.005 a call
    outcome = run_rollups(con, SETTINGS.model_copy(update={"overrides": (dearer,)}), NOW)
    assert outcome.repriced and outcome.rows_written == 0
    assert _cost(con, DAY1, NOW) == pytest.approx(5 * 0.005 + 0.0025)
    # the ragged minutes and hours at the edges are priced the same way
    assert _cost(con, DAY1 + timedelta(hours=9, minutes=29), DAY1 + timedelta(hours=9, minutes=31)) == (
        pytest.approx(0.005)
    )
    day_rows = con.execute("SELECT sum(cost_usd) FROM rollup_1d").fetchone()  # type: ignore[attr-defined]
    assert day_rows == (pytest.approx(5 * 0.005 + 0.0025),)


def test_a_price_from_day_d_applies_to_the_calls_from_d_on() -> None:
    con = _db()
    old = PRICE.model_copy(update={"valid_to": "2025-03-02"})
    new = PRICE.model_copy(update={"valid_from": "2025-03-02", "output_per_mtok": 30.0})  # 0.005 a call
    run_rollups(con, SETTINGS.model_copy(update={"overrides": (old, new)}), NOW)
    # day 1 at the old price (two calls), days 2 and 3 at the new one (day 2's batch call half)
    assert _cost(con, DAY1, NOW) == pytest.approx(2 * 0.003 + 3 * 0.005 + 0.0025)
    assert _cost(con, DAY1 + timedelta(days=1), DAY1 + timedelta(days=1, hours=12)) == pytest.approx(0.0075)


def test_a_model_left_without_a_price_is_unpriced_not_free() -> None:
    con = _db()
    other = PRICE.model_copy(update={"model": "other.model-v1:0"})
    run_rollups(con, SETTINGS.model_copy(update={"overrides": (other,)}), NOW)
    got = run_query(con, "cost", {"from": DAY1, "to": NOW, "by": []}).to_pylist()[0]
    assert got["cost_usd"] is None and got["unpriced_requests"] == 6


def test_a_provisioned_commitment_change_rewrites_every_window() -> None:
    con = _db()
    pt = ProvisionedThroughput(model=MODEL, region="us-east-1", model_units=1,
                               hourly_rate_per_unit=6.0, valid_from="2025-03-02")  # fmt: skip
    outcome = run_rollups(con, SETTINGS.model_copy(update={"provisioned": (pt,)}), NOW)
    assert outcome.rows_written > 0
    # day 1 on demand (0.006); from day 2 each calling hour (one a day, two calls) costs $6
    assert _cost(con, DAY1, NOW) == pytest.approx(0.006 + 2 * 6.0)


@pytest.mark.parametrize("when", ["2025-03-02T12:00", "2025-03-02T00:00+02:00", "March 2"])
def test_a_price_changes_only_at_a_utc_midnight(when: str) -> None:
    with pytest.raises(ValidationError, match="valid_from"):
        PriceOverride.model_validate({**PRICE.model_dump(), "valid_from": when})
    assert PriceOverride.model_validate({**PRICE.model_dump(), "valid_from": "2025-03-02T00:00"})


def test_a_price_class_first_seen_later_is_priced() -> None:
    con = _db()
    late = {"call_id": "late", "model": MODEL, "ts": DAY1 + timedelta(days=2, hours=20), "input_tokens": 1000,
            "output_tokens": 100, "inference_profile": "eu.test.model-v1:0", "region": "eu-west-1"}  # fmt: skip
    insert_calls(con, [late], NOW)  # type: ignore[arg-type]
    outcome = run_rollups(con, SETTINGS, NOW + timedelta(minutes=1))
    assert not outcome.repriced  # same prices: the rates grow by the new class alone
    assert _cost(con, DAY1, NOW) == pytest.approx(6 * 0.003 + 0.0015)


def test_rows_rolled_up_before_price_classes_are_rewritten_on_the_next_run() -> None:
    con = _db()
    # as migration 0009 leaves a store rolled up by the previous version: no price class,
    # the cost fixed at rollup time, and no fingerprint of the commitments yet
    for grain in ("1m", "1h", "1d"):
        con.execute(f"UPDATE rollup_counts_{grain} SET price_class = NULL, provisioned_cost_usd = 1")  # type: ignore[attr-defined]
    con.execute("DELETE FROM watermarks WHERE name = 'pricing.provisioned_fingerprint'")  # type: ignore[attr-defined]
    assert _cost(con, DAY1, NOW) > 1  # the stored costs, until the rollup runs
    outcome = run_rollups(con, SETTINGS, NOW)
    assert outcome.rows_written > 0 and not outcome.repriced
    assert _cost(con, DAY1, NOW) == pytest.approx(5 * 0.003 + 0.0015)


def test_reads_follow_a_price_sync_whoever_runs_it() -> None:
    con = _db()
    dearer = PRICE.model_copy(update={"input_per_mtok": 4.0})  # 0.005 a call
    assert sync_prices(con, SETTINGS.model_copy(update={"overrides": (dearer,)}), NOW).changed  # type: ignore[arg-type]
    assert _cost(con, DAY1, NOW) == pytest.approx(5 * 0.005 + 0.0025)
