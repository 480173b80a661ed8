"""The native decoder (the `outcrop_native` module built from native/) behind the names of
the pure-Python one: `decode_protobuf(body, max_value_bytes, limits)` and
`decode_json(body, max_value_bytes, limits)` return the same `Decoded` and raise the same
`BadPayload` with the same message, so a receiver can switch decoders without another
change.

The native module decodes a payload into one Arrow record batch (one row per span, the
attributes as the JSON text the store keeps; docs/native.md has the schema) and hands it
over through the Arrow PyCapsule interface without a copy. What the native decoder does
not settle the same way for certain (a parse error, whose wording is the reference's, a
value that only Python's `int()`/`float()`/`str()` define, a non-finite double) it
*defers*: the payload is decoded again by `otlp.py`, the reference, so bad input is
answered exactly as before. Without the native module every call is the reference's.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pyarrow as pa

from outcrop.collector.decode import otlp
from outcrop.collector.decode.otlp import DEFAULT_LIMITS, Decoded, SpanLimits
from outcrop.core.errors import BadPayload
from outcrop.core.records import SpanRecord

try:
    import outcrop_native as _native_module
except ImportError:  # not built: cargo was not on PATH when scripts/setup.sh ran
    _native_module = None

_native: Any = _native_module
AVAILABLE = _native is not None


def decoder_name() -> str:
    """Which decoder these functions run: 'native' (outcrop_native <version>) or 'python'."""
    return f"native (outcrop_native {_native.__version__})" if AVAILABLE else "python"


@functools.lru_cache(maxsize=32)
def native_decoder(max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS,
                   typed: tuple[tuple[str, str], ...] = ()) -> Any:
    """An `outcrop_native.Decoder` for these limits; `typed` names the attribute keys that
    get a typed column of their own (types: string, int, float, bool)."""
    if _native is None:
        raise RuntimeError("the native decoder is not built: run scripts/setup.sh with cargo on PATH")
    return _native.Decoder(max_value_bytes, limits.attributes, limits.events, limits.event_attributes,
                           list(typed))


def decode_protobuf(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS) -> Decoded:
    if _native is None:
        return otlp.decode_protobuf(body, max_value_bytes, limits)
    outcome = _run(native_decoder(max_value_bytes, limits).decode_protobuf, body)
    if outcome.deferred is not None:
        return otlp.decode_protobuf(body, max_value_bytes, limits)
    return to_decoded(outcome)


def decode_json(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS) -> Decoded:
    if _native is None:
        return otlp.decode_json(body, max_value_bytes, limits)
    outcome = _run(native_decoder(max_value_bytes, limits).decode_json, body)
    if outcome.deferred is not None:
        return otlp.decode_json(body, max_value_bytes, limits)
    return to_decoded(outcome)


def decode_protobuf_batch(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS,
                          typed: tuple[tuple[str, str], ...] = ()) -> Decoded:
    """The spans as one Arrow batch (`Decoded.batch`) with these typed columns; a payload
    the native decoder defers comes back as the reference's records instead."""
    outcome = _run(native_decoder(max_value_bytes, limits, typed).decode_protobuf, body)
    if outcome.deferred is not None:
        return otlp.decode_protobuf(body, max_value_bytes, limits)
    return Decoded(rejected=outcome.rejected, errors=list(outcome.errors), batch=pa.record_batch(outcome))


def decode_json_batch(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS,
                      typed: tuple[tuple[str, str], ...] = ()) -> Decoded:
    outcome = _run(native_decoder(max_value_bytes, limits, typed).decode_json, body)
    if outcome.deferred is not None:
        return otlp.decode_json(body, max_value_bytes, limits)
    return Decoded(rejected=outcome.rejected, errors=list(outcome.errors), batch=pa.record_batch(outcome))


def _run(decode: Any, body: bytes) -> Any:
    try:
        return decode(body)
    except _native.MalformedPayload as exc:
        raise BadPayload(str(exc)) from None


def to_decoded(outcome: Any) -> Decoded:
    """The records of a native outcome, as the reference decoder builds them: one dict per
    resource, shared by its spans."""
    out = Decoded(rejected=outcome.rejected, errors=list(outcome.errors))
    out.records = records_of(pa.record_batch(outcome))
    return out


def records_of(batch: pa.RecordBatch) -> list[SpanRecord]:
    """A native batch's rows (all of them, or those a caller took) as `SpanRecord`s."""
    col = batch.column
    resource_column = col("resource_attributes")
    if isinstance(resource_column, pa.ChunkedArray):
        resource_column = resource_column.combine_chunks()
    resources: list[dict[str, Any]] = [orjson.loads(text) for text in resource_column.dictionary.to_pylist()]
    rows = zip(
        col("trace_id").to_pylist(), col("span_id").to_pylist(), col("parent_span_id").to_pylist(),
        col("name").to_pylist(), col("kind").to_pylist(), col("start_ns").to_pylist(),
        col("end_ns").to_pylist(), col("status_code").to_pylist(), col("status_message").to_pylist(),
        col("attributes").to_pylist(), col("resource_index").to_pylist(), col("events").to_pylist(),
        col("scope_name").to_pylist(), col("scope_version").to_pylist(),
        strict=True,
    )
    loads = orjson.loads
    return [
        SpanRecord(
            trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=kind,
            start_ns=start, end_ns=end, status_code=code, status_message=message,
            attributes=loads(attributes), resource_attributes=resources[resource],
            events=loads(events) if events is not None else [],
            scope_name=scope_name, scope_version=scope_version,
        )
        for (trace_id, span_id, parent, name, kind, start, end, code, message, attributes, resource,
             events, scope_name, scope_version) in rows
    ]
