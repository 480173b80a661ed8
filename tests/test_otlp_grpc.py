"""OTLP/gRPC receiver with the real OTel gRPC exporter and a raw gRPC stub."""

from __future__ import annotations

import threading
from typing import Any

import grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from otlp_payloads import request, sid, span, tid


def test_real_grpc_exporter_delivers_llm_spans(server: Any) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "grpc-app"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=server.grpc_target, insecure=True)))
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("handle", attributes={"tenant.id": "initech"}), \
            tracer.start_as_current_span("chat amazon.nova-pro-v1:0", kind=SpanKind.CLIENT, attributes={
                "gen_ai.provider.name": "aws.bedrock", "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "amazon.nova-pro-v1:0",
                "gen_ai.usage.input_tokens": 321, "gen_ai.usage.output_tokens": 12}):
        pass
    provider.shutdown()
    rows = server.store.query("SELECT tenant, model, input_tokens, output_tokens FROM llm_calls").to_pylist()
    assert rows == [{"tenant": "initech", "model": "amazon.nova-pro-v1:0", "input_tokens": 321, "output_tokens": 12}]


def test_grpc_partial_success_and_auth(server_factory: Any) -> None:
    server = server_factory(ingest={"api_keys": [{"key": "grpc-key-1234", "tenant": "acme"}]})
    stub = trace_service_pb2_grpc.TraceServiceStub(grpc.insecure_channel(server.grpc_target))
    req = request(span(tid(1), sid(1)), span("0" * 32, sid(2)))
    try:
        stub.Export(req, timeout=10)
        raise AssertionError("export without a key must fail")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
    resp = stub.Export(req, metadata=[("authorization", "Bearer grpc-key-1234")], timeout=10)
    assert resp.partial_success.rejected_spans == 1
    assert server.store.query("SELECT tenant FROM spans").column(0).to_pylist() == ["acme"]


def test_grpc_full_queue_is_resource_exhausted(server_factory: Any) -> None:
    server = server_factory(server={"queue_max_batches": 1})
    release, busy = threading.Event(), threading.Event()
    server.store.submit(lambda con: (busy.set(), release.wait(30)))
    assert busy.wait(10)
    server.store.submit(lambda con: None)
    stub = trace_service_pb2_grpc.TraceServiceStub(grpc.insecure_channel(server.grpc_target))
    try:
        stub.Export(request(span(tid(2), sid(1))), timeout=10)
        raise AssertionError("a full queue must push back")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        release.set()


def test_grpc_malformed_protobuf_is_invalid_argument_and_says_so(server: Any) -> None:
    channel = grpc.insecure_channel(server.grpc_target)
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    try:
        export(b"\x0a\xff\xff\xff\xff\x0f garbage", timeout=10)
        raise AssertionError("a malformed request must fail")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "malformed OTLP protobuf" in (exc.details() or "")
