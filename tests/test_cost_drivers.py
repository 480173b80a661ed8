"""Cost drivers, the prompt-version comparison and the budget burn-down, each against
hand-computed numbers (docs/cost.md defines every driver).

Prices (per million tokens): big $10 input, $30 output, $1 cache read, $12.50 cache write;
small $1 input, $2 output; embed $0.10 input. Calls, from T0 (2025-03-03 10:00):
- route chat, big model: call i (1..10) has 100*i input and 10*(11-i) output tokens, cost
  $0.001*i + $0.0003*(11-i); $0.0715 in all, 6,050 tokens. Prompt p90 = 910 (call 10 above
  it: $0.0103), output p90 = 91 (call 1 above it: $0.004); request sizes 200..1,010 tokens,
  median 605: a short route.
- route summarize: trace t1 throttled on big (no tokens, $0), then error on big (500 input:
  $0.005), then ok on small (500 in, 100 out: $0.0007, the fallback); trace t2 one error on
  big (no tokens). Three ok calls on big with 1,000 input + 2,000 cached prefix + 500 output:
  two write the prefix ($0.05 each), one reads it ($0.027). Cost $0.1327; cacheable share
  6,000 / 10,000 prompt tokens, read share 2,000 / 10,000; saving 2 x 2,000 x ($12.50 - $1)
  per million = $0.046.
- route search: two embed calls (10,000 input, 0 output: $0.001 each) and one call of an
  unpriced model.
Cost per token: small $0.0007 / 600 tokens (the cheapest text model; embed has no output
tokens so is not a text model); big ($0.0715 + $0.127) / (6,050 + 10,500). Chat's excess:
$0.0715 - 6,050 x $0.0007 / 600 = $0.0644416...
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from test_budgets import DEC, MODEL, add_days
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import QueryError, run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PriceOverride, PricingSettings
from tests.conftest import make_settings

BIG, SMALL, EMBED = "test.big-model", "test.small-model", "test.embed"
PRICES = PricingSettings(use_genai_prices=False, overrides=(
    PriceOverride(model=BIG, input_per_mtok=10.0, output_per_mtok=30.0, cache_read_per_mtok=1.0,
                  cache_write_per_mtok=12.5),
    PriceOverride(model=SMALL, input_per_mtok=1.0, output_per_mtok=2.0),
    PriceOverride(model=EMBED, input_per_mtok=0.1, output_per_mtok=0.0)))


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


PREFIX = {"route": "summarize", "model": BIG, "input_tokens": 1000, "output_tokens": 500}
CALLS = [
    *({"call_id": f"c{i}", "ts": at(i), "route": "chat", "model": BIG, "input_tokens": 100 * i,
       "output_tokens": 10 * (11 - i)} for i in range(1, 11)),
    {"call_id": "r1", "ts": at(20), "route": "summarize", "model": BIG, "status": "throttled", "trace_id": "t1"},
    {"call_id": "r2", "ts": at(21), "route": "summarize", "model": BIG, "status": "error", "trace_id": "t1",
     "input_tokens": 500, "output_tokens": 0},
    {"call_id": "r3", "ts": at(22), "route": "summarize", "model": SMALL, "trace_id": "t1",
     "input_tokens": 500, "output_tokens": 100},
    {"call_id": "r4", "ts": at(23), "route": "summarize", "model": BIG, "status": "error", "trace_id": "t2"},
    {**PREFIX, "call_id": "s1", "ts": at(30), "cache_write_tokens": 2000},
    {**PREFIX, "call_id": "s2", "ts": at(31), "cache_read_tokens": 2000},
    {**PREFIX, "call_id": "s3", "ts": at(32), "cache_write_tokens": 2000},
    *({"call_id": f"e{i}", "ts": at(40 + i), "route": "search", "model": EMBED, "input_tokens": 10_000,
       "output_tokens": 0} for i in range(2)),
    {"call_id": "u1", "ts": at(42), "route": "search", "model": "test.unknown", "input_tokens": 100,
     "output_tokens": 10},
    # after the range: its huge prompt must move no threshold
    {"call_id": "late", "ts": at(70), "route": "chat", "model": BIG, "input_tokens": 100_000, "output_tokens": 10},
]  # fmt: skip
SMALL_PER_TOKEN = 0.0007 / 600


@pytest.fixture(scope="module")
def con() -> Any:
    db = fresh_db()
    insert_calls(db, CALLS, T0)
    run_rollups(db, PRICES, T0 + timedelta(days=1))
    return db


def drivers(con: Any, by: list[str], where: dict[str, Any] | None = None) -> dict[Any, dict[str, Any]]:
    params = {"from": T0.isoformat(), "to": at(60).isoformat(), "by": by, "where": where or {}}
    rows = run_query(con, "cost_drivers", params).to_pylist()
    return {tuple(r[k] for k in by): r for r in rows}


def test_long_prompts_and_large_outputs_are_the_calls_above_the_groups_p90(con: Any) -> None:
    chat = drivers(con, ["route"])[("chat",)]
    assert (chat["requests"], chat["cost_usd"]) == (10, pytest.approx(0.0715))
    assert (chat["prompt_tokens_p90"], chat["long_prompt_calls"]) == (910.0, 1)
    assert chat["long_prompt_cost_usd"] == pytest.approx(0.0103)  # call 10: 1,000 in, 10 out
    assert chat["long_prompt_share"] == pytest.approx(0.0103 / 0.0715)
    assert (chat["output_tokens_p90"], chat["large_output_calls"]) == (91.0, 1)
    assert chat["large_output_cost_usd"] == pytest.approx(0.004)  # call 1: 100 in, 100 out
    summarize = drivers(con, ["route"])[("summarize",)]
    # ok prompts 500, 3000, 3000, 3000: p90 3,000, and none is above it
    assert (summarize["prompt_tokens_p90"], summarize["long_prompt_calls"], summarize["long_prompt_cost_usd"]) == (
        3000.0, 0, 0.0)


def test_failed_attempts_are_unserved_and_a_next_call_on_another_model_is_a_fallback(con: Any) -> None:
    summarize = drivers(con, ["route"])[("summarize",)]
    assert (summarize["requests"], summarize["cost_usd"]) == (7, pytest.approx(0.1327))
    # r1 (retried on the same model), r2 (fell back to small), r4 (nothing after it)
    assert (summarize["unserved_attempts"], summarize["retried_attempts"], summarize["fallback_attempts"]) == (
        3, 2, 1)
    assert summarize["unserved_cost_usd"] == pytest.approx(0.005)
    assert summarize["unserved_share"] == pytest.approx(0.005 / 0.1327)
    assert drivers(con, ["route"])[("chat",)]["unserved_attempts"] == 0


def test_cache_shares_and_the_saving_if_every_write_were_a_read(con: Any) -> None:
    summarize = drivers(con, ["route"])[("summarize",)]
    assert (summarize["prompt_tokens"], summarize["cache_read_tokens"], summarize["cache_write_tokens"]) == (
        10_000, 2000, 4000)
    assert summarize["cacheable_share"] == pytest.approx(0.6)
    assert summarize["cache_read_share"] == pytest.approx(0.2)
    assert summarize["cache_saving_usd"] == pytest.approx(0.046)
    assert drivers(con, ["route"])[("chat",)]["cache_saving_usd"] == 0.0


def test_an_expensive_model_on_a_short_route_costs_its_excess_over_the_cheapest_text_model(con: Any) -> None:
    rows = drivers(con, ["route"])
    chat, summarize, search = rows[("chat",)], rows[("summarize",)], rows[("search",)]
    assert (chat["request_tokens_median"], chat["short_requests"]) == (605.0, True)
    assert (summarize["short_requests"], search["short_requests"]) == (False, False)
    assert chat["cheapest_model"] == SMALL  # not embed: it has no output tokens
    assert chat["cheapest_usd_per_1k_tokens"] == pytest.approx(1000 * SMALL_PER_TOKEN)
    assert chat["expensive_models"] == [BIG]
    assert chat["expensive_model_excess_usd"] == pytest.approx(0.0715 - 6050 * SMALL_PER_TOKEN)
    assert (summarize["expensive_models"], summarize["expensive_model_excess_usd"]) == ([], 0.0)


def test_unpriced_calls_are_counted_not_priced_at_zero(con: Any) -> None:
    search = drivers(con, ["route"])[("search",)]
    assert (search["requests"], search["unpriced_requests"], search["cost_usd"]) == (3, 1, pytest.approx(0.002))


def test_groups_and_filters(con: Any) -> None:
    by_model = drivers(con, ["route", "model"], {"route": ["summarize"]})
    assert set(by_model) == {("summarize", BIG), ("summarize", SMALL)}
    assert by_model[("summarize", BIG)]["cost_usd"] == pytest.approx(0.132)
    assert by_model[("summarize", SMALL)]["unserved_attempts"] == 0
    (everything,) = drivers(con, []).values()
    assert everything["requests"] == 20  # the call after the range is not read
    assert everything["cost_usd"] == pytest.approx(0.0715 + 0.1327 + 0.002)
    with pytest.raises(QueryError, match="cost_drivers.*feature"):
        drivers(con, ["feature"])


VERSIONS = [
    {"call_id": "a1", "ts": at(1), "workflow": "support", "prompt_version": "v7", "trace_id": "x1", "model": BIG,
     "input_tokens": 1000, "output_tokens": 100, "ttft_ms": 100.0, "ttlt_ms": 1000.0},
    {"call_id": "a2", "ts": at(2), "workflow": "support", "prompt_version": "v7", "trace_id": "x2", "model": BIG,
     "input_tokens": 2000, "output_tokens": 300, "ttft_ms": 300.0, "ttlt_ms": 3000.0},
    {"call_id": "b1", "ts": at(3), "workflow": "support", "prompt_version": "v8", "trace_id": "x3", "model": BIG,
     "status": "error"},
    {"call_id": "b2", "ts": at(4), "workflow": "support", "prompt_version": "v8", "trace_id": "x3", "model": BIG,
     "input_tokens": 3000, "cache_read_tokens": 1000, "output_tokens": 200, "ttlt_ms": 2000.0},
    {"call_id": "d1", "ts": at(5), "workflow": "digest", "prompt_version": None, "model": SMALL,
     "input_tokens": 1000, "output_tokens": 0},
]  # fmt: skip


def test_prompt_versions_side_by_side() -> None:
    db = fresh_db()
    insert_calls(db, VERSIONS, T0)
    run_rollups(db, PRICES, T0 + timedelta(days=1))
    rows = run_query(db, "prompt_versions", {"from": T0.isoformat(), "to": at(60).isoformat(), "where": {}})
    got = {(r["workflow"], r["prompt_version"]): r for r in rows.to_pylist()}
    assert list(got) == [("digest", None), ("support", "v7"), ("support", "v8")]
    v7, v8 = got[("support", "v7")], got[("support", "v8")]
    # v7: $0.01 + $0.003 and $0.02 + $0.009; v8: $0 (error) and $0.03 + $0.001 + $0.006
    assert (v7["requests"], v7["traces"], v7["cost_usd"]) == (2, 2, pytest.approx(0.042))
    assert (v8["requests"], v8["traces"], v8["cost_usd"]) == (2, 1, pytest.approx(0.037))
    assert v7["cost_per_request_usd"] == pytest.approx(0.021)
    assert v8["cost_per_trace_usd"] == pytest.approx(0.037)  # both attempts belong to trace x3
    assert (v7["input_tokens_per_request"], v7["output_tokens_per_request"]) == (1500.0, 200.0)
    assert v8["input_tokens_per_request"] == 4000.0  # the failed attempt sent no counts
    assert (v7["ttft_ms_p95"], v7["ttlt_ms_p95"]) == (pytest.approx(290.0), pytest.approx(2900.0))
    assert (v8["ttft_ms_p95"], v8["error_rate"], v7["error_rate"]) == (None, 0.5, 0.0)
    assert got[("digest", None)]["cost_per_trace_usd"] is None  # no trace ids
    only = run_query(db, "prompt_versions", {"from": T0.isoformat(), "to": at(60).isoformat(),
                                             "where": {"prompt_version": "v8"}})
    assert only.column("prompt_version").to_pylist() == ["v8"]


PRICING = {"use_genai_prices": False,
           "overrides": [{"model": MODEL, "input_per_mtok": 10.0, "output_per_mtok": 0.0}]}


def burndown(running: Any, at_text: str) -> Any:
    answer = requests.get(f"{running.api_url}/v1/budgets/burndown", params={"at": at_text}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_burndown_of_a_month_is_the_days_so_far_and_the_linear_forecast(server_factory: Any) -> None:
    budget = {"name": "acme-monthly", "scope": {"tenant": "acme"}, "period": "month", "limit_usd": 200.0}
    running = server_factory(pricing=PRICING, alerts={"budgets": [budget]})
    add_days(running.store, make_settings(pricing=PRICING), DEC, 20)  # $10 at noon, Dec 1 .. 20
    add_days(running.store, make_settings(pricing=PRICING), DEC, 20, tenant="globex")  # not in scope
    (b,) = burndown(running, "2026-12-10T00:00:00Z")
    assert (b["name"], b["period"], b["scope"], b["limit_usd"], b["method"]) == (
        "acme-monthly", "2026-12", "tenant=acme", 200.0, "linear")  # 9 days: too few for weekdays
    assert (b["spent_usd"], b["breach_date"]) == (90.0, "2026-12-21")
    assert [(d["day"], d["cost_usd"], d["cumulative_usd"]) for d in b["days"]] == [
        (f"2026-12-{i:02d}", 10.0, 10.0 * i) for i in range(1, 10)]
    assert b["days"][-1]["ts"] == "2026-12-10T00:00:00Z"
    # $10 a day from $90 at midnight on the 10th: $100 on the 11th ... $310 on 1 January
    line = b["forecast"]
    assert line[0] == {"ts": "2026-12-10T00:00:00Z", "cumulative_usd": 90.0}
    assert line[1] == {"ts": "2026-12-11T00:00:00Z", "cumulative_usd": pytest.approx(100.0)}
    assert (line[-1]["ts"], len(line)) == ("2027-01-01T00:00:00Z", 23)
    assert line[-1]["cumulative_usd"] == pytest.approx(b["forecast_usd"]) == pytest.approx(310.0)


def test_burndown_follows_the_weekday_pattern_with_enough_history(server_factory: Any) -> None:
    """As test_budgets' weekday case: $10 each weekday from Monday 2 November; at Thursday
    10 December the forecast adds $10 per weekday left and nothing at weekends."""
    budget = {"name": "acme-monthly", "scope": {"tenant": "acme"}, "period": "month", "limit_usd": 195.0}
    running = server_factory(pricing=PRICING, alerts={"budgets": [budget]})
    first = datetime(2026, 11, 2)
    weekdays = [first + timedelta(days=i) for i in range(60) if (first + timedelta(days=i)).weekday() < 5]
    rows = [{"call_id": f"wd-{d:%Y%m%d}", "ts": d + timedelta(hours=12), "tenant": "acme", "model": MODEL,
             "input_tokens": 1_000_000, "output_tokens": 0} for d in weekdays]
    running.store.write(lambda c: insert_calls(c, rows, first))
    running.store.write(lambda c: run_rollups(c, make_settings(pricing=PRICING).pricing, datetime(2027, 1, 2)))
    (b,) = burndown(running, "2026-12-10T00:00:00Z")
    assert (b["method"], b["spent_usd"], b["breach_date"]) == ("weekday", 70.0, "2026-12-28")
    assert [d["cost_usd"] for d in b["days"]] == [10.0, 10.0, 10.0, 10.0, 0.0, 0.0, 10.0, 10.0, 10.0]
    points = {p["ts"][:10]: p["cumulative_usd"] for p in b["forecast"]}
    # Thursday 10th and Friday 11th add $10 each; the weekend adds nothing
    assert [round(points[f"2026-12-{d}"], 6) for d in (11, 12, 13, 14, 15)] == [80.0, 90.0, 90.0, 90.0, 100.0]
    assert points["2027-01-01"] == pytest.approx(230.0) == pytest.approx(b["forecast_usd"])


def test_burndown_of_a_day_budget_and_a_bad_time(server_factory: Any) -> None:
    budget = {"name": "daily", "period": "day", "limit_usd": 15.0}
    running = server_factory(pricing=PRICING, alerts={"budgets": [budget]})
    add_days(running.store, make_settings(pricing=PRICING), DEC, 2)
    (b,) = burndown(running, "2026-12-02T13:00:00Z")  # the 2nd's $10 came at noon
    assert [(d["day"], d["ts"], d["cumulative_usd"]) for d in b["days"]] == [
        ("2026-12-02", "2026-12-02T13:00:00Z", 10.0)]
    (start, end) = b["forecast"]
    assert start == {"ts": "2026-12-02T13:00:00Z", "cumulative_usd": 10.0}
    assert end["ts"] == "2026-12-03T00:00:00Z"
    assert end["cumulative_usd"] == pytest.approx(10 / 13 * 24)  # $18.46 at the 13 hours' rate
    (early,) = burndown(running, "2026-12-02T00:00:00Z")  # nothing of the day elapsed yet
    assert (early["days"], early["forecast"], early["forecast_usd"]) == ([], [], None)
    bad = requests.get(f"{running.api_url}/v1/budgets/burndown", params={"at": "yesterday"}, timeout=30)
    assert bad.status_code == 400
    assert "'at'" in bad.json()["message"]


def test_cost_series_from_the_calls_by_prompt_version() -> None:
    db = fresh_db()
    insert_calls(db, VERSIONS, T0)
    run_rollups(db, PRICES, T0 + timedelta(days=1))
    params = {"from": T0.isoformat(), "to": at(60).isoformat(), "grain": "1h", "by": ["prompt_version"],
              "where": {"workflow": "support"}}
    rows = run_query(db, "cost_series_calls", params).to_pylist()
    assert [(r["bucket"], r["prompt_version"], r["requests"], round(r["cost_usd"], 9)) for r in rows] == [
        (T0, "v7", 2, 0.042), (T0, "v8", 2, 0.037)]
    by_minute = run_query(db, "cost_series_calls", {**params, "grain": "1m", "by": []}).to_pylist()
    assert [(r["bucket"], r["requests"]) for r in by_minute] == [(at(i), 1) for i in range(1, 5)]
