"""The demo workload, sent through the real OTel SDK and OTLP/HTTP exporter to a capture
server, and its invocation logs read back from disk."""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as PbStatus

from outcrop.demo import DEMO_PROFILES, WorkloadSummary, plan_workload, run_workload

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOW_NS = int(NOW.timestamp()) * 1_000_000_000
HISTORY_DAYS = 0.1
ATTRIBUTION_KEYS = ("tenant.id", "route", "workflow.name", "user.id", "prompt.version")
LOG_PATH = re.compile(
    r"AWSLogs/111122223333/BedrockModelInvocationLogs/(us-[a-z]+-\d)/"
    r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/\d{8}T\d{6}Z_[0-9a-f]{16}\.json\.gz"
)


@dataclass
class CapturedSpan:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, Any]
    events: list[str]
    resource: dict[str, Any]


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def _decode(body: bytes) -> list[CapturedSpan]:
    spans = []
    for rs in ExportTraceServiceRequest.FromString(body).resource_spans:
        resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append(CapturedSpan(
                    s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex() or None, s.name,
                    s.kind, s.start_time_unix_nano, s.end_time_unix_nano,
                    s.status.code == PbStatus.STATUS_CODE_ERROR,
                    {kv.key: _value(kv.value) for kv in s.attributes},
                    [e.name for e in s.events], resource))
    return spans


class CaptureServer:
    """Accepts OTLP/HTTP protobuf on POST /v1/traces and keeps the decoded spans."""

    def __init__(self, status: int = 200) -> None:
        self.spans: list[CapturedSpan] = []
        lock, spans = threading.Lock(), self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or status != 200:
                    self.send_error(404 if self.path != "/v1/traces" else status)
                    return
                with lock:
                    spans.extend(_decode(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/v1/traces"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Run:
    summary: WorkloadSummary
    spans: list[CapturedSpan]
    log_dir: Path

    def llm_spans(self) -> list[CapturedSpan]:
        return [s for s in self.spans if "gen_ai.operation.name" in s.attributes]

    def chat_spans(self) -> list[CapturedSpan]:
        return [s for s in self.spans if s.attributes.get("gen_ai.operation.name") == "chat"]

    def log_files(self) -> list[Path]:
        return sorted(self.log_dir.rglob("*.json.gz"))

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for f in self.log_files()
                for line in gzip.decompress(f.read_bytes()).decode().splitlines()]


def _run(tmp: Path, seed: int = 7) -> Run:
    server = CaptureServer()
    try:
        summary = run_workload(server.url, now=NOW, history_days=HISTORY_DAYS, seed=seed,
                               log_dir=tmp)
    finally:
        server.close()
    return Run(summary, server.spans, tmp)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield _run(tmp_path_factory.mktemp("logs"))


def test_every_exported_span_arrives_with_service_and_demo_environment(run: Run) -> None:
    assert run.summary.spans == len(run.spans) > 500
    assert run.summary.traces == sum(1 for s in run.spans if s.parent_id is None)
    assert {s.resource["service.name"] for s in run.spans} == {
        "support-api", "reports-service", "docs-pipeline", "code-review-bot"}
    assert {s.resource["deployment.environment.name"] for s in run.spans} == {"demo"}


def test_attribution_is_stated_on_roots_only(run: Run) -> None:
    roots = [s for s in run.spans if s.parent_id is None]
    children = [s for s in run.spans if s.parent_id is not None]
    assert all(all(k in r.attributes for k in ATTRIBUTION_KEYS) for r in roots)
    assert roots[0].kind == PbSpan.SPAN_KIND_SERVER
    assert not [c for c in children if any(k in c.attributes for k in ATTRIBUTION_KEYS)]
    names = Counter(c.name for c in children)
    assert names["retrieve documents"] and names["build_prompt"] and names["apply_guardrail"]


def test_llm_spans_follow_genai_conventions(run: Run) -> None:
    chats = run.chat_spans()
    assert chats and all(s.kind == PbSpan.SPAN_KIND_CLIENT for s in run.llm_spans())
    for span in chats:
        a = span.attributes
        assert span.name == f"chat {a['gen_ai.request.model']}"
        assert a["gen_ai.provider.name"] == a["gen_ai.system"] == "aws.bedrock"
        assert a["rpc.method"] in {"Converse", "ConverseStream", "InvokeModel",
                                   "InvokeModelWithResponseStream"}
        assert re.fullmatch(r"[0-9a-f-]{36}", a["aws.request_id"])
        assert a["cloud.region"] in {"us-east-1", "us-west-2"}
    ok = [s.attributes for s in chats if not s.error]
    assert all(a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
               for a in ok)
    assert {r for a in ok for r in a["gen_ai.response.finish_reasons"]} <= {"end_turn",
                                                                            "max_tokens"}
    assert any(a.get("gen_ai.usage.cache_read.input_tokens", 0) > 0 for a in ok)
    assert any(a.get("gen_ai.usage.cache_creation.input_tokens", 0) > 0 for a in ok)
    embeds = [s for s in run.llm_spans() if s.attributes["gen_ai.operation.name"] == "embeddings"]
    assert embeds and all(s.name == "embeddings amazon.titan-embed-text-v2:0" for s in embeds)


def test_converse_stream_spans_carry_ttft_in_seconds(run: Run) -> None:
    streams = [s for s in run.chat_spans()
               if s.attributes["rpc.method"] == "ConverseStream" and not s.error]
    assert len(streams) > 10
    for span in streams:
        ttft = span.attributes["gen_ai.response.time_to_first_chunk"]
        assert span.attributes["gen_ai.request.stream"] is True
        assert 0.05 < ttft < (span.end_ns - span.start_ns) / 1e9


def test_throttled_attempt_is_an_error_span_followed_by_a_retry(run: Run) -> None:
    throttled = [s for s in run.chat_spans()
                 if s.attributes.get("error.type") == "ThrottlingException"]
    assert len(throttled) >= 3
    assert all(s.error and "exception" in s.events for s in throttled)
    siblings = defaultdict(list)
    for s in run.chat_spans():
        siblings[s.parent_id].append(s)
    retried = [t for t in throttled
               if any(o.start_ns >= t.end_ns for o in siblings[t.parent_id])]
    assert len(retried) >= len(throttled) // 2


def test_fallback_route_moves_to_another_model_after_a_failure(run: Run) -> None:
    by_trace = defaultdict(list)
    for s in run.chat_spans():
        by_trace[s.trace_id].append(s)
    fallbacks = 0
    for spans in by_trace.values():
        spans.sort(key=lambda s: s.start_ns)
        for first, second in zip(spans, spans[1:], strict=False):
            model_a, model_b = (x.attributes["gen_ai.request.model"] for x in (first, second))
            fallbacks += first.error and not second.error and model_a != model_b
    assert fallbacks >= 1


def test_several_tenants_and_models_appear(run: Run) -> None:
    tenants = Counter(s.attributes["tenant.id"] for s in run.spans if s.parent_id is None)
    assert set(tenants) == {"acme", "globex", "initech"}
    assert tenants["acme"] > tenants["initech"]
    models = {s.attributes["gen_ai.request.model"] for s in run.llm_spans()}
    assert {"anthropic.claude-3-5-haiku-20241022-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0", "amazon.nova-pro-v1:0",
            "meta.llama3-1-70b-instruct-v1:0", "amazon.titan-embed-text-v2:0"} <= models
    assert set(DEMO_PROFILES) <= models
    assert set(run.summary.per_tenant) == {"acme", "globex", "initech", "umbrella"}


def test_timestamps_cover_the_history_and_the_live_window_is_denser(run: Run) -> None:
    starts = sorted(s.start_ns for s in run.spans if s.parent_id is None)
    history_start = NOW - timedelta(days=HISTORY_DAYS)
    assert starts[0] < int((history_start + timedelta(minutes=10)).timestamp() * 1e9)
    assert starts[0] >= int(history_start.timestamp() * 1e9)
    assert max(s.end_ns for s in run.spans) <= NOW_NS
    live = sum(1 for t in starts if t >= NOW_NS - 600 * 10**9)
    assert live / 10 > (len(starts) - live) / (HISTORY_DAYS * 1440 - 10) * 2


def test_same_seed_gives_the_same_ids_and_another_seed_does_not(run: Run,
                                                                 tmp_path: Path) -> None:
    again = _run(tmp_path)
    ids = sorted((s.trace_id, s.span_id, s.attributes.get("aws.request_id")) for s in run.spans)
    assert ids == sorted((s.trace_id, s.span_id, s.attributes.get("aws.request_id"))
                         for s in again.spans)
    assert [r["requestId"] for r in run.log_records()] == [
        r["requestId"] for r in again.log_records()]
    other = plan_workload(now=NOW, history_days=HISTORY_DAYS, live_minutes=10.0,
                          traces_per_hour=60, seed=8)
    other_ids = {c.request_id for p in other for c in p.calls}
    assert not other_ids & {i for _, _, i in ids}


def test_logs_use_the_s3_layout_and_match_the_hour_of_their_records(run: Run) -> None:
    files = run.log_files()
    assert files
    for f in files:
        match = LOG_PATH.search(f.as_posix())
        assert match, f
        region, year, month, day, hour = match.groups()
        for line in gzip.decompress(f.read_bytes()).decode().splitlines():
            record = json.loads(line)
            assert record["schemaType"] == "ModelInvocationLog"
            assert record["region"] == region
            assert record["timestamp"].startswith(f"{year}-{month}-{day}T{hour}:")


def test_traced_and_logged_calls_share_request_ids(run: Run) -> None:
    records = run.log_records()
    assert run.summary.log_records == len(records)
    span_ids = {s.attributes["aws.request_id"]: s for s in run.llm_spans()}
    log_ids = {r["requestId"] for r in records}
    merged = log_ids & set(span_ids)
    assert len(merged) > 100
    assert not [i for i in merged if span_ids[i].error]  # throttles never reach the logs
    assert not [i for i, s in span_ids.items() if s.attributes["cloud.region"] == "us-west-2"
                and i in log_ids]  # us-west-2 has no invocation logging
    only_logged = [r for r in records if r["requestId"] not in span_ids]
    assert {r["requestMetadata"]["tenant"] for r in only_logged} == {"umbrella"}
    assert all(r["requestMetadata"]["route"] == "batch" for r in only_logged)
    assert run.summary.llm_calls == len(span_ids) + len(only_logged)
    assert sum(run.summary.per_tenant.values()) == run.summary.llm_calls


def test_log_bodies_carry_tokens_latency_and_profiles(run: Run) -> None:
    records = run.log_records()
    by_op = defaultdict(list)
    for r in records:
        by_op[r["operation"]].append(r)
    converse = by_op["Converse"] + by_op["ConverseStream"]
    assert converse and all(r["output"]["outputBodyJson"]["metrics"]["latencyMs"] > 0
                            for r in converse)
    streams = by_op["InvokeModelWithResponseStream"]
    assert streams
    for r in streams:
        metrics = r["output"]["outputBodyJson"][-1]["amazon-bedrock-invocationMetrics"]
        assert 0 < metrics["firstByteLatency"] < metrics["invocationLatency"]
        assert r["modelId"] in DEMO_PROFILES
    assert any(r["input"].get("cacheReadInputTokenCount", 0) > 0 for r in converse)
    geo = [r for r in records if r["modelId"].startswith("us.")]
    assert geo and all(r["inferenceRegion"].startswith("us-") for r in geo)


def test_failed_export_raises() -> None:
    server = CaptureServer(status=400)
    try:
        with pytest.raises(RuntimeError, match="could not be exported"):
            run_workload(server.url, now=NOW, history_days=0.01, live_minutes=1.0)
    finally:
        server.close()
