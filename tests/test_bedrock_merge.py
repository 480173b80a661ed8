"""Same call, two sources: a botocore-instrumented span and the invocation-log line with
the same request id become one `merged` row whichever arrives first (docs/architecture.md).

The span comes from the real opentelemetry-instrumentation-botocore package calling the
fake Bedrock runtime; the log line goes through the real file source and the real Store.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.sources import read_log_source_once
from outcrop.collector.span_batch import build_span_batch, write_span_batch
from outcrop.core.records import SpanRecord
from outcrop.core.settings import ProfilesSettings, Settings
from outcrop.core.store.writer import Store
from tests.fakes.bedrock_runtime import FakeBedrockRuntime, FakeReply
from tests.producers import capture, converse

NOW = datetime(2026, 11, 20, 15, 0, 0)
REQUEST_ID = "7c1d2e3f-0000-4a4a-8b8b-123456789abc"


def botocore_span() -> SpanRecord:
    # The span's own token counts differ from the log's so the test can tell who won.
    reply = FakeReply(input_tokens=999, cache_read_tokens=2999, output_tokens=199,
                      request_id=REQUEST_ID)
    with FakeBedrockRuntime([reply]) as fake:
        spans = capture("botocore", fake.endpoint_url, converse,
                        baggage={"tenant.id": "acme", "app.route": "/support"})
    (span,) = spans
    assert span.attributes.get("aws.request_id") == REQUEST_ID
    return span


def log_file(tmp_path: Path, span: SpanRecord, tenant: str = "acme") -> Path:
    started = datetime.fromtimestamp(span.start_ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {
        "schemaType": "ModelInvocationLog", "timestamp": started, "requestId": REQUEST_ID,
        "accountId": "111122223333", "region": "us-east-1", "operation": "Converse",
        "modelId": str(span.attributes.get("gen_ai.request.model")),
        "requestMetadata": {"tenant": tenant, "workflow": "support-chat"},
        "input": {"inputTokenCount": 1000, "cacheReadInputTokenCount": 3000},
        "output": {"outputTokenCount": 200,
                   "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 5}}},
    }
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


def write_span(store: Store, span: SpanRecord, settings: Settings) -> None:
    batch = build_span_batch([span], settings.attribution, bound_tenant=None, received_at=NOW)
    store.write(lambda con: write_span_batch(con, batch, NOW))


@pytest.mark.parametrize("order", ["span_then_log", "log_then_span"])
def test_span_and_log_merge_into_one_row_in_either_order(order: str, tmp_path: Path) -> None:
    span = botocore_span()
    settings = Settings(profiles=ProfilesSettings(resolve_with_api=False))
    path = log_file(tmp_path, span)
    store = Store.open(str(tmp_path / "outcrop.duckdb"))
    try:
        steps: list[Any] = [lambda: write_span(store, span, settings),
                            lambda: read_log_source_once(store, settings, str(path), NOW)]
        for step in steps if order == "span_then_log" else reversed(steps):
            step()
        rows = store.query(
            "SELECT call_id, source, request_id, trace_id, input_tokens, cache_read_tokens, "
            "output_tokens, tenant, route, workflow, ttlt_ms FROM llm_calls"
        ).to_pylist()
    finally:
        store.close()
    assert len(rows) == 1
    (row,) = rows
    assert (row["source"], row["request_id"], row["trace_id"]) == (
        "merged", REQUEST_ID, span.trace_id)
    # Tokens from Bedrock; attribution and client latency from the span.
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (
        1000, 3000, 200)
    assert (row["tenant"], row["route"]) == ("acme", "/support")
    assert row["workflow"] == "support-chat"  # requestMetadata fills what the trace lacks
    assert row["ttlt_ms"] == pytest.approx((span.end_ns - span.start_ns) / 1e6)


@pytest.mark.parametrize("order", ["span_then_log", "log_then_span"])
def test_span_and_log_stating_different_tenants_do_not_merge(order: str, tmp_path: Path) -> None:
    span = botocore_span()
    settings = Settings(profiles=ProfilesSettings(resolve_with_api=False))
    path = log_file(tmp_path, span, tenant="globex")
    store = Store.open(str(tmp_path / "outcrop.duckdb"))
    try:
        steps: list[Any] = [lambda: write_span(store, span, settings),
                            lambda: read_log_source_once(store, settings, str(path), NOW)]
        for step in steps if order == "span_then_log" else reversed(steps):
            step()
        rows = store.query("SELECT source, tenant, input_tokens FROM llm_calls").to_pylist()
        listed = store.query("SELECT claimed_tenant, owner_tenant, reason FROM request_id_conflicts").to_pylist()
    finally:
        store.close()
    # the invocation log is AWS's record of whose call it is: the call stays globex's, once
    assert rows == [{"source": "bedrock_log", "tenant": "globex", "input_tokens": 1000}]
    assert listed == [{"claimed_tenant": "acme", "owner_tenant": "globex", "reason": "tenant_mismatch"}]
