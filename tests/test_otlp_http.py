"""OTLP/HTTP receiver against a real server on loopback."""

from __future__ import annotations

import gzip
import threading
from typing import Any

import orjson
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_payloads import NOW_NS, llm_attrs, request, sid, span, tid

PB = {"content-type": "application/x-protobuf"}


def post(server: Any, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(server.traces_url, data=body, headers=headers or PB, timeout=30)


def count(server: Any, sql: str) -> int:
    return int(server.store.query(sql).column(0)[0].as_py())


def test_protobuf_batch_is_stored_and_acknowledged(server: Any) -> None:
    body = request(span(tid(1), sid(1), name="root"), span(tid(1), sid(2), parent=sid(1))).SerializeToString()
    resp = post(server, body)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(resp.content).HasField("partial_success")
    assert count(server, "SELECT count(*) FROM spans") == 2


def test_retried_batch_is_not_counted_twice(server: Any) -> None:
    body = request(span(tid(2), sid(1), attrs=llm_attrs("req-retry"), kind=3)).SerializeToString()
    for _ in range(3):
        assert post(server, body).status_code == 200
    assert count(server, "SELECT count(*) FROM spans") == 1
    assert count(server, "SELECT count(*) FROM llm_calls") == 1
    assert count(server, "SELECT sum(input_tokens) FROM llm_calls") == 1000


def test_json_chunked_with_numbers_like_the_js_exporter(server: Any) -> None:
    doc = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
        "scopeSpans": [{"scope": {"name": "js"}, "spans": [{
            "traceId": tid(3), "spanId": sid(1), "name": "chat x", "kind": 3,
            "startTimeUnixNano": NOW_NS, "endTimeUnixNano": NOW_NS + 2_000_000_000,
            "attributes": [
                {"key": "gen_ai.system", "value": {"stringValue": "aws.bedrock"}},
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "amazon.nova-lite-v1:0"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 42}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "7"}},
                {"key": "tenant.id", "value": {"stringValue": "globex"}},
            ],
            "status": {"code": 1},
        }]}],
    }]}
    payload = orjson.dumps(doc)
    chunks = (payload[i:i + 100] for i in range(0, len(payload), 100))  # no Content-Length
    resp = requests.post(server.traces_url, data=chunks, headers={"content-type": "application/json"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {}
    row = server.store.query("SELECT tenant, input_tokens, output_tokens, ttlt_ms, status FROM llm_calls").to_pylist()
    assert row == [{"tenant": "globex", "input_tokens": 42, "output_tokens": 7, "ttlt_ms": 2000.0, "status": "ok"}]


def test_gzip_body_is_accepted(server: Any) -> None:
    body = gzip.compress(request(span(tid(4), sid(1))).SerializeToString())
    resp = post(server, body, {**PB, "content-encoding": "gzip"})
    assert resp.status_code == 200
    assert count(server, "SELECT count(*) FROM spans") == 1


def test_wrong_content_type_is_415(server: Any) -> None:
    resp = post(server, b"hello", {"content-type": "text/plain"})
    assert resp.status_code == 415
    assert "text/plain" in resp.json()["message"]


def test_malformed_protobuf_is_400_and_says_so(server: Any) -> None:
    resp = post(server, b"\x0a\xff\xff\xff\xff\x0f garbage")
    assert resp.status_code == 400
    from google.rpc.status_pb2 import Status

    status = Status.FromString(resp.content)
    assert "malformed OTLP protobuf" in status.message
    assert status.code == 3  # google.rpc.Status holds the gRPC code (INVALID_ARGUMENT), not the HTTP one


def test_malformed_json_is_400_and_says_so(server: Any) -> None:
    resp = post(server, b'{"resourceSpans": [', {"content-type": "application/json"})
    assert resp.status_code == 400
    assert "malformed OTLP JSON" in resp.json()["message"]
    assert resp.json()["code"] == 3  # INVALID_ARGUMENT, as in the protobuf Status
    resp = post(server, b'{"resourceSpans": 7}', {"content-type": "application/json"})
    assert resp.status_code == 400
    assert "resourceSpans must be an array" in resp.json()["message"]


def test_truncated_gzip_is_400(server: Any) -> None:
    body = gzip.compress(request(span(tid(5), sid(1))).SerializeToString())[:-12]
    resp = post(server, body, {**PB, "content-encoding": "gzip"})
    assert resp.status_code == 400


def test_body_over_limit_is_413(server_factory: Any) -> None:
    server = server_factory(server={"max_body_bytes": 1024})
    resp = post(server, b"\x00" * 4096)
    assert resp.status_code == 413
    assert count(server, "SELECT count(*) FROM spans") == 0


def test_gzip_bomb_is_413_without_inflating_it(server_factory: Any) -> None:
    server = server_factory(server={"max_decompressed_bytes": 1 << 20})
    bomb = gzip.compress(b"\x00" * (512 << 20))  # 512 MiB of zeros in ~500 KiB
    assert len(bomb) < 1 << 20
    resp = post(server, bomb, {**PB, "content-encoding": "gzip"})
    assert resp.status_code == 413
    assert "inflates past" in resp.json()["message"] if resp.headers["content-type"].startswith(
        "application/json") else True


def test_bad_span_is_rejected_alone_with_partial_success(server: Any) -> None:
    good = span(tid(6), sid(1), name="good")
    zero_ids = span("0" * 32, sid(2), name="bad-trace-id")
    backwards = span(tid(6), sid(3), name="ends-before-start")
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 1
    resp = post(server, request(good, zero_ids, backwards).SerializeToString())
    assert resp.status_code == 200
    partial = ExportTraceServiceResponse.FromString(resp.content).partial_success
    assert partial.rejected_spans == 2
    assert "invalid trace_id" in partial.error_message
    assert "before start time" in partial.error_message
    assert server.store.query("SELECT name FROM spans").column(0).to_pylist() == ["good"]


def test_json_partial_success_counts_rejected(server: Any) -> None:
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": tid(7), "spanId": sid(1), "name": "ok", "startTimeUnixNano": str(NOW_NS),
         "endTimeUnixNano": str(NOW_NS + 1000)},
        {"traceId": "not-hex", "spanId": sid(2), "name": "bad"},
    ]}]}]}
    resp = post(server, orjson.dumps(doc), {"content-type": "application/json"})
    assert resp.status_code == 200
    assert resp.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert count(server, "SELECT count(*) FROM spans") == 1


def test_oversized_attribute_is_truncated_with_marker(server_factory: Any) -> None:
    server = server_factory(server={"max_attribute_value_bytes": 1000})
    body = request(span(tid(8), sid(1), attrs={"gen_ai.prompt": "x" * 5000})).SerializeToString()
    assert post(server, body).status_code == 200
    value = server.store.query("SELECT attributes->>'$.\"gen_ai.prompt\"' FROM spans").column(0)[0].as_py()
    assert value.startswith("x" * 1000)
    assert value.endswith("…[truncated 4000 bytes]")


def test_full_queue_pushes_back_with_retry_after(server_factory: Any) -> None:
    server = server_factory(server={"queue_max_batches": 1})
    release, busy = threading.Event(), threading.Event()
    server.store.submit(lambda con: (busy.set(), release.wait(30)))  # occupies the writer
    assert busy.wait(10)
    filler = server.store.submit(lambda con: None)  # fills the one queue slot
    try:
        resp = post(server, request(span(tid(9), sid(1))).SerializeToString())
        assert resp.status_code == 429
        assert int(resp.headers["retry-after"]) >= 1
    finally:
        release.set()
    filler.result(10)  # the queue has drained: the retry is accepted
    assert post(server, request(span(tid(9), sid(1))).SerializeToString()).status_code == 200


def test_ingest_keys_required_and_bound_tenant_wins(server_factory: Any) -> None:
    server = server_factory(ingest={"api_keys": [{"key": "k-acme-123456", "tenant": "acme"},
                                                 {"key": "k-open-123456"}]})
    body = request(span(tid(10), sid(1), attrs=llm_attrs(**{"tenant.id": "evil"}), kind=3)).SerializeToString()
    assert post(server, body).status_code == 401
    assert post(server, body, {**PB, "authorization": "Bearer wrong-key-000"}).status_code == 401
    assert post(server, body, {**PB, "x-api-key": "k-acme-123456"}).status_code == 200
    assert server.store.query("SELECT tenant FROM llm_calls").column(0).to_pylist() == ["acme"]
    body2 = request(span(tid(11), sid(1), attrs=llm_attrs(**{"tenant.id": "globex"}), kind=3)).SerializeToString()
    assert post(server, body2, {**PB, "authorization": "Bearer k-open-123456"}).status_code == 200
    tenants = server.store.query("SELECT tenant FROM llm_calls ORDER BY tenant").column(0).to_pylist()
    assert tenants == ["acme", "globex"]
