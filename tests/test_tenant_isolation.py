"""Tenant isolation where data from several senders meets: the merge of spans with
Bedrock invocation logs (request ids), attribution inheritance across a trace, and
trace/span ids sent twice.

Spans go through the real server with ingest keys bound to tenants; invocation logs go
through the real file source. Totals are read the way a user reads them: sums over
llm_calls and the named `usage` query after the rollup job.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_payloads import llm_attrs, request, sid, span, tid

from outcrop.analytics.jobs import run_jobs
from outcrop.analytics.queries import run_query
from outcrop.collector.sources import read_log_source_once
from outcrop.core.clock import datetime_to_ns
from outcrop.core.settings import Settings
from tests.conftest import RunningServer, make_settings

T0 = datetime(2026, 11, 20, 10, 0, 0)
T0_NS = datetime_to_ns(T0)
KEY_A, KEY_B = "key-tenant-a-0001", "key-tenant-b-0002"
KEYS = {"api_keys": [{"key": KEY_A, "tenant": "tenant-a"}, {"key": KEY_B, "tenant": "tenant-b"}]}
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
LOG_SETTINGS: Settings = make_settings(profiles={"resolve_with_api": False})
PB = {"content-type": "application/x-protobuf"}


def post(server: RunningServer, body: bytes, key: str | None) -> ExportTraceServiceResponse:
    headers = {**PB, **({"x-api-key": key} if key else {})}
    resp = requests.post(server.traces_url, data=body, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    answer = ExportTraceServiceResponse()
    answer.ParseFromString(resp.content)
    return answer


def llm_span(trace: int, request_id: str, *, input_tokens: int = 999, **attrs: Any) -> Any:
    """A Bedrock client span whose own token counts differ from the log's."""
    return span(tid(trace), sid(1), kind=3, start_ns=T0_NS, name=f"chat {trace}",
                attrs=llm_attrs(request_id, **{"gen_ai.usage.input_tokens": input_tokens, **attrs}))


def send_span(server: RunningServer, trace: int, request_id: str, key: str | None,
              resource: dict[str, Any] | None = None, **attrs: Any) -> ExportTraceServiceResponse:
    body = request(llm_span(trace, request_id, **attrs), resource=resource).SerializeToString()
    return post(server, body, key)


def log_record(request_id: str, *, tenant: str | None, account: str, input_tokens: int = 70_000) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog", "timestamp": T0.isoformat() + "Z", "requestId": request_id,
        "accountId": account, "region": "us-east-1", "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputTokenCount": input_tokens}, "output": {"outputTokenCount": 500},
    }
    if tenant is not None:
        record["requestMetadata"] = {"tenant": tenant}
    return record


def ingest_logs(server: RunningServer, tmp_path: Path, records: list[dict[str, Any]]) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    read_log_source_once(server.store, LOG_SETTINGS, str(path), T0 + timedelta(hours=1))


def calls(server: RunningServer) -> list[dict[str, Any]]:
    return server.store.query(
        "SELECT request_id, call_id, source, tenant, input_tokens FROM llm_calls ORDER BY request_id, call_id"
    ).to_pylist()


def conflicts(server: RunningServer) -> list[tuple[Any, ...]]:
    rows = server.store.query(
        "SELECT request_id, call_id, claimed_tenant, owner_tenant, reason FROM request_id_conflicts "
        "ORDER BY request_id, call_id").to_pylist()
    return [tuple(r.values()) for r in rows]


def usage_by_tenant(server: RunningServer) -> dict[str, tuple[int, int]]:
    run_jobs(server.store, LOG_SETTINGS, ["rollups"], T0 + timedelta(days=2))
    rows = run_query(server.store, "usage", {"from": T0 - timedelta(hours=1), "to": T0 + timedelta(hours=1),
                                             "by": ["tenant"]}).to_pylist()
    return {r["tenant"]: (r["requests"], r["input_tokens"]) for r in rows}


def call_id(trace: int) -> str:
    return tid(trace) + sid(1)


# -- 1. Bedrock request ids: one request is one row, owned by the log's tenant ------------


@pytest.mark.parametrize("order", ["span_then_log", "log_then_span"])
def test_span_with_another_tenants_request_id_does_not_take_its_call(
        order: str, server_factory: Any, tmp_path: Path) -> None:
    server = server_factory(ingest=KEYS)
    steps = [lambda: send_span(server, 1, "req-b", KEY_A),
             lambda: ingest_logs(server, tmp_path, [log_record("req-b", tenant="tenant-b", account=ACCOUNT_B)])]
    for step in steps if order == "span_then_log" else reversed(steps):
        step()
    assert calls(server) == [{"request_id": "req-b", "call_id": "req-b", "source": "bedrock_log",
                              "tenant": "tenant-b", "input_tokens": 70_000}]
    assert conflicts(server) == [("req-b", call_id(1), "tenant-a", "tenant-b", "tenant_mismatch")]
    # A's span is kept for its trace; only the call is not A's
    assert server.store.query("SELECT count(*) FROM spans").column(0)[0].as_py() == 1
    assert usage_by_tenant(server) == {"tenant-b": (1, 70_000)}


@pytest.mark.parametrize("order", ["span_then_log", "log_then_span"])
def test_span_stating_another_account_does_not_merge(order: str, server_factory: Any, tmp_path: Path) -> None:
    server = server_factory(ingest=KEYS)
    steps = [lambda: send_span(server, 1, "req-x", KEY_A, resource={"cloud.account.id": ACCOUNT_A}),
             lambda: ingest_logs(server, tmp_path, [log_record("req-x", tenant=None, account=ACCOUNT_B)])]
    for step in steps if order == "span_then_log" else reversed(steps):
        step()
    assert calls(server) == [{"request_id": "req-x", "call_id": "req-x", "source": "bedrock_log",
                              "tenant": "unattributed", "input_tokens": 70_000}]
    assert conflicts(server) == [("req-x", call_id(1), "tenant-a", None, "account_mismatch")]


def _tester_scenario(server: RunningServer, tmp_path: Path, order: str) -> None:
    """Three requests in the logs; five spans claim them (the tester's report)."""
    logs = [log_record("req-1", tenant="tenant-a", account=ACCOUNT_A),
            log_record("req-2", tenant="tenant-b", account=ACCOUNT_B),
            log_record("req-3", tenant=None, account=ACCOUNT_A)]
    spans = [(1, "req-1", KEY_A), (2, "req-1", KEY_A),  # the same tenant twice
             (3, "req-1", KEY_B),                        # another tenant's request
             (4, "req-2", KEY_A), (5, "req-2", KEY_B),   # a forged claim, then the owner's
             (6, "req-3", KEY_A), (7, "req-3", KEY_B)]   # a log that names no tenant
    if order == "log_then_spans":
        ingest_logs(server, tmp_path, logs)
    for trace, request_id, key in spans:
        send_span(server, trace, request_id, key)
        if order == "interleaved":
            usage_by_tenant(server)  # rollups run between writes and must follow every move
    if order != "log_then_spans":
        ingest_logs(server, tmp_path, logs)


@pytest.mark.parametrize("order", ["spans_then_log", "log_then_spans", "interleaved"])
def test_each_request_is_one_row_whatever_the_order_and_totals_equal_the_logs(
        order: str, server_factory: Any, tmp_path: Path) -> None:
    server = server_factory(ingest=KEYS)
    _tester_scenario(server, tmp_path, order)
    merged = {"source": "merged", "input_tokens": 70_000}
    assert calls(server) == [
        {"request_id": "req-1", "call_id": call_id(1), "tenant": "tenant-a", **merged},
        {"request_id": "req-2", "call_id": call_id(5), "tenant": "tenant-b", **merged},
        {"request_id": "req-3", "call_id": call_id(6), "tenant": "tenant-a", **merged},
    ]
    logged = server.store.query("SELECT sum(input_tokens) FROM bedrock_invocations").column(0)[0].as_py()
    assert logged == 210_000
    assert usage_by_tenant(server) == {"tenant-a": (2, 140_000), "tenant-b": (1, 70_000)}
    assert conflicts(server) == [
        ("req-1", call_id(2), "tenant-a", "tenant-a", "duplicate"),
        ("req-1", call_id(3), "tenant-b", "tenant-a", "tenant_mismatch"),
        ("req-2", call_id(4), "tenant-a", "tenant-b", "tenant_mismatch"),
        ("req-3", call_id(7), "tenant-b", "tenant-a", "duplicate"),
    ]


def test_two_spans_with_one_request_id_and_no_log_are_one_row(server_factory: Any) -> None:
    server = server_factory(ingest=KEYS)
    send_span(server, 1, "req-9", KEY_A, input_tokens=300)
    send_span(server, 2, "req-9", KEY_B, input_tokens=400)
    send_span(server, 1, "req-9", KEY_A, input_tokens=300)  # a retry changes nothing
    assert calls(server) == [{"request_id": "req-9", "call_id": call_id(1), "source": "otlp",
                              "tenant": "tenant-a", "input_tokens": 300}]
    assert conflicts(server) == [("req-9", call_id(2), "tenant-b", "tenant-a", "duplicate")]
    assert usage_by_tenant(server) == {"tenant-a": (1, 300)}


# -- 2. Attribution never crosses tenants or ingest keys ------------------------------------


def _parent_and_child(trace: int) -> tuple[Any, Any]:
    parent = span(tid(trace), sid(1), name="POST /chat", start_ns=T0_NS,
                  attrs={"route": "premium", "workflow.name": "a-workflow", "user.id": "a-user"})
    child = span(tid(trace), sid(2), parent=sid(1), kind=3, name="chat child", start_ns=T0_NS,
                 attrs=llm_attrs())
    return parent, child


@pytest.mark.parametrize("child_first", [True, False])
def test_span_never_inherits_from_a_parent_sent_with_another_key(child_first: bool, server_factory: Any) -> None:
    server = server_factory(ingest=KEYS)
    parent, child = _parent_and_child(30)
    sends = [(child, KEY_B), (parent, KEY_A)]
    for s, key in sends if child_first else reversed(sends):
        post(server, request(s).SerializeToString(), key)
    rows = server.store.query("SELECT tenant, route, workflow, user_id FROM llm_calls").to_pylist()
    assert rows == [{"tenant": "tenant-b", "route": "unattributed", "workflow": "chat child", "user_id": None}]
    spans = server.store.query("SELECT span_id, tenant, route FROM spans ORDER BY span_id").to_pylist()
    assert spans == [{"span_id": sid(1), "tenant": "tenant-a", "route": "premium"},
                     {"span_id": sid(2), "tenant": "tenant-b", "route": "unattributed"}]


@pytest.mark.parametrize("child_first", [True, False])
def test_open_ingest_inherits_within_a_tenant_but_not_across_stated_tenants(
        child_first: bool, server: RunningServer) -> None:
    parent = span(tid(40), sid(1), name="POST /chat", start_ns=T0_NS,
                  attrs={"tenant.id": "acme", "route": "premium", "user.id": "u-1"})
    own = span(tid(40), sid(2), parent=sid(1), kind=3, name="chat", start_ns=T0_NS, attrs=llm_attrs())
    other = span(tid(40), sid(3), parent=sid(1), kind=3, name="chat", start_ns=T0_NS,
                 attrs=llm_attrs(**{"tenant.id": "globex"}))
    order = [own, other, parent] if child_first else [parent, own, other]
    for s in order:
        post(server, request(s).SerializeToString(), None)
    rows = server.store.query("SELECT span_id, tenant, route, user_id FROM llm_calls ORDER BY span_id").to_pylist()
    assert rows == [{"span_id": sid(2), "tenant": "acme", "route": "premium", "user_id": "u-1"},
                    {"span_id": sid(3), "tenant": "globex", "route": "unattributed", "user_id": None}]


# -- 3. Trace/span ids already stored by another sender -------------------------------------


def test_span_ids_stored_by_another_sender_are_refused_and_not_counted(server_factory: Any) -> None:
    server = server_factory(ingest=KEYS)
    first = send_span(server, 50, "req-50", KEY_A, input_tokens=100)
    assert first.partial_success.rejected_spans == 0
    forged = send_span(server, 50, "req-51", KEY_B, input_tokens=777)
    assert forged.partial_success.rejected_spans == 1
    assert forged.partial_success.error_message == (
        f"span {sid(1)}: trace/span id already stored by another sender")
    retry = send_span(server, 50, "req-50", KEY_A, input_tokens=100)
    assert retry.partial_success.rejected_spans == 0
    assert calls(server) == [{"request_id": "req-50", "call_id": call_id(50), "source": "otlp",
                              "tenant": "tenant-a", "input_tokens": 100}]
    stored = server.store.query("SELECT count(*) AS n, min(tenant) AS t FROM spans").to_pylist()
    assert stored == [{"n": 1, "t": "tenant-a"}]
    assert usage_by_tenant(server) == {"tenant-a": (1, 100)}


def test_open_ingest_span_ids_with_another_stated_tenant_are_refused(server: RunningServer) -> None:
    assert send_span(server, 60, "req-60", None, **{"tenant.id": "acme"}).partial_success.rejected_spans == 0
    assert send_span(server, 60, "req-60", None, **{"tenant.id": "acme"}).partial_success.rejected_spans == 0
    other = send_span(server, 60, "req-61", None, input_tokens=777, **{"tenant.id": "globex"})
    assert other.partial_success.rejected_spans == 1
    assert calls(server) == [{"request_id": "req-60", "call_id": call_id(60), "source": "otlp",
                              "tenant": "acme", "input_tokens": 999}]
