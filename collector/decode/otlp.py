"""OTLP trace payloads (protobuf or JSON) → `SpanRecord`s. Pure: bytes in, records out.

A payload that cannot be decoded at all raises `BadPayload` naming what failed. A span
with invalid ids or timestamps, or with invalid UTF-8 in a string, is rejected alone and
counted (OTLP partial success); its siblings are kept. Oversized attribute values are
truncated with a visible marker, and attributes or events beyond `SpanLimits` are dropped
and counted in one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from outcrop.collector.decode.otlp_lenient import without_invalid_utf8
from outcrop.core.errors import BadPayload
from outcrop.core.records import SpanRecord

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
# Spans outside [2000-01-01, 2100-01-01) are rejected: zero or garbage timestamps would
# otherwise land in 1970 or in the far future and poison every time window.
MIN_NS = 946_684_800 * 10**9
MAX_NS = 4_102_444_800 * 10**9
MAX_DEPTH = 8  # nested array/kvlist values deeper than this are cut
# Where a capped list records how many entries it dropped: in the attributes it belongs to.
TRUNCATED_ATTRIBUTES = "outcrop.truncated.attributes"
TRUNCATED_EVENTS = "outcrop.truncated.events"


@dataclass(frozen=True, slots=True)
class SpanLimits:
    """How much of one span is kept. Beyond a cap the first N entries are kept and the
    number dropped is recorded, as an oversized value keeps its head and says
    `…[truncated N bytes]`. Entries past the cap are never converted, so a span with a
    million attributes costs no more than one with N."""

    attributes: int = 1024  # per span; also per resource and per kvlist value
    events: int = 256
    event_attributes: int = 128


DEFAULT_LIMITS = SpanLimits()
_T = TypeVar("_T")


@dataclass
class Decoded:
    records: list[SpanRecord] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    # the native decoder's spans instead of `records`: one Arrow record batch (docs/native.md)
    batch: Any = None

    def reject(self, message: str, spans: int = 1) -> None:
        self.rejected += spans
        if len(self.errors) < 5:  # enough to say what was wrong, bounded
            self.errors.append(message)

    @property
    def error_message(self) -> str:
        return "; ".join(self.errors)


def _truncate(value: str, limit: int) -> str:
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return value
    kept = raw[:limit].decode("utf-8", "ignore")
    return f"{kept}…[truncated {len(raw) - limit} bytes]"


def _short_text(value: str, limit: int) -> str:
    return value if len(value) <= limit // 4 else _truncate(value, limit)


def _capped(items: Sequence[_T], cap: int) -> tuple[Sequence[_T], int]:
    """The first `cap` items and how many were left out; slicing first means the rest is
    never looked at."""
    dropped = len(items) - cap
    return (items[:cap], dropped) if dropped > 0 else (items, 0)


def _check_span(trace_id: str, span_id: str, parent: str | None, start: int, end: int) -> str | None:
    if len(trace_id) != 32 or trace_id == "0" * 32:
        return f"invalid trace_id {trace_id[:64]!r} (want 16 non-zero bytes)"
    if len(span_id) != 16 or span_id == "0" * 16:
        return f"invalid span_id {span_id[:32]!r} (want 8 non-zero bytes)"
    if parent is not None and len(parent) != 16:
        return f"invalid parent_span_id {parent[:32]!r} (want 8 bytes)"
    if not (MIN_NS <= start < MAX_NS) or not (MIN_NS <= end < MAX_NS):
        return f"span {span_id}: timestamps out of range (start {start}, end {end})"
    if end < start:
        return f"span {span_id}: end time {end} is before start time {start}"
    return None


# -- protobuf ------------------------------------------------------------------------


def decode_protobuf(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS) -> Decoded:
    """The one protobuf decoder, for OTLP/HTTP and OTLP/gRPC alike (both hand it bytes)."""
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        return _decode_around_invalid_utf8(body, exc, max_value_bytes, limits)
    return records_from_request(request, max_value_bytes, limits)


def _decode_around_invalid_utf8(body: bytes, exc: Exception, max_value_bytes: int,
                                limits: SpanLimits) -> Decoded:
    """protobuf refuses a whole message for invalid UTF-8 in one string field: parse again
    with every string as bytes and keep the spans that are valid, so only a payload that
    is not protobuf at all fails the request."""
    malformed = BadPayload(f"malformed OTLP protobuf: {exc or 'could not parse message'}")
    try:
        request, rejections = without_invalid_utf8(body)
    except (DecodeError, ValueError, RuntimeError):
        raise malformed from None
    if not rejections:  # the first parse failed for another reason after all
        raise malformed
    out = records_from_request(request, max_value_bytes, limits)
    for message, spans in rejections:
        out.reject(message, spans)
    return out


def records_from_request(request: ExportTraceServiceRequest, max_value_bytes: int,
                         limits: SpanLimits = DEFAULT_LIMITS) -> Decoded:
    out = Decoded()
    attrs_of = _pb_attrs_reader(max_value_bytes, limits.attributes)
    for rs in request.resource_spans:
        resource = attrs_of(rs.resource.attributes, limits.attributes)
        for ss in rs.scope_spans:
            scope_name = ss.scope.name or None
            scope_version = ss.scope.version or None
            for span in ss.spans:
                _pb_span(span, resource, scope_name, scope_version, attrs_of, limits, out)
    return out


def _pb_span(span: Any, resource: dict[str, Any], scope_name: str | None,
             scope_version: str | None, attrs_of: Callable[[Sequence[Any], int], dict[str, Any]],
             limits: SpanLimits, out: Decoded) -> None:
    trace_id = span.trace_id.hex()
    span_id = span.span_id.hex()
    parent = span.parent_span_id.hex() or None
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    error = _check_span(trace_id, span_id, parent, start, end)
    if error is not None:
        out.reject(error)
        return
    kept_events, dropped_events = _capped(span.events, limits.events)
    events = [
        {"name": ev.name, "time_ns": ev.time_unix_nano,
         "attributes": attrs_of(ev.attributes, limits.event_attributes)}
        for ev in kept_events
    ] if kept_events else []
    attributes = attrs_of(span.attributes, limits.attributes)
    if dropped_events:
        attributes[TRUNCATED_EVENTS] = dropped_events
    status = span.status
    name: str = span.name
    out.records.append(
        SpanRecord(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=_short_text(name, 1024),
            kind=KINDS[span.kind] if 0 <= span.kind < len(KINDS) else "unspecified",
            start_ns=start,
            end_ns=end,
            status_code=STATUSES[status.code] if 0 <= status.code < 3 else "unset",
            status_message=status.message or None,
            attributes=attributes,
            resource_attributes=resource,
            events=events,
            scope_name=scope_name,
            scope_version=scope_version,
        )
    )


def _pb_attrs_reader(limit: int, kvlist_cap: int) -> Callable[[Sequence[Any], int], dict[str, Any]]:
    value_of = _pb_value_reader(limit, kvlist_cap)
    short = limit // 4  # a string this short cannot exceed the limit (≤ 4 UTF-8 bytes a character)

    def attrs_of(kvs: Sequence[Any], cap: int) -> dict[str, Any]:
        kept, dropped = _capped(kvs, cap)
        result: dict[str, Any] = {}
        for kv in kept:
            v = kv.value
            if v.WhichOneof("value") == "string_value":  # most values: no call below
                s: str = v.string_value
                result[kv.key] = s if len(s) <= short else _truncate(s, limit)
            else:
                result[kv.key] = value_of(v, 0)
        if dropped:
            result[TRUNCATED_ATTRIBUTES] = dropped
        return result

    return attrs_of


def _pb_value_reader(limit: int, kvlist_cap: int) -> Callable[[Any, int], Any]:
    def kvlist_of(kvs: Sequence[Any], depth: int) -> dict[str, Any]:
        kept, dropped = _capped(kvs, kvlist_cap)
        result = {kv.key: value_of(kv.value, depth) for kv in kept}
        if dropped:
            result[TRUNCATED_ATTRIBUTES] = dropped
        return result

    def value_of(v: Any, depth: int) -> Any:
        kind = v.WhichOneof("value")
        if kind == "string_value":
            s: str = v.string_value
            return s if len(s) <= limit // 4 else _truncate(s, limit)
        if kind == "int_value":
            return v.int_value
        if kind == "double_value":
            return v.double_value
        if kind == "bool_value":
            return v.bool_value
        if depth >= MAX_DEPTH:
            return "…[nested too deep]"
        if kind == "array_value":
            return [value_of(x, depth + 1) for x in v.array_value.values]
        if kind == "kvlist_value":
            return kvlist_of(v.kvlist_value.values, depth + 1)
        if kind == "bytes_value":
            return _truncate(base64.b64encode(v.bytes_value).decode(), limit)
        return None

    return value_of


# -- JSON (OTLP/JSON: hex ids, camelCase, enums as ints or names, int64 as strings) -----


def decode_json(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS) -> Decoded:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"malformed OTLP JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadPayload("malformed OTLP JSON: top level must be an object with resourceSpans")
    resource_spans: Any = doc.get("resourceSpans", doc.get("resource_spans", []))
    _expect_list(resource_spans, "resourceSpans")
    out = Decoded()
    for i, rs in enumerate(resource_spans):
        _expect_dict(rs, f"resourceSpans[{i}]")
        resource = _json_resource(rs.get("resource"), max_value_bytes, limits, f"resourceSpans[{i}].resource")
        scope_spans = rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", []))
        _expect_list(scope_spans, f"resourceSpans[{i}].scopeSpans")
        for j, ss in enumerate(scope_spans):
            _expect_dict(ss, f"resourceSpans[{i}].scopeSpans[{j}]")
            scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
            spans = ss.get("spans", [])
            _expect_list(spans, f"resourceSpans[{i}].scopeSpans[{j}].spans")
            for span in spans:
                _json_span(span, resource, scope, max_value_bytes, limits, out)
    return out


def _json_resource(resource: Any, limit: int, limits: SpanLimits, where: str) -> dict[str, Any]:
    """Resource attributes; a malformed resource spoils all its spans, so it fails the request."""
    if resource is None:
        return {}
    _expect_dict(resource, where)
    try:
        return _json_attrs(resource.get("attributes"), limit, limits, limits.attributes)
    except (TypeError, ValueError) as exc:
        raise BadPayload(f"malformed OTLP JSON: {where}.attributes: {exc}") from None


def _expect_list(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise BadPayload(f"malformed OTLP JSON: {where} must be an array, got {type(value).__name__}")


def _expect_dict(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise BadPayload(f"malformed OTLP JSON: {where} must be an object, got {type(value).__name__}")


def _json_span(span: Any, resource: dict[str, Any], scope: Any, limit: int, limits: SpanLimits,
               out: Decoded) -> None:
    try:
        rec = _json_span_record(span, resource, scope, limit, limits)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        out.reject(f"span rejected: {exc}")
        return
    error = _check_span(rec.trace_id, rec.span_id, rec.parent_span_id, rec.start_ns, rec.end_ns)
    if error is not None:
        out.reject(error)
        return
    out.records.append(rec)


def _hex_id(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a hex string")
    lowered = value.lower()
    try:
        binascii.unhexlify(lowered)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name} {value[:40]!r} is not hex") from None
    return lowered


def _json_span_record(span: Any, resource: dict[str, Any], scope: Any, limit: int,
                      limits: SpanLimits) -> SpanRecord:
    if not isinstance(span, dict):
        raise TypeError("a span must be an object")
    parent_raw = span.get("parentSpanId") or None
    status = span.get("status") or {}
    events, dropped_events = _json_events(span.get("events"), limit, limits)
    attributes = _json_attrs(span.get("attributes"), limit, limits, limits.attributes)
    if dropped_events:
        attributes[TRUNCATED_EVENTS] = dropped_events
    return SpanRecord(
        trace_id=_hex_id(span.get("traceId"), "traceId"),
        span_id=_hex_id(span.get("spanId"), "spanId"),
        parent_span_id=_hex_id(parent_raw, "parentSpanId") if parent_raw else None,
        name=_short_text(str(span.get("name", "")), 1024),
        kind=_enum(span.get("kind", 0), KINDS, "SPAN_KIND_"),
        start_ns=int(span.get("startTimeUnixNano", 0)),
        end_ns=int(span.get("endTimeUnixNano", 0)),
        status_code=_enum(status.get("code", 0), STATUSES, "STATUS_CODE_"),
        status_message=status.get("message") or None,
        attributes=attributes,
        resource_attributes=resource,
        events=events,
        scope_name=(scope.get("name") or None) if isinstance(scope, dict) else None,
        scope_version=(scope.get("version") or None) if isinstance(scope, dict) else None,
    )


def _enum(value: Any, names: tuple[str, ...], prefix: str) -> str:
    if isinstance(value, int) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, str):
        name = value.removeprefix(prefix).lower()
        if name in names:
            return name
    raise ValueError(f"unknown enum value {value!r}")


def _json_events(evs: Any, limit: int, limits: SpanLimits) -> tuple[list[dict[str, Any]], int]:
    if not evs:
        return [], 0
    if not isinstance(evs, list):
        raise TypeError("events must be an array")
    kept, dropped = _capped(evs, limits.events)
    return [_json_event(ev, limit, limits) for ev in kept], dropped


def _json_event(ev: Any, limit: int, limits: SpanLimits) -> dict[str, Any]:
    if not isinstance(ev, dict):
        raise TypeError("an event must be an object")
    return {
        "name": str(ev.get("name", "")),
        "time_ns": int(ev.get("timeUnixNano", 0)),
        "attributes": _json_attrs(ev.get("attributes"), limit, limits, limits.event_attributes),
    }


def _json_attrs(kvs: Any, limit: int, limits: SpanLimits, cap: int, depth: int = 0) -> dict[str, Any]:
    if kvs is None:
        return {}
    if not isinstance(kvs, list):
        raise TypeError("attributes must be an array of {key, value}")
    kept, dropped = _capped(kvs, cap)
    result: dict[str, Any] = {}
    for kv in kept:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise TypeError("an attribute must be an object with a string key")
        result[kv["key"]] = _json_value(kv.get("value"), limit, limits, depth)
    if dropped:
        result[TRUNCATED_ATTRIBUTES] = dropped
    return result


def _json_value(v: Any, limit: int, limits: SpanLimits, depth: int) -> Any:
    if not isinstance(v, dict) or not v:
        return None
    kind, raw = next(iter(v.items()))
    if kind == "stringValue":
        text = str(raw)
        return text if len(text) <= limit // 4 else _truncate(text, limit)
    if kind == "intValue":
        return int(raw)
    if kind == "doubleValue":
        return float(raw)
    if kind == "boolValue":
        return bool(raw)
    if depth >= MAX_DEPTH:
        return "…[nested too deep]"
    if kind in ("arrayValue", "kvlistValue") and raw and not isinstance(raw, dict):  # an empty one is empty
        raise TypeError(f"{kind} must be an object with values, got {type(raw).__name__}")
    if kind == "arrayValue":
        return [_json_value(x, limit, limits, depth + 1) for x in (raw or {}).get("values") or []]
    if kind == "kvlistValue":
        return _json_attrs((raw or {}).get("values"), limit, limits, limits.attributes, depth + 1)
    if kind == "bytesValue":
        return _truncate(str(raw), limit)
    raise ValueError(f"unknown attribute value type {kind!r}")
