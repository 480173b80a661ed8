"""Reports by prompt_version, feature and user_id: keys the rollups do not keep, read
from llm_calls priced call by call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import QueryError, run_query
from outcrop.analytics.report import build_report
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PriceOverride, PricingSettings

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
# $1 per million input tokens, $10 per million output tokens: cost = in/1e6 + out/1e5
PRICES = PricingSettings(use_genai_prices=False,
                         overrides=(PriceOverride(model=MODEL, input_per_mtok=1.0, output_per_mtok=10.0),))
CALLS = [
    # v1: 2 calls x (1000 in, 100 out) = 2 x ($0.001 + $0.001) = $0.004
    *({"call_id": f"a{i}", "tenant": "acme", "prompt_version": "v1", "feature": "search",
       "user_id": "u1", "input_tokens": 1000, "output_tokens": 100} for i in range(2)),
    # v2: 3 calls x (2000 in, 500 out) = 3 x ($0.002 + $0.005) = $0.021; two for acme, one for globex
    *({"call_id": f"b{i}", "tenant": "acme" if i < 2 else "globex", "prompt_version": "v2",
       "feature": "summary", "user_id": f"u{i}", "input_tokens": 2000, "output_tokens": 500}
      for i in range(3)),
    # no prompt version: 500 in, 0 out = $0.0005
    {"call_id": "c0", "tenant": "globex", "prompt_version": None, "feature": "search", "user_id": "u1",
     "input_tokens": 500, "output_tokens": 0},
]  # fmt: skip


@pytest.fixture(scope="module")
def con() -> Any:
    db = fresh_db()
    insert_calls(db, [{**c, "ts": T0 + timedelta(minutes=i)} for i, c in enumerate(CALLS)], T0)
    run_rollups(db, PRICES, T0 + timedelta(days=1))
    return db


def _report(con: Any, kind: str, by: list[str], where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    run = lambda name, params: run_query(con, name, params)  # noqa: E731
    return build_report(run, kind, T0, T0 + timedelta(hours=1), by, where or {}).to_pylist()


def test_cost_by_prompt_version_is_the_sum_of_per_call_costs(con: Any) -> None:
    rows = {r["prompt_version"]: r for r in _report(con, "cost", ["prompt_version"])}
    assert {k: (r["requests"], r["unpriced_requests"]) for k, r in rows.items()} == {
        "v1": (2, 0), "v2": (3, 0), None: (1, 0)}
    assert rows["v1"]["cost_usd"] == pytest.approx(0.004)
    assert rows["v2"]["cost_usd"] == pytest.approx(0.021)
    assert rows[None]["cost_usd"] == pytest.approx(0.0005)
    assert rows["v2"]["cost_per_request_usd"] == pytest.approx(0.007)
    assert (rows["v2"]["input_tokens"], rows["v2"]["output_tokens"]) == (6000, 1500)
    per_call = [run_query(con, "call_cost", {"call_id": c["call_id"]}).to_pylist()[0]["cost_usd"] for c in CALLS]
    assert sum(r["cost_usd"] for r in rows.values()) == pytest.approx(sum(per_call))
    assert "tenant" not in next(iter(rows.values()))  # only the keys asked for are columns


def test_where_prompt_version_filters_the_calls(con: Any) -> None:
    rows = _report(con, "cost", ["tenant"], {"prompt_version": "v2"})
    assert {r["tenant"]: (r["requests"], round(r["cost_usd"], 9)) for r in rows} == {
        "acme": (2, 0.014), "globex": (1, 0.007)}


def test_rollup_keys_and_call_keys_group_together(con: Any) -> None:
    rows = _report(con, "usage", ["tenant", "feature"])
    got = {(r["tenant"], r["feature"]): (r["requests"], r["input_tokens"]) for r in rows}
    assert got == {("acme", "search"): (2, 2000), ("acme", "summary"): (2, 4000),
                   ("globex", "summary"): (1, 2000), ("globex", "search"): (1, 500)}


def test_usage_by_user_matches_the_rollup_path_in_total(con: Any) -> None:
    by_user = _report(con, "usage", ["user_id"])
    by_tenant = _report(con, "usage", ["tenant"])
    for key in ("requests", "input_tokens", "output_tokens", "cost_usd"):
        assert sum(r[key] for r in by_user) == pytest.approx(sum(r[key] for r in by_tenant)), key


def test_a_report_that_cannot_group_by_a_call_key_says_which_can(con: Any) -> None:
    with pytest.raises(QueryError, match="'prompt_version'.*usage, cost"):
        _report(con, "latency", ["prompt_version"])
    with pytest.raises(QueryError, match="unknown group key 'colour'"):
        _report(con, "cost", ["colour"])
