"""trace_search and trace_waterfall over the hand-made traces of trace_rows (values by hand there)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from trace_rows import PRICED, RANGE, UNPRICED, A, B, C, fill, sid, trace_db

from outcrop.analytics.queries import QueryError, run_query
from outcrop.core.settings import StagesSettings
from outcrop.core.store.writer import Store

STAGES = StagesSettings().model_dump()


def _search(**params: Any) -> list[dict[str, Any]]:
    return run_query(trace_db(), "trace_search", {**RANGE, "limit": 10, **params}).to_pylist()


def test_traces_of_the_range_newest_first_with_cost_tokens_duration_and_status() -> None:
    rows = _search()
    assert [r["trace_id"] for r in rows] == [C, B, A]  # D started before the range
    a = rows[2]
    assert (a["root_name"], a["tenant"], a["route"], a["calls"]) == ("POST /api/chat", "acme", "chat", 3)
    assert (a["input_tokens"], a["cache_read_tokens"], a["cache_write_tokens"], a["output_tokens"]) == (
        1100, 3000, None, 200)
    assert a["tokens"] == 4300
    assert a["cost_usd"] == pytest.approx(0.0072, abs=1e-12)
    assert (a["duration_ms"], a["status"], a["models"]) == (1200.0, "throttled", [PRICED])


def test_an_unpriced_call_leaves_the_cost_unknown_and_a_root_error_makes_the_trace_an_error() -> None:
    b = _search()[1]
    assert (b["cost_usd"], b["unpriced_calls"], b["status"], b["models"]) == (None, 1, "error", [UNPRICED])


def test_a_span_whose_parent_never_arrived_is_the_root_and_a_trace_without_calls_has_none() -> None:
    c = _search()[0]
    assert (c["root_name"], c["calls"], c["cost_usd"], c["tokens"], c["duration_ms"], c["status"]) == (
        "GET /api/health", 0, None, None, 50.0, "ok")


@pytest.mark.parametrize(("params", "expected"), [
    ({"where": {"model": PRICED}}, [A]),
    ({"where": {"tenant": "globex"}}, [B]),
    ({"where": {"route": ["chat", "search"], "region": "us-east-1"}}, [B, A]),
    ({"status": "error"}, [B]),
    ({"status": "ok"}, [C]),
    ({"min_duration_ms": 400}, [B, A]),
    ({"min_duration_ms": 1000.5}, [A]),
    ({"min_cost_usd": 0.007}, [A]),
    ({"min_cost_usd": 0.0073}, []),
    ({"trace_id": B.upper()}, [B]),
    ({"request_id": "req-a5"}, [A]),
    ({"limit": 2}, [C, B]),
])  # fmt: skip
def test_search_narrows_by_each_parameter(params: dict[str, Any], expected: list[str]) -> None:
    assert [r["trace_id"] for r in _search(**params)] == expected


@pytest.mark.parametrize(("params", "message"), [
    ({"status": "slow"}, "'status' must be one of ok, error, throttled"),
    ({"min_duration_ms": -1}, "'min_duration_ms' must be a number, 0 or more"),
    ({"min_cost_usd": "cheap"}, "'min_cost_usd' must be a number"),
    ({"request_id": ""}, "'request_id' is required and must be a non-empty string"),
])  # fmt: skip
def test_bad_search_parameters_are_named(params: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        _search(**params)


def test_trace_cost_still_needs_its_trace_id() -> None:
    with pytest.raises(QueryError, match="'trace_id' is required"):
        run_query(trace_db(), "trace_cost", {})


def _waterfall() -> list[dict[str, Any]]:
    return run_query(trace_db(), "trace_waterfall", {"trace_id": A, "stages": STAGES}).to_pylist()


def test_waterfall_has_every_span_with_depth_and_stage() -> None:
    rows = _waterfall()
    assert [(r["name"], r["depth"], r["stage"]) for r in rows] == [
        ("POST /api/chat", 0, "other"),
        ("retrieve documents", 1, "retrieval"),
        ("embeddings amazon.titan-embed", 2, "retrieval"),
        ("build_prompt", 1, "prompt"),
        ("chat test.model", 1, "retry"),  # throttled, then tried again
        ("chat test.model", 1, "inference"),
        ("apply_guardrail", 1, "guardrail"),
    ]


def test_waterfall_labels_llm_spans_with_their_call() -> None:
    served = _waterfall()[5]
    assert (served["model"], served["input_tokens"], served["cache_read_tokens"], served["output_tokens"]) == (
        PRICED, 1000, 3000, 200)
    assert served["cost_usd"] == pytest.approx(0.0069, abs=1e-12)
    assert (served["ttft_ms"], served["ttlt_ms"], served["call_status"], served["attempt"]) == (80.0, 200.0, "ok", 2)
    throttled = _waterfall()[4]
    assert (throttled["call_status"], throttled["attempt"], throttled["attempt_role"]) == ("throttled", 1, "retry")
    assert _waterfall()[1]["call_id"] is None


def test_an_attempt_on_another_model_after_a_failure_is_a_fallback() -> None:
    con = trace_db()
    con.execute("UPDATE llm_calls SET model = ? WHERE call_id = ?", [UNPRICED, A + sid(6)])
    rows = run_query(con, "trace_waterfall", {"trace_id": A, "stages": STAGES}).to_pylist()
    assert [(r["stage"], r["attempt_role"]) for r in rows[4:6]] == [("retry", "retry"), ("fallback", "fallback")]


def test_waterfall_endpoint_reads_the_server_stages(server_factory: Any, db_path: str) -> None:
    store = Store.open(db_path)
    store.write(fill)
    store.close()
    stages = {"map": {"fetch": ["retrieve*"], "model": ["chat *"]}, "llm_stage": "model"}
    server = server_factory(stages=stages)
    resp = requests.get(server.api_url + f"/v1/traces/{A}/waterfall", timeout=30)
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert [r["stage"] for r in rows] == ["other", "fetch", "fetch", "other", "retry", "model", "other"]
    assert rows[0]["attributes"] == {"k": "v"}  # JSON as objects, as GET /v1/traces/{id}
    found = requests.post(server.api_url + "/v1/queries/trace_search", timeout=30,
                          json={"params": {"from": "2025-03-03T10:00:00Z", "to": "2025-03-03T11:00:00Z",
                                           "request_id": "req-a6", "limit": 5}}).json()
    assert [(r["trace_id"], r["cost_usd"]) for r in found] == [(A, pytest.approx(0.0072, abs=1e-12))]


def test_trace_endpoints_need_the_reader_token_when_set(server_factory: Any) -> None:
    server = server_factory(server={"api_token": "reader-secret"})
    waterfall = server.api_url + f"/v1/traces/{A}/waterfall"
    stages = server.api_url + "/v1/reports/stage_latency"
    body = {"params": {"from": "2025-03-03T10:00:00Z", "to": "2025-03-03T11:00:00Z"}}
    assert requests.get(waterfall, timeout=30).status_code == 401
    assert requests.post(stages, json=body, timeout=30).status_code == 401
    auth = {"authorization": "Bearer reader-secret"}
    assert requests.get(waterfall, headers=auth, timeout=30).json() == []
    assert requests.post(stages, json=body, headers=auth, timeout=30).json() == []
