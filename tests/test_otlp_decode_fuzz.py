"""Fuzzing the OTLP decoders: any bytes give records or a BadPayload, never a crash."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otlp_payloads import llm_attrs, request, sid, span, tid

from outcrop.collector.decode.otlp import decode_json, decode_protobuf
from outcrop.core.errors import BadPayload

LIMIT = 4096
VALID = request(span(tid(1), sid(1), attrs=llm_attrs("r-1")), span(tid(1), sid(2), parent=sid(1))).SerializeToString()


def _decodes_or_refuses(decode: object, body: bytes) -> None:
    try:
        out = decode(body, LIMIT)  # type: ignore[operator]
    except BadPayload as exc:
        assert str(exc)  # says what failed
        return
    assert out.rejected >= 0
    for rec in out.records:
        assert len(rec.trace_id) == 32 and len(rec.span_id) == 16
        assert rec.end_ns >= rec.start_ns


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_protobuf_decoder_on_arbitrary_bytes(body: bytes) -> None:
    _decodes_or_refuses(decode_protobuf, body)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_protobuf_decoder_on_mutated_valid_payloads(data: st.DataObject) -> None:
    body = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(body) - 1))
        body[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(body)))
    _decodes_or_refuses(decode_protobuf, bytes(body[:cut]))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _dumps(value: object) -> bytes:
    return json.dumps(value).encode()  # the stdlib writes integers beyond 64 bits too


def _otlp_like(draw: st.DrawFn) -> dict[str, object]:
    span_doc = draw(st.dictionaries(
        st.sampled_from(["traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano",
                         "endTimeUnixNano", "attributes", "events", "status"]),
        JSON_VALUES, max_size=10))
    return {"resourceSpans": [{"resource": {"attributes": draw(JSON_VALUES)},
                               "scopeSpans": [{"scope": draw(JSON_VALUES), "spans": [span_doc]}]}]}


@settings(max_examples=400, deadline=None)
@given(st.composite(_otlp_like)())
def test_json_decoder_on_wrong_types_everywhere(doc: dict[str, object]) -> None:
    _decodes_or_refuses(decode_json, _dumps(doc))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512) | JSON_VALUES.map(_dumps))
def test_json_decoder_on_arbitrary_input(body: bytes) -> None:
    _decodes_or_refuses(decode_json, body)
