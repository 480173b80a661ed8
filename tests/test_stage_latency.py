"""stage_latency and latency_vs_output over the hand-made traces of trace_rows.

Trace A (chat, 1,200 ms): retrieval 100 ms (the embedding inside it is not counted again),
prompt 5 ms, inference 390 + 200 = 590 ms (the throttled attempt and its retry), guardrail
90 ms, other 1,200 - 785 = 415 ms. Trace C (chat, 50 ms): other 50 ms. Trace B (search,
400 ms): inference 380 ms, other 20 ms. Percentiles interpolate as quantile_cont does:
chat's other p50 = (50 + 415) / 2 = 232.5, p95 = 50 + 0.95 * 365 = 396.75.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from trace_rows import PRICED, RANGE, UNPRICED, A, B, fill, trace_db

from outcrop.analytics.queries import QueryError, run_query
from outcrop.core.settings import StagesSettings
from outcrop.core.store.writer import Store

STAGES = StagesSettings().model_dump()


def _stages(stages: dict[str, Any] = STAGES, **params: Any) -> list[tuple[Any, ...]]:
    rows = run_query(trace_db(), "stage_latency", {**RANGE, "stages": stages, **params}).to_pylist()
    return [(r["route"], r["stage"], r["traces"], r["p50_ms"], r["p95_ms"]) for r in rows]


def test_time_per_stage_per_route_by_the_default_stages() -> None:
    assert _stages() == [
        ("chat", "retrieval", 1, 100.0, 100.0),
        ("chat", "prompt", 1, 5.0, 5.0),
        ("chat", "inference", 1, 590.0, 590.0),
        ("chat", "guardrail", 1, 90.0, 90.0),
        ("chat", "other", 2, 232.5, 396.75),
        ("search", "inference", 1, 380.0, 380.0),
        ("search", "other", 1, 20.0, 20.0),
    ]


def test_each_route_row_carries_its_trace_count_and_duration_percentiles() -> None:
    rows = run_query(trace_db(), "stage_latency", {**RANGE, "stages": STAGES}).to_pylist()
    chat = rows[0]
    # durations 50 and 1,200: p50 625, p95 50 + 0.95 * 1,150
    assert (chat["route_traces"], chat["trace_p50_ms"], chat["trace_p95_ms"]) == (2, 625.0, 1142.5)


def test_a_custom_mapping_renames_and_reorders_stages() -> None:
    stages = {"map": {"model": ["chat *"], "fetch": ["retrieve*"]}, "llm_stage": "model"}
    # build_prompt and apply_guardrail fall in no stage: A's other is 1,200 - 690 = 510, so
    # other p50 = (50 + 510) / 2, p95 = 50 + 0.95 * 460
    assert _stages(stages, where={"tenant": "acme"}) == [
        ("chat", "model", 1, 590.0, 590.0),
        ("chat", "fetch", 1, 100.0, 100.0),
        ("chat", "other", 2, 280.0, 487.0),
    ]


def test_a_call_filter_keeps_the_traces_with_a_matching_call() -> None:
    assert [r[0] for r in _stages(where={"model": UNPRICED})] == ["search", "search"]
    assert {r[0] for r in _stages(where={"model": PRICED})} == {"chat"}


@pytest.mark.parametrize(("stages", "message"), [
    (None, "'stages' is required"),
    ({"map": {"a": ["x*"]}, "llm_stage": "b"}, "llm_stage 'b' is not a stage of map"),
    ({"map": {"a": "x*"}, "llm_stage": "a"}, r"parameter 'stages\.map\.a'"),
])  # fmt: skip
def test_bad_stages_are_named(stages: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        _stages(stages)


def test_latency_points_are_successful_calls_with_output_tokens() -> None:
    rows = run_query(trace_db(), "latency_vs_output", {**RANGE, "limit": 10}).to_pylist()
    # A's served call (200 tokens, 200 ms), B's (10, 380) and D's in-range child (5, 100,000)
    points = sorted((r["trace_id"], r["output_tokens"], r["ttlt_ms"], r["model"]) for r in rows)
    assert points == [(A, 200, 200.0, PRICED), (B, 10, 380.0, UNPRICED), ("d" * 32, 5, 100_000.0, PRICED)]
    assert {r["sampled_from"] for r in rows} == {3}


def test_latency_points_are_a_stable_bounded_sample() -> None:
    con = trace_db()
    one = run_query(con, "latency_vs_output", {**RANGE, "limit": 2}).column("call_id").to_pylist()
    assert len(one) == 2
    assert run_query(con, "latency_vs_output", {**RANGE, "limit": 2}).column("call_id").to_pylist() == one
    assert run_query(con, "latency_vs_output", {**RANGE, "limit": 5, "where": {"route": "search"}}).num_rows == 1


def test_stage_latency_endpoint_uses_the_server_stages(server_factory: Any, db_path: str) -> None:
    store = Store.open(db_path)
    store.write(fill)
    store.close()
    server = server_factory(stages={"map": {"model": ["chat *"], "fetch": ["retrieve*"]}, "llm_stage": "model"})
    url = server.api_url + "/v1/reports/stage_latency"
    params = {"from": "2025-03-03T10:00:00Z", "to": "2025-03-03T11:00:00Z", "where": {"route": "search"}}
    rows = requests.post(url, json={"params": params}, timeout=30).json()
    assert [(r["stage"], r["p50_ms"]) for r in rows] == [("model", 380.0), ("other", 20.0)]
    refused = requests.post(url, json={"params": {**params, "stages": STAGES}}, timeout=30)
    assert refused.status_code == 400 and "[stages] settings" in refused.json()["message"]
