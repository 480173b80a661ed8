"""The native decoder (native/, `outcrop_native`) against the pure-Python reference: every
golden span and generated payloads, protobuf and OTLP/JSON, give identical `Decoded`
(records with the same types, same rejected counts and messages) and identical stored
JSON text; bad input gives the same `BadPayload` message.

Skipped when the module is not built, except in CI with cargo on PATH, where
scripts/setup.sh builds it and a missing module is a failure.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from otlp_payloads import llm_attrs, request, sid, span, tid

from outcrop.collector.decode import native, otlp
from outcrop.collector.decode.otlp import Decoded, SpanLimits
from outcrop.core.errors import BadPayload
from tests.producers import GOLDEN_DIR, record_from_json

if not native.AVAILABLE:
    if os.environ.get("CI") == "true" and shutil.which("cargo"):
        pytest.fail("outcrop_native is not importable although cargo is on PATH: scripts/setup.sh "
                    "must build it", pytrace=False)
    pytest.skip("outcrop_native is not built (no cargo when scripts/setup.sh ran): the pure-Python "
                "decoder is the one in use", allow_module_level=True)

LIMIT = 4096
SMALL = SpanLimits(attributes=5, events=3, event_attributes=2)
GOLDEN = sorted(p.name.removesuffix(".input.json") for p in GOLDEN_DIR.glob("*.input.json"))


# -- payload builders ---------------------------------------------------------------------


def any_value(value: Any) -> AnyValue:
    """Python values as the OTLP types they came from (lists and dicts nest)."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    if isinstance(value, dict):
        out = AnyValue()
        out.kvlist_value.values.extend(KeyValue(key=k, value=any_value(v)) for k, v in value.items())
        return out
    if value is None:
        return AnyValue()
    return AnyValue(string_value=str(value))


def kvs(attrs: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attrs.items()]


def golden_request(name: str) -> ExportTraceServiceRequest:
    """The golden span as the export request its producer sent."""
    rec = record_from_json(json.loads((GOLDEN_DIR / f"{name}.input.json").read_text()))
    s = Span(trace_id=bytes.fromhex(rec.trace_id), span_id=bytes.fromhex(rec.span_id),
             parent_span_id=bytes.fromhex(rec.parent_span_id or ""), name=rec.name,
             kind=Span.SpanKind.Value(f"SPAN_KIND_{rec.kind.upper()}"),
             start_time_unix_nano=rec.start_ns, end_time_unix_nano=rec.end_ns,
             attributes=kvs(rec.attributes))
    s.status.code = Status.StatusCode.Value(f"STATUS_CODE_{rec.status_code.upper()}")
    s.status.message = rec.status_message or ""
    for ev in rec.events:
        s.events.add(name=ev["name"], time_unix_nano=ev["time_ns"], attributes=kvs(ev.get("attributes", {})))
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.extend(kvs(rec.resource_attributes))
    ss = rs.scope_spans.add()
    ss.scope.name = rec.scope_name or ""
    ss.scope.version = rec.scope_version or ""
    ss.spans.append(s)
    return req


def otlp_json(req: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON for `req`: the proto3 JSON mapping with ids as hex, as exporters send it."""
    from google.protobuf.json_format import MessageToDict

    doc = MessageToDict(req)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64decode(s[key]).hex()
    return orjson.dumps(doc)


# -- comparing ------------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """`value` with every leaf tagged by its type: dict equality alone takes 1 == 1.0 == True."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value) if isinstance(value, float) else value)  # nan == nan


def flat(out: Decoded) -> Any:
    return (out.rejected, out.errors, [typed(vars(r)) if hasattr(r, "__dict__") else
                                       typed({f: getattr(r, f) for f in r.__slots__}) for r in out.records])


def outcome(kind: str, body: bytes, limits: SpanLimits) -> Any:
    decoder = native.native_decoder(LIMIT, limits)
    try:
        return getattr(decoder, f"decode_{kind}")(body)
    except Exception as exc:  # MalformedPayload: compared through the adapter below
        return exc


def same(kind: str, body: bytes, limits: SpanLimits = otlp.DEFAULT_LIMITS) -> Any:
    """Both decoders on `body`: the same Decoded or the same BadPayload. Returns the native
    outcome (its `deferred` says whether the reference decided)."""
    reference = getattr(otlp, f"decode_{kind}")
    adapter = getattr(native, f"decode_{kind}")
    try:
        want: Decoded | BaseException = reference(body, LIMIT, limits)
    except BadPayload as exc:
        want = exc
    try:
        got: Decoded | BaseException = adapter(body, LIMIT, limits)
    except BadPayload as exc:
        got = exc
    if isinstance(want, BaseException) or isinstance(got, BaseException):
        assert type(got) is type(want) and str(got) == str(want)
        return outcome(kind, body, limits)
    assert isinstance(got, Decoded)
    assert flat(got) == flat(want)
    result = outcome(kind, body, limits)
    if not isinstance(result, BaseException) and result.deferred is None:
        import pyarrow as pa

        batch = pa.record_batch(result)
        stored = [orjson.dumps(r.attributes).decode() for r in want.records]
        assert batch.column("attributes").to_pylist() == stored  # the text the store keeps
        events = [orjson.dumps(r.events).decode() if r.events else None for r in want.records]
        assert batch.column("events").to_pylist() == events
    return result


# -- golden spans -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_span_decodes_identically(name: str) -> None:
    req = golden_request(name)
    for kind, body in (("protobuf", req.SerializeToString()), ("json", otlp_json(req))):
        result = same(kind, body)
        assert result.deferred is None, f"{kind}: the native decoder handed {name} back: {result.deferred}"
        assert result.num_rows == 1


# -- generated payloads -----------------------------------------------------------------------

TEXT = st.text(max_size=30) | st.sampled_from(["a" * 5000, "é" * 2049, "x" + "😀" * 1024, "€" * 1365 + "ab"])
LEAF = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False) | TEXT | st.binary(max_size=40))
VALUES = st.recursive(LEAF, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                      max_leaves=8)
ATTRS = st.dictionaries(st.sampled_from(["a", "b", "gen_ai.system", "x.y", "outcrop.truncated.attributes", "é"])
                        | st.text(max_size=8), VALUES, max_size=6)
IDS_T = st.sampled_from([tid(1), tid(2), "0" * 32, "ab" * 8])
IDS_S = st.sampled_from([sid(1), sid(2), "0" * 16, "abcd"])
TIMES = st.sampled_from([0, otlp.MIN_NS, otlp.MIN_NS + 10**12, otlp.MAX_NS - 1, otlp.MAX_NS, 2**64 - 1])


@st.composite
def requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(1, 2))):
        rs = req.resource_spans.add()
        rs.resource.attributes.extend(kvs(draw(ATTRS)))
        for _ in range(draw(st.integers(0, 2))):
            ss = rs.scope_spans.add()
            ss.scope.name = draw(st.sampled_from(["", "scope"]))
            ss.scope.version = draw(st.sampled_from(["", "1.0"]))
            for _ in range(draw(st.integers(0, 3))):
                s = ss.spans.add(
                    trace_id=bytes.fromhex(draw(IDS_T)), span_id=bytes.fromhex(draw(IDS_S)),
                    parent_span_id=bytes.fromhex(draw(st.sampled_from(["", sid(9), "ab"]))),
                    name=draw(TEXT), kind=draw(st.integers(0, 7)),
                    start_time_unix_nano=draw(TIMES), end_time_unix_nano=draw(TIMES),
                    attributes=kvs(draw(ATTRS)),
                )
                s.status.code = draw(st.integers(0, 4))
                s.status.message = draw(st.sampled_from(["", "boom"]))
                for _ in range(draw(st.integers(0, 4))):
                    s.events.add(name=draw(TEXT), time_unix_nano=draw(TIMES), attributes=kvs(draw(ATTRS)))
    return req


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests(), st.sampled_from([otlp.DEFAULT_LIMITS, SMALL]))
def test_generated_payloads_decode_identically(req: ExportTraceServiceRequest, limits: SpanLimits) -> None:
    for kind, body in (("protobuf", req.SerializeToString()), ("json", otlp_json(req))):
        result = same(kind, body, limits)
        # decided natively (MessageToDict leaves out an empty key: both refuse that JSON)
        assert isinstance(result, Exception) or result.deferred is None, (kind, result.deferred)


VALID = request(span(tid(1), sid(1), attrs=llm_attrs("r-1")), span(tid(1), sid(2), parent=sid(1))).SerializeToString()


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_and_truncated_protobuf_is_answered_identically(data: st.DataObject) -> None:
    body = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 8))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    same("protobuf", bytes(body[:data.draw(st.integers(0, len(body)))]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=1024))
def test_arbitrary_bytes_are_answered_identically(body: bytes) -> None:
    same("protobuf", body)
    same("json", body)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
SPAN_KEYS = st.sampled_from(["traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano",
                             "endTimeUnixNano", "attributes", "events", "status"])


@st.composite
def wrong_types(draw: st.DrawFn) -> dict[str, object]:
    good = {"traceId": tid(1), "spanId": sid(1), "startTimeUnixNano": str(otlp.MIN_NS + 1),
            "endTimeUnixNano": str(otlp.MIN_NS + 2), "attributes": [{"key": "k", "value": {"stringValue": "v"}}]}
    span_doc = {**good, **draw(st.dictionaries(SPAN_KEYS, JSON_VALUES, max_size=3))}
    return {"resourceSpans": [{"resource": {"attributes": draw(st.none() | JSON_VALUES)},
                               "scopeSpans": [{"scope": draw(JSON_VALUES), "spans": [span_doc, good]}]}]}


@settings(max_examples=400, deadline=None)
@given(wrong_types())
def test_json_with_wrong_types_is_answered_identically(doc: dict[str, object]) -> None:
    same("json", json.dumps(doc).encode())


VALUE_KINDS = st.sampled_from(["stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue",
                               "bytesValue", "colourValue"])
WRONG_VALUE = st.recursive(
    st.dictionaries(VALUE_KINDS, JSON_VALUES, max_size=2),
    lambda inner: st.builds(lambda k, vs: {k: {"values": vs}}, st.sampled_from(["arrayValue", "kvlistValue"]),
                            st.lists(inner | st.builds(lambda key, v: {"key": key, "value": v}, st.text(max_size=4),
                                                       inner), max_size=3)),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WRONG_VALUE, max_size=4), st.booleans())
def test_json_attribute_values_of_every_type_are_converted_identically(values: list[Any], in_event: bool) -> None:
    attrs = [{"key": f"k{i}", "value": v} for i, v in enumerate(values)]
    fields: dict[str, Any] = {"events": [{"name": "e", "attributes": attrs}]} if in_event else {"attributes": attrs}
    same("json", _json_span(**fields))


@pytest.mark.parametrize("body, message", [
    (b"[1]", "malformed OTLP JSON: top level must be an object with resourceSpans"),
    (b'{"resourceSpans": {}}', "malformed OTLP JSON: resourceSpans must be an array, got dict"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": 5}]}]}',
     "malformed OTLP JSON: resourceSpans[0].scopeSpans[0].spans must be an array, got int"),
    (b'{"resourceSpans": [{"resource": {"attributes": 1}}]}',
     "malformed OTLP JSON: resourceSpans[0].resource.attributes: attributes must be an array of {key, value}"),
])
def test_malformed_json_is_refused_by_the_native_decoder_in_the_same_words(body: bytes, message: str) -> None:
    result = outcome("json", body, otlp.DEFAULT_LIMITS)
    assert isinstance(result, Exception) and str(result) == message  # decided natively, not deferred
    with pytest.raises(BadPayload) as caught:
        native.decode_json(body, LIMIT)
    assert str(caught.value) == message
    same("json", body)


def _json_span(**fields: Any) -> bytes:
    base = {"traceId": tid(4), "spanId": sid(4), "startTimeUnixNano": str(otlp.MIN_NS + 1),
            "endTimeUnixNano": str(otlp.MIN_NS + 2)}
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{**base, **fields}]}]}]}
    return json.dumps(doc).encode()  # the stdlib writes integers beyond 64 bits too


@pytest.mark.parametrize("fields, message", [
    ({"traceId": 7}, "span rejected: traceId must be a hex string"),
    ({"spanId": "xyz'"}, "span rejected: spanId \"xyz'\" is not hex"),
    ({"kind": "SPAN_KIND_SIDEWAYS"}, "span rejected: unknown enum value 'SPAN_KIND_SIDEWAYS'"),
    ({"kind": 9}, "span rejected: unknown enum value 9"),
    ({"startTimeUnixNano": None},
     "span rejected: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"),
    ({"status": [1]}, "span rejected: 'list' object has no attribute 'get'"),
    ({"events": {}}, None),  # falsy: no events
    ({"events": "e"}, "span rejected: events must be an array"),
    ({"attributes": [{"key": "k", "value": {"doubleValue": []}}]},
     "span rejected: float() argument must be a string or a real number, not 'list'"),
    ({"attributes": [{"key": "k", "value": {"colourValue": 1}}]},
     "span rejected: unknown attribute value type 'colourValue'"),
    ({"endTimeUnixNano": "0"}, f"span {sid(4)}: timestamps out of range (start {otlp.MIN_NS + 1}, end 0)"),
])
def test_span_level_errors_are_decided_natively_in_the_same_words(fields: dict[str, Any], message: str | None) -> None:
    body = _json_span(**fields)
    result = same("json", body)
    assert result.deferred is None
    assert result.errors == ([message] if message else [])
    assert result.rejected == (1 if message else 0)


@pytest.mark.parametrize("body", [
    _json_span(startTimeUnixNano=" 12"),  # int(" 12") is Python's to define
    _json_span(attributes=[{"key": "k", "value": {"doubleValue": "NaN"}}]),
    _json_span(name=1.5),
    _json_span(attributes=[{"key": "k", "value": {"intValue": "1", "stringValue": "x"}}]),  # first key wins
    b'{"resourceSpans": [',  # the parse error's wording is orjson's
])
def test_what_only_python_defines_is_handed_to_the_reference(body: bytes) -> None:
    assert outcome("json", body, otlp.DEFAULT_LIMITS).deferred is not None
    same("json", body)


def test_invalid_utf8_in_protobuf_is_handed_to_the_reference() -> None:
    req = request(span(tid(2), sid(1), name="BAD!"), span(tid(2), sid(2), name="kept"))
    body = req.SerializeToString().replace(b"BAD!", b"B\xc3\x28!")
    assert outcome("protobuf", body, otlp.DEFAULT_LIMITS).deferred is not None
    out = native.decode_protobuf(body, LIMIT)
    assert [r.name for r in out.records] == ["kept"]
    assert out.errors == [f"span {sid(1)}: invalid UTF-8 in name"]


# -- bounds -----------------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = {f"d{i}": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize("depth", [1, 7, 8, 9, 20, 30])
def test_nesting_is_cut_at_the_same_depth(depth: int) -> None:
    req = request(span(tid(5), sid(1)))
    deep = KeyValue(key="deep", value=any_value(_nested(depth)))
    req.resource_spans[0].scope_spans[0].spans[0].attributes.append(deep)
    assert same("protobuf", req.SerializeToString()).deferred is None
    assert same("json", otlp_json(req)).deferred is None


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field (wire type 2); the protobuf library itself refuses to
    build messages as deep as the ones below."""
    length, size = b"", len(payload)
    while True:
        length += bytes([(size & 0x7F) | (0x80 if size > 0x7F else 0)])
        size >>= 7
        if not size:
            break
    return bytes([number << 3 | 2]) + length + payload


@pytest.mark.parametrize("levels", [40, 44, 45, 46, 47, 48, 49, 50, 60, 200])
def test_recursion_limits_agree_at_the_boundary(levels: int) -> None:
    value = AnyValue(string_value="leaf").SerializeToString()
    for _ in range(levels):  # AnyValue{array_value: ArrayValue{values: [value]}}: two messages a level
        value = _field(5, _field(1, value))
    req = request(span(tid(5), sid(1)))
    attribute = _field(9, _field(1, b"deep") + _field(2, value))  # Span.attributes: KeyValue{key, value}
    spans = req.resource_spans[0].scope_spans[0].spans[0].SerializeToString() + attribute
    scope = req.resource_spans[0].scope_spans[0]
    scope_head = type(scope)(scope=scope.scope).SerializeToString()
    rs_head = type(req.resource_spans[0])(resource=req.resource_spans[0].resource).SerializeToString()
    body = _field(1, rs_head + _field(2, scope_head + _field(2, spans)))
    same("protobuf", body)  # refused or cut the same way, whichever parser gives up first


def test_oversized_values_and_wide_spans_are_cut_the_same_way() -> None:
    s = span(tid(6), sid(1), name="n" * 3000)
    s.attributes.extend(kvs({f"a{i}": "é" * 3000 if i % 2 else b"\x00" * 4000 for i in range(2000)}))
    for e in range(300):
        s.events.add(name=f"e{e}", time_unix_nano=s.start_time_unix_nano,
                     attributes=kvs({f"k{i}": i for i in range(200)}))
    req = request(s, resource={f"r{i}": "v" * 5000 for i in range(1500)})
    for kind, body in (("protobuf", req.SerializeToString()), ("json", otlp_json(req))):
        result = same(kind, body)
        assert result.deferred is None
        rec = native.to_decoded(result).records[0]
        assert rec.name == "n" * 1024 + "…[truncated 1976 bytes]"
        assert rec.attributes["outcrop.truncated.attributes"] == 2000 - 1024
        assert rec.attributes["outcrop.truncated.events"] == 300 - 256
        assert rec.attributes["a1"].endswith("…[truncated 1904 bytes]")  # 6000 bytes of é, cut at 4096
        assert len(rec.events) == 256 and len(rec.events[0]["attributes"]) == 128 + 1
        assert len(rec.resource_attributes) == 1024 + 1


# -- the batch itself ---------------------------------------------------------------------------


def test_typed_columns_and_arrow_consumers() -> None:
    import duckdb
    import polars as pl
    import pyarrow as pa

    req = request(span(tid(7), sid(1), attrs=llm_attrs("r-1", temperature=0.5)),
                  span(tid(7), sid(2), attrs={"gen_ai.usage.input_tokens": "many", "temperature": 1}))
    decoder = native.native_decoder(LIMIT, otlp.DEFAULT_LIMITS, (("gen_ai.usage.input_tokens", "int"),
                                                                  ("temperature", "float"),
                                                                  ("gen_ai.system", "string")))
    result = decoder.decode_protobuf(req.SerializeToString())
    batch = pa.record_batch(result)
    assert batch.column("typed").to_pylist() == [
        {"gen_ai.usage.input_tokens": 1000, "temperature": 0.5, "gen_ai.system": "aws.bedrock"},
        {"gen_ai.usage.input_tokens": None, "temperature": 1.0, "gen_ai.system": None},
    ]
    assert batch.column("resource_index").to_pylist() == [0, 0]
    assert batch.column("resource_attributes").to_pylist() == ['{"service.name":"test-svc"}'] * 2
    assert pl.DataFrame(result)["span_id"].to_list() == [sid(1), sid(2)]
    counted = duckdb.sql("SELECT count(*) FROM result")
    assert counted is not None and counted.fetchall() == [(2,)]
    records = native.to_decoded(result).records
    assert records[0].resource_attributes is records[1].resource_attributes  # one dict per resource


def test_a_json_typed_column_holds_the_value_as_the_attributes_column_writes_it() -> None:
    import pyarrow as pa

    first, second = span(tid(7), sid(1), attrs={}), span(tid(7), sid(2), attrs={})
    first.attributes.extend(kvs({"a": "x \"q\"", "b": [1, "two"], "c": 2.5}))
    second.attributes.extend(kvs({"a": 7, "b": True}))
    req = request(first, second)
    decoder = native.native_decoder(LIMIT, otlp.DEFAULT_LIMITS, (("a", "json"), ("b", "json"), ("c", "json")))
    batch = pa.record_batch(decoder.decode_protobuf(req.SerializeToString()))
    assert batch.column("typed").to_pylist() == [
        {"a": '"x \\"q\\""', "b": '[1,"two"]', "c": "2.5"},
        {"a": "7", "b": "true", "c": None},  # absent: null, not the text "null"
    ]


def test_a_typed_column_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="typed: attribute 'k' has type 'date'; use string, int, float, bool, json or first<US>key<US>…"):
        native.native_decoder(LIMIT, otlp.DEFAULT_LIMITS, (("k", "date"),))


# -- the crate's own tests ----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_the_crate_unit_tests_and_bounded_fuzz_run_pass() -> None:
    """`cargo test --release` in native/: unit tests, and the fuzz run (no panic on 200k
    random and mutated payloads, peak memory bounded per input byte), capped in time."""
    import subprocess
    from pathlib import Path

    crate = Path(__file__).resolve().parent.parent / "native"
    run = subprocess.run(["cargo", "test", "--release", "--quiet"], cwd=crate, capture_output=True, text=True,
                         timeout=280, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "test result: ok. 3 passed" in run.stdout  # the fuzz run's three tests ran


@pytest.mark.parametrize("value", [1.1579208923731604e+77, 0.1, 2.2250738585072014e-308, 1.7976931348623157e308])
def test_doubles_are_parsed_correctly_rounded_as_python_parses_them(value: float) -> None:
    # serde_json's default float parser can be one ulp off; the crate turns on float_roundtrip
    same("json", _json_span(attributes=[{"key": "d", "value": {"doubleValue": value}}]))


def test_a_first_of_column_holds_the_first_key_the_span_has_with_a_value() -> None:
    import pyarrow as pa

    first, second, third = (span(tid(7), sid(i), attrs={}) for i in (1, 2, 3))
    first.attributes.extend(kvs({"b": "beta", "a": "alpha"}))
    second.attributes.extend(kvs({"a": None, "b": 3}))  # a present but empty: skipped
    req = request(first, second, third)
    decoder = native.native_decoder(LIMIT, otlp.DEFAULT_LIMITS, (("ab", "first\x1fa\x1fb"),))
    batch = pa.record_batch(decoder.decode_protobuf(req.SerializeToString()))
    assert batch.column("typed").to_pylist() == [{"ab": '"alpha"'}, {"ab": "3"}, {"ab": None}]
