"""Cost of hand-checked calls, to the cent, against prices stated here as overrides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.pricing import seed_rows
from outcrop.analytics.queries import run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PriceOverride, PricingSettings, ProvisionedThroughput

MODEL = "test.model-v1:0"
# $3 input, $15 output, $0.30 cache read, $3.75 cache write per million; batch half price;
# geo profiles cost 10% more than in-region.
PRICE = PriceOverride(
    model=MODEL, input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.30,
    cache_write_per_mtok=3.75, batch_discount=0.5,
)  # fmt: skip
SETTINGS = PricingSettings(use_genai_prices=False, geo_multiplier=1.1, overrides=(PRICE,))

CALLS: list[tuple[dict[str, Any], float]] = [
    # 1000 * 3 + 500 * 15 = 10,500 micro-dollars
    ({"call_id": "uncached", "input_tokens": 1000, "output_tokens": 500}, 0.0105),
    # 1000 * 3 + 3000 * 0.30 + 200 * 15 = 3000 + 900 + 3000
    ({"call_id": "cache_read", "input_tokens": 1000, "cache_read_tokens": 3000,
      "output_tokens": 200}, 0.0069),
    # 100 * 3 + 2000 * 3.75 + 300 * 15 = 300 + 7500 + 4500
    ({"call_id": "cache_write", "input_tokens": 100, "cache_write_tokens": 2000,
      "output_tokens": 300}, 0.0123),
    # the uncached call through a US cross-region profile: 10,500 * 1.1
    ({"call_id": "cross_region", "inference_profile": "us.test.model-v1:0",
      "input_tokens": 1000, "output_tokens": 500}, 0.01155),
    # the uncached call as batch inference: half of 10,500
    ({"call_id": "batch", "operation": "InvokeModelBatch", "input_tokens": 1000,
      "output_tokens": 500}, 0.00525),
]  # fmt: skip


def _priced_db(settings: PricingSettings = SETTINGS) -> Any:
    con = fresh_db()
    rows = [{**row, "model": MODEL, "ts": T0, "trace_id": "t1"} for row, _ in CALLS]
    rows.append({"call_id": "mystery", "model": "acme.secret-v9:0", "ts": T0, "trace_id": "t1",
                 "input_tokens": 10, "output_tokens": 10})  # fmt: skip
    insert_calls(con, rows, T0)
    run_rollups(con, settings, T0 + timedelta(days=2))
    return con


@pytest.mark.parametrize("row,expected", CALLS, ids=[r["call_id"] for r, _ in CALLS])
def test_call_cost_to_the_cent(row: dict[str, Any], expected: float) -> None:
    con = _priced_db()
    got = run_query(con, "call_cost", {"call_id": row["call_id"]}).to_pylist()[0]
    assert got["cost_usd"] == pytest.approx(expected, abs=1e-9)
    assert got["price_source"] == "override"


def test_unknown_model_is_unpriced_not_free_and_listed() -> None:
    con = _priced_db()
    assert run_query(con, "call_cost", {"call_id": "mystery"}).column("cost_usd")[0].as_py() is None
    listed = run_query(con, "unpriced_models", {"from": T0, "to": T0 + timedelta(hours=1)})
    assert listed.to_pylist()[0]["model"] == "acme.secret-v9:0"
    cost = run_query(con, "cost", {"from": T0, "to": T0 + timedelta(hours=1), "by": ["model"]})
    by_model = {r["model"]: r for r in cost.to_pylist()}
    assert by_model["acme.secret-v9:0"]["cost_usd"] is None
    assert by_model["acme.secret-v9:0"]["unpriced_requests"] == 1
    assert by_model[MODEL]["cost_usd"] == pytest.approx(sum(c for _, c in CALLS))


def test_trace_cost_sums_every_call_of_the_trace() -> None:
    trace = run_query(_priced_db(), "trace_cost", {"trace_id": "t1"}).to_pylist()[0]
    assert trace["calls"] == 6 and trace["unpriced_calls"] == 1
    assert trace["cost_usd"] == pytest.approx(sum(c for _, c in CALLS))


def test_changing_a_price_reprices_history() -> None:
    con = _priced_db()
    cheaper = PRICE.model_copy(update={"input_per_mtok": 1.5, "output_per_mtok": 7.5})
    outcome = run_rollups(con, SETTINGS.model_copy(update={"overrides": (cheaper,)}),
                          T0 + timedelta(days=2))  # fmt: skip
    assert outcome.repriced
    total = con.execute("SELECT sum(cost_usd) FROM rollup_1d").fetchone()
    # every rate of the new price is half the old one except cache reads and writes
    expected = 0.0105 / 2 + (0.0015 + 0.0009 + 0.0015) + (0.00015 + 0.0075 + 0.00225) + 0.01155 / 2 + 0.00525 / 2
    assert total is not None and total[0] == pytest.approx(expected)


def test_price_periods_apply_by_call_time() -> None:
    old = PRICE.model_copy(update={"valid_to": "2025-03-01"})
    new = PRICE.model_copy(update={"valid_from": "2025-03-01", "input_per_mtok": 6.0})
    con = _priced_db(SETTINGS.model_copy(update={"overrides": (old, new)}))
    got = run_query(con, "call_cost", {"call_id": "uncached"}).column("cost_usd")[0].as_py()
    assert got == pytest.approx(1000 * 6e-6 + 500 * 15e-6)


def test_provisioned_hour_is_shared_by_tokens_served() -> None:
    pt = ProvisionedThroughput(model=MODEL, region="us-east-1", model_units=2,
                               hourly_rate_per_unit=10.0, valid_from="2025-01-01")  # fmt: skip
    con = fresh_db()
    insert_calls(con, [
        {"call_id": "a", "model": MODEL, "ts": T0, "input_tokens": 500, "output_tokens": 500},
        {"call_id": "b", "model": MODEL, "ts": T0 + timedelta(minutes=30), "input_tokens": 3000},
    ], T0)  # fmt: skip
    run_rollups(con, SETTINGS.model_copy(update={"provisioned": (pt,)}), T0 + timedelta(days=1))
    a = run_query(con, "call_cost", {"call_id": "a"}).to_pylist()[0]
    assert a["cost_usd"] == pytest.approx(5.0) and a["price_source"] == "provisioned"
    assert con.execute("SELECT sum(cost_usd) FROM rollup_1h").fetchone() == (pytest.approx(20.0),)


def test_seed_prices_bedrock_models_by_scope() -> None:
    con = fresh_db()
    sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    insert_calls(con, [
        {"call_id": "in", "model": sonnet, "ts": T0, "input_tokens": 1_000_000},
        {"call_id": "gl", "model": sonnet, "ts": T0, "input_tokens": 1_000_000,
         "inference_profile": "global." + sonnet},
        {"call_id": "nova", "model": "amazon.nova-pro-v1:0", "ts": T0, "output_tokens": 1_000_000},
    ], T0)  # fmt: skip
    run_rollups(con, PricingSettings(), T0 + timedelta(days=1))

    def cost(call_id: str) -> Any:
        return run_query(con, "call_cost", {"call_id": call_id}).column("cost_usd")[0].as_py()

    # genai-prices: regional $3.30, global $3.00 per million input; Nova Pro $3.20 output
    assert (cost("in"), cost("gl"), cost("nova")) == pytest.approx((3.3, 3.0, 3.2))
    assert any(r.model == "amazon.titan-embed-text-v2:0" for r in seed_rows())
