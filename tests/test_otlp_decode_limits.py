"""The decoders' bounds on one span, and their fallback around invalid UTF-8, as pure
functions: the protobuf and JSON decoders keep exactly the same part of a wide span."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from otlp_payloads import request, sid, span, tid

from outcrop.collector.decode.otlp import SpanLimits, decode_json, decode_protobuf

LIMITS = SpanLimits(attributes=5, events=3, event_attributes=2)


def otlp_json(req: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON for `req`: the proto3 JSON mapping with ids as hex, as exporters send it."""
    doc = MessageToDict(req)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64decode(s[key]).hex()
    return orjson.dumps(doc)


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, dict):
        inner = AnyValue()
        inner.kvlist_value.values.extend(_kv(k, v) for k, v in value.items())
        return KeyValue(key=key, value=inner)
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _wide(n_attrs: int, n_events: int, n_event_attrs: int, n_resource: int, n_kvlist: int) -> ExportTraceServiceRequest:
    s = span(tid(1), sid(1))
    s.attributes.extend(_kv(f"a{i}", "v") for i in range(n_attrs))
    s.attributes.append(_kv("nested", {f"n{i}": "v" for i in range(n_kvlist)}))
    for e in range(n_events):
        ev = s.events.add(name=f"e{e}", time_unix_nano=s.start_time_unix_nano)
        ev.attributes.extend(_kv(f"ea{i}", "v") for i in range(n_event_attrs))
    return request(s, resource={f"r{i}": "v" for i in range(n_resource)})


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 12), st.integers(0, 6), st.integers(0, 5), st.integers(0, 8), st.integers(0, 8))
def test_protobuf_and_json_decoders_cap_a_span_the_same_way(
        n_attrs: int, n_events: int, n_event_attrs: int, n_resource: int, n_kvlist: int) -> None:
    req = _wide(n_attrs, n_events, n_event_attrs, n_resource, n_kvlist)
    from_pb = decode_protobuf(req.SerializeToString(), 4096, LIMITS)
    from_json = decode_json(otlp_json(req), 4096, LIMITS)
    assert from_pb.records == from_json.records
    assert (from_pb.rejected, from_json.rejected) == (0, 0)


def test_what_a_capped_span_keeps_and_says() -> None:
    rec = decode_protobuf(_wide(9, 5, 4, 7, 6).SerializeToString(), 4096, LIMITS).records[0]
    assert list(rec.attributes) == ["a0", "a1", "a2", "a3", "a4", "outcrop.truncated.attributes",
                                    "outcrop.truncated.events"]
    assert rec.attributes["outcrop.truncated.attributes"] == 5  # 9 + the kvlist, 5 kept
    assert rec.attributes["outcrop.truncated.events"] == 2
    assert [ev["attributes"] for ev in rec.events] == [{"ea0": "v", "ea1": "v", "outcrop.truncated.attributes": 2}] * 3
    assert len(rec.resource_attributes) == 5 + 1 and rec.resource_attributes["outcrop.truncated.attributes"] == 2
    nested = decode_protobuf(_wide(0, 0, 0, 1, 6).SerializeToString(), 4096, LIMITS).records[0].attributes["nested"]
    assert nested == {"n0": "v", "n1": "v", "n2": "v", "n3": "v", "n4": "v", "outcrop.truncated.attributes": 1}


def _spoil(body: bytes, marker: bytes) -> bytes:
    assert body.count(marker) == 1
    return body.replace(marker, marker[:1] + b"\xc3\x28" + marker[3:])  # \xc3 must start 2 bytes


def test_invalid_utf8_in_a_scope_name_rejects_the_spans_of_that_scope_only() -> None:
    req = request(span(tid(2), sid(1), name="a"), span(tid(2), sid(2), name="b"), scope="SCP!")
    req.resource_spans[0].scope_spans.add().spans.append(span(tid(2), sid(3), name="kept"))
    out = decode_protobuf(_spoil(req.SerializeToString(), b"SCP!"), 4096)
    assert [r.name for r in out.records] == ["kept"]
    assert out.rejected == 2
    assert out.error_message == "resource_spans[0].scope_spans[0]: invalid UTF-8 in scope.name; its 2 spans rejected"


def test_invalid_utf8_deep_in_a_value_is_named_by_its_path() -> None:
    s = span(tid(3), sid(1))
    s.attributes.append(_kv("outer", {"KEY!": "v"}))
    ev = s.events.add(name="ok", time_unix_nano=s.start_time_unix_nano)
    ev.attributes.append(_kv("x", "EVT!"))
    body = request(s, span(tid(3), sid(2), name="kept")).SerializeToString()
    out = decode_protobuf(_spoil(body, b"KEY!"), 4096)
    assert [r.name for r in out.records] == ["kept"]
    assert out.error_message == (f"span {sid(1)}: invalid UTF-8 in "
                                 "attributes['outer'].value.kvlist_value.values[0].key")
    out = decode_protobuf(_spoil(body, b"EVT!"), 4096)
    assert out.error_message == f"span {sid(1)}: invalid UTF-8 in events[0].attributes['x'].value.string_value"


def test_bytes_that_are_not_protobuf_are_still_refused_whole() -> None:
    from outcrop.core.errors import BadPayload

    try:
        decode_protobuf(b"\x0a\xff\xff\xff\xff\x0f garbage", 4096)
        raise AssertionError("garbage must be refused")
    except BadPayload as exc:
        assert "malformed OTLP protobuf" in str(exc)


def test_an_array_value_that_is_not_an_object_is_a_clear_400_not_a_crash() -> None:
    import pytest

    from outcrop.core.errors import BadPayload

    body = {"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": {"arrayValue": "x"}}]},
                               "scopeSpans": []}]}
    with pytest.raises(BadPayload) as caught:
        decode_json(orjson.dumps(body), 4096)
    assert "resourceSpans[0].resource.attributes: arrayValue must be an object with values, got str" in str(
        caught.value)
