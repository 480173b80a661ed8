"""One implausible token count is refused alone; no stored count can stop the rollups or
overflow a query (ingest.max_tokens_per_call)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import make_settings
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_payloads import llm_attrs, request, sid, span, tid
from test_rollups_fixtures import fresh_db, insert_calls

from outcrop.analytics.jobs import run_jobs
from outcrop.analytics.queries import run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.collector.sources import read_log_source_once
from outcrop.core.settings import ConfigError, IngestSettings, PricingSettings, ProfilesSettings, Settings
from outcrop.core.store.writer import Store

PB = {"content-type": "application/x-protobuf"}
RANGE = {"from": "2000-01-01T00:00:00", "to": "2100-01-01T00:00:00"}
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
# $1 per million input tokens, $5 per million output tokens: costs a person can check
PRICED: dict[str, Any] = {
    "use_genai_prices": False,
    "overrides": [{"model": MODEL, "input_per_mtok": 1.0, "output_per_mtok": 5.0}],
}
MAX_INT64 = 2**63 - 1
T0 = datetime(2026, 11, 20, 10, 0)
NOW = T0 + timedelta(days=2)


def _post_spans(server: Any, *spans: Any) -> ExportTraceServiceResponse:
    resp = requests.post(server.traces_url, data=request(*spans).SerializeToString(), headers=PB, timeout=30)
    assert resp.status_code == 200
    return ExportTraceServiceResponse.FromString(resp.content)


def _run_rollups(server: Any) -> list[dict[str, Any]]:
    resp = requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=60)
    assert resp.status_code == 200
    runs: list[dict[str, Any]] = resp.json()
    return runs


def _query(server: Any, name: str, params: dict[str, Any]) -> requests.Response:
    return requests.post(server.api_url + f"/v1/queries/{name}", json={"params": params}, timeout=30)


def _by_tenant(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["tenant"]: row for row in rows}


def test_implausible_count_rejects_its_span_alone_and_the_rollups_go_on(server_factory: Any) -> None:
    server = server_factory(pricing=PRICED)
    tenant_a, tenant_b = {"tenant.id": "tenant-a"}, {"tenant.id": "tenant-b"}
    answer = _post_spans(
        server,
        span(tid(101), sid(1), kind=3, attrs=llm_attrs(**tenant_a, **{"gen_ai.usage.input_tokens": 1_500_000_000_000})),
        span(tid(101), sid(2), kind=3, attrs=llm_attrs(**tenant_a)),
        span(tid(102), sid(3), kind=3, attrs=llm_attrs(**tenant_b)),
        span(tid(102), sid(4), kind=3, attrs=llm_attrs(**tenant_b, **{
            "gen_ai.usage.input_tokens": 3000, "gen_ai.usage.output_tokens": 700})),
    )
    partial = answer.partial_success
    assert partial.rejected_spans == 1
    assert sid(1) in partial.error_message and "gen_ai.usage.input_tokens" in partial.error_message
    assert "100,000,000" in partial.error_message and "ingest.max_tokens_per_call" in partial.error_message
    kept = server.store.query(f"SELECT span_id FROM spans WHERE trace_id = '{tid(101)}'").column(0).to_pylist()
    assert kept == [sid(2)]  # the sibling is stored, the hostile span is not

    assert [run["status"] for run in _run_rollups(server)] == ["ok"]
    usage = _query(server, "usage", {**RANGE, "by": ["tenant"]})
    assert usage.status_code == 200
    rows = _by_tenant(usage.json())
    b = rows["tenant-b"]
    assert (b["requests"], b["input_tokens"], b["output_tokens"]) == (2, 1000 + 3000, 200 + 700)
    assert round(b["cost_usd"], 12) == round(4000 * 1e-6 + 900 * 5e-6, 12)  # $0.0085
    a = rows["tenant-a"]
    assert (a["requests"], a["input_tokens"], a["output_tokens"]) == (1, 1000, 200)


def test_max_int64_counts_never_make_a_query_answer_500(server_factory: Any) -> None:
    server = server_factory(pricing=PRICED)
    answer = _post_spans(
        server,
        span(tid(201), sid(1), kind=3, attrs=llm_attrs(**{
            "gen_ai.usage.input_tokens": MAX_INT64, "gen_ai.usage.output_tokens": MAX_INT64})),
        span(tid(201), sid(2), kind=3, attrs=llm_attrs()),
    )
    assert answer.partial_success.rejected_spans == 1
    assert [run["status"] for run in _run_rollups(server)] == ["ok"]
    top = _query(server, "top_traces", {**RANGE, "limit": 5})
    assert top.status_code == 200, top.text
    assert [(r["trace_id"], r["calls"], r["tokens"]) for r in top.json()] == [(tid(201), 1, 1200)]
    trace = _query(server, "trace_cost", {"trace_id": tid(201)})
    assert trace.status_code == 200, trace.text
    assert [(r["calls"], r["input_tokens"], r["output_tokens"]) for r in trace.json()] == [(1, 1000, 200)]
    for name in ("usage", "cost"):
        resp = _query(server, name, {**RANGE, "by": ["tenant"]})
        assert resp.status_code == 200, resp.text
        assert [r["requests"] for r in resp.json()] == [1]


def _log_record(request_id: str, **tokens: Any) -> dict[str, Any]:
    counts = {"inputTokenCount": 100, "outputTokenCount": 10, **tokens}
    return {
        "schemaType": "ModelInvocationLog", "timestamp": "2026-11-20T14:00:00Z",
        "region": "us-east-1", "requestId": request_id, "operation": "Converse", "modelId": MODEL,
        "input": {k: v for k, v in counts.items() if k != "outputTokenCount"},
        "output": {"outputTokenCount": counts["outputTokenCount"]},
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inputTokenCount", 1_500_000_000_000),
        ("outputTokenCount", 2**64 - 1),  # parses as an unsigned 64-bit integer
        ("outputTokenCount", 2**70),  # parses as a float
        ("cacheReadInputTokenCount", -5),
    ],
)
def test_invocation_log_line_with_an_implausible_count_is_a_bad_record(
    tmp_path: Path, db_path: str, field: str, value: int
) -> None:
    path = tmp_path / "logs.jsonl"
    lines = [_log_record("good-1"), _log_record("bad", **{field: value}), _log_record("good-2")]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    store = Store.open(db_path)
    try:
        settings = Settings(profiles=ProfilesSettings(resolve_with_api=False))
        totals = read_log_source_once(store, settings, str(path), NOW)
        assert (totals["records"], totals["errors"]) == (2, 1)
        stored = store.query("SELECT request_id, input_tokens FROM llm_calls ORDER BY 1").to_pylist()
        assert stored == [{"request_id": "good-1", "input_tokens": 100},
                          {"request_id": "good-2", "input_tokens": 100}]
        errors = store.query("SELECT line, reason FROM ingest_errors").to_pylist()
        assert len(errors) == 1 and errors[0]["line"] == 2
        assert field in errors[0]["reason"] and "100,000,000" in errors[0]["reason"]
    finally:
        store.close()


def _stored_before_the_bound() -> list[dict[str, Any]]:
    """Calls as an older version stored them: implausible counts went in unchecked."""
    a = {"tenant": "tenant-a"}
    b = {"tenant": "tenant-b"}
    return [
        {**a, "call_id": "a-huge", "trace_id": tid(301), "ts": T0, "input_tokens": 1_500_000_000_000,
         "output_tokens": 10},
        {**a, "call_id": "a-max", "trace_id": tid(302), "ts": T0 + timedelta(minutes=1),
         "input_tokens": MAX_INT64, "output_tokens": MAX_INT64},
        {**a, "call_id": "a-negative", "trace_id": tid(303), "ts": T0 + timedelta(minutes=2),
         "input_tokens": -5, "output_tokens": 10},
        {**a, "call_id": "a-good", "trace_id": tid(304), "ts": T0 + timedelta(minutes=3),
         "input_tokens": 100, "output_tokens": 10},
        {**b, "call_id": "b-1", "trace_id": tid(305), "ts": T0 + timedelta(minutes=1),
         "input_tokens": 1000, "output_tokens": 200},
        {**b, "call_id": "b-2", "trace_id": tid(305), "ts": T0 + timedelta(hours=3),
         "input_tokens": 3000, "cache_read_tokens": 500, "output_tokens": 700},
    ]


def test_rows_stored_before_the_bound_do_not_stop_the_rollups(store: Store) -> None:
    store.write(lambda con: insert_calls(con, _stored_before_the_bound(), T0))
    settings = make_settings(pricing=PRICED)
    runs = run_jobs(store, settings, ["rollups"], NOW)
    assert [(run["status"], run["error"]) for run in runs] == [("ok", None)]

    window = {"from": T0 - timedelta(days=1), "to": NOW}
    usage = _by_tenant(run_query(store, "usage", {**window, "by": ["tenant"]}).to_pylist())
    b = usage["tenant-b"]
    assert (b["requests"], b["input_tokens"], b["cache_read_tokens"], b["output_tokens"]) == (2, 4000, 500, 900)
    a = usage["tenant-a"]  # the implausible calls count as requests whose tokens are unknown
    assert (a["requests"], a["input_tokens"], a["output_tokens"]) == (4, 100, 10)
    assert a["input_tokens_per_request_mean"] == 100.0  # over the one call that reported any
    cost = _by_tenant(run_query(store, "cost", {**window, "by": ["tenant"]}).to_pylist())
    assert round(cost["tenant-b"]["cost_usd"], 12) == round(4500 * 1e-6 + 900 * 5e-6, 12)
    assert (cost["tenant-a"]["unpriced_requests"], round(cost["tenant-a"]["cost_usd"], 12)) == (3, 0.00015)

    top = run_query(store, "top_traces", {**window, "limit": 10}).to_pylist()
    assert {r["trace_id"]: r["tokens"] for r in top}[tid(302)] == 0
    trace = run_query(store, "trace_cost", {"trace_id": tid(302)}).to_pylist()
    assert [(r["calls"], r["input_tokens"], r["cost_usd"]) for r in trace] == [(1, None, None)]
    call = run_query(store, "call_cost", {"call_id": "a-max"}).to_pylist()
    assert [(r["input_tokens"], r["cost_usd"], r["implausible_tokens"]) for r in call] == [(None, None, True)]
    unpriced = run_query(store, "unpriced_models", window).to_pylist()
    assert unpriced == []  # the model has a price; those calls' tokens are what is unknown
    for name, extra in (("capacity", {"by": ["model"]}), ("latency", {"by": ["tenant"]}),
                        ("timeseries", {"by": ["tenant"], "grain": "1h"})):
        assert run_query(store, name, {**window, **extra}).num_rows >= 1


def test_rollups_from_before_the_bound_are_rewritten_and_readable_meanwhile() -> None:
    con = fresh_db()
    insert_calls(con, [r for r in _stored_before_the_bound() if r["tenant"] == "tenant-b"], T0)
    run_rollups(con, PricingSettings(), NOW)
    # An older version rolled up a call with 2**63-1 input tokens into the day row of the
    # same key, and kept no record of a token bound.
    con.execute("INSERT INTO rollup_counts_1d SELECT * REPLACE (?::BIGINT AS input_tokens) FROM rollup_counts_1d",
                [MAX_INT64])
    con.execute("DELETE FROM watermarks WHERE name = 'rollup.max_tokens_per_call'")
    window = {"from": T0 - timedelta(days=1), "to": NOW}
    before = run_query(con, "usage", {**window, "by": ["tenant"]}).to_pylist()
    assert [(r["requests"], r["input_tokens"]) for r in before] == [(4, None)]  # no sum, no 500
    run_rollups(con, PricingSettings(), NOW)
    after = run_query(con, "usage", {**window, "by": ["tenant"]}).to_pylist()
    assert [(r["requests"], r["input_tokens"]) for r in after] == [(2, 4000)]


def test_a_new_bound_rewrites_the_rollups_it_changes() -> None:
    con = fresh_db()
    insert_calls(con, [r for r in _stored_before_the_bound() if r["tenant"] == "tenant-b"], T0)
    run_rollups(con, PricingSettings(), NOW)
    run_rollups(con, PricingSettings(), NOW, max_tokens=2000)  # b-2's 3000 input tokens are now implausible
    rows = run_query(con, "usage", {"from": T0 - timedelta(days=1), "to": NOW, "by": ["tenant"]}).to_pylist()
    assert [(r["requests"], r["input_tokens"], r["output_tokens"]) for r in rows] == [(2, 1000, 200)]


def test_the_sql_default_bound_is_the_documented_default() -> None:
    con = fresh_db()
    assert con.execute("SELECT token_bound()").fetchone() == (IngestSettings().max_tokens_per_call,)
    assert IngestSettings().max_tokens_per_call == 100_000_000


@pytest.mark.parametrize("value", [0, -1, 10**10])
def test_the_bound_setting_is_checked(value: int) -> None:
    with pytest.raises(ConfigError, match=r"^configuration key 'ingest\.max_tokens_per_call': "):
        make_settings(ingest={"max_tokens_per_call": value})
