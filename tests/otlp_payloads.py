"""Builders of OTLP export requests for tests of the receivers (ids as hex strings)."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

NOW_NS = int(time.time() * 1e9)


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def span(trace_id: str, span_id: str, *, parent: str | None = None, name: str = "op",
         attrs: dict[str, Any] | None = None, start_ns: int = NOW_NS, duration_ms: float = 100.0,
         kind: int = Span.SPAN_KIND_INTERNAL, error: bool = False) -> Span:
    s = Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=bytes.fromhex(span_id),
        parent_span_id=bytes.fromhex(parent) if parent else b"",
        name=name,
        kind=kind,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + int(duration_ms * 1e6),
        attributes=[KeyValue(key=k, value=any_value(v)) for k, v in (attrs or {}).items()],
    )
    if error:
        s.status.code = 2
    return s


def request(*spans: Span, resource: dict[str, Any] | None = None,
            scope: str = "tests") -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    for k, v in (resource or {"service.name": "test-svc"}).items():
        rs.resource.attributes.append(KeyValue(key=k, value=any_value(v)))
    ss = rs.scope_spans.add()
    ss.scope.name = scope
    ss.spans.extend(spans)
    return req


def llm_attrs(request_id: str | None = None, **extra: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.system": "aws.bedrock",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
    }
    if request_id:
        attrs["aws.request_id"] = request_id
    attrs.update(extra)
    return attrs


def hexid(n: int, width: int) -> str:
    return f"{n:0{width}x}"


def tid(n: int) -> str:
    return hexid(n + 0xABC0000, 32)


def sid(n: int) -> str:
    return hexid(n + 0x1000, 16)
