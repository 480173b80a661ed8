"""A second parse of an OTLP trace request that protobuf refused over invalid UTF-8.

protobuf refuses a whole message when one proto3 `string` field holds invalid UTF-8
(https://protobuf.dev/programming-guides/proto3/#scalar: "A string must always contain
UTF-8 encoded or 7-bit ASCII text"), so one bad attribute would lose every span of the
request. Here the request is parsed with copies of the OTLP descriptors in which every
`string` is `bytes`; each part that also parses strictly is kept, and each part that does
not is rejected with the field that holds the invalid text. A resource or scope with
invalid text spoils the spans under it. No wire format is parsed by hand.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

_FILES = (common_pb2, resource_pb2, trace_pb2, trace_service_pb2)  # each after its imports
_REQUEST = "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"
_STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_BYTES = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES

# (message, spans rejected with it)
Rejections = list[tuple[str, int]]


@dataclass(frozen=True)
class _Loose:
    request: Any  # the ExportTraceServiceRequest class with bytes for strings
    was_string: frozenset[str]  # full names of the fields that are strings in OTLP


@functools.cache
def _loose() -> _Loose:
    """Built once, on the first request that needs it, in a pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    was_string: set[str] = set()
    for module in _FILES:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        for message in proto.message_type:
            _strings_as_bytes(message, proto.package, was_string)
        pool.Add(proto)
    request = message_factory.GetMessageClass(pool.FindMessageTypeByName(_REQUEST))
    return _Loose(request, frozenset(was_string))


def _strings_as_bytes(message: descriptor_pb2.DescriptorProto, scope: str, was_string: set[str]) -> None:
    name = f"{scope}.{message.name}"
    for f in message.field:
        if f.type == _STRING:
            f.type = _BYTES
            was_string.add(f"{name}.{f.name}")
    for nested in message.nested_type:
        _strings_as_bytes(nested, name, was_string)


def without_invalid_utf8(body: bytes) -> tuple[ExportTraceServiceRequest, Rejections]:
    """The request without the spans that hold invalid UTF-8, and why each was left out.

    Raises DecodeError when `body` is not an OTLP trace request even with bytes for strings.
    """
    loose = _loose()
    clean = ExportTraceServiceRequest()
    rejections: Rejections = []
    for i, rs in enumerate(loose.request.FromString(body).resource_spans):
        _keep_resource_spans(rs, f"resource_spans[{i}]", clean, loose.was_string, rejections)
    return clean, rejections


def _keep_resource_spans(rs: Any, where: str, clean: ExportTraceServiceRequest,
                         was_string: frozenset[str], rejections: Rejections) -> None:
    whole = _strict(ResourceSpans, rs)
    if whole is not None:
        clean.resource_spans.append(whole)
        return
    head = _strict_head(ResourceSpans, rs, "scope_spans")
    if head is None:
        spans = sum(len(ss.spans) for ss in rs.scope_spans)
        rejections.append((_spoiled(where, _bad_field(_head(rs, "scope_spans"), was_string), spans), spans))
        return
    kept = clean.resource_spans.add()
    kept.CopyFrom(head)
    for j, ss in enumerate(rs.scope_spans):
        _keep_scope_spans(ss, f"{where}.scope_spans[{j}]", kept, was_string, rejections)


def _keep_scope_spans(ss: Any, where: str, clean: ResourceSpans, was_string: frozenset[str],
                      rejections: Rejections) -> None:
    head = _strict_head(ScopeSpans, ss, "spans")
    if head is None:
        spans = len(ss.spans)
        rejections.append((_spoiled(where, _bad_field(_head(ss, "spans"), was_string), spans), spans))
        return
    kept = clean.scope_spans.add()
    kept.CopyFrom(head)
    for span in ss.spans:
        strict = _strict(Span, span)
        if strict is None:
            field = _bad_field(span, was_string)
            rejections.append((f"span {span.span_id.hex()}: invalid UTF-8 in {field}", 1))
        else:
            kept.spans.append(strict)


def _spoiled(where: str, field: str, spans: int) -> str:
    return f"{where}: invalid UTF-8 in {field}; its {spans} spans rejected"


def _strict(cls: type[Message], loose: Any) -> Any:
    """`loose` as the OTLP message class, or None when one of its strings is not UTF-8."""
    try:
        return cls.FromString(loose.SerializeToString())
    except DecodeError:
        return None


def _head(loose: Any, children: str) -> Any:
    head = type(loose)()
    head.CopyFrom(loose)
    head.ClearField(children)
    return head


def _strict_head(cls: type[Message], loose: Any, children: str) -> Any:
    """`loose` without its `children`, parsed strictly (None: invalid UTF-8 outside them)."""
    return _strict(cls, _head(loose, children))


def _bad_field(message: Any, was_string: frozenset[str]) -> str:
    return _find_bad_field(message, was_string) or "a string field"


def _find_bad_field(message: Any, was_string: frozenset[str]) -> str | None:
    """The path of the first string that is not UTF-8, as `attributes["key"].value.string_value`."""
    for fd, value in message.ListFields():
        items = list(value) if fd.is_repeated else [value]
        if fd.full_name in was_string:
            if any(not _is_utf8(item) for item in items):
                return str(fd.name)
        elif fd.message_type is not None:
            for k, item in enumerate(items):
                inner = _find_bad_field(item, was_string)
                if inner is not None:
                    return f"{fd.name}{_position(item, k) if fd.is_repeated else ''}.{inner}"
    return None


def _position(item: Any, index: int) -> str:
    """An attribute by its key when the key itself is valid text, else by its index."""
    key = getattr(item, "key", None)
    if isinstance(key, bytes) and _is_utf8(key):
        return f"[{key.decode()!r}]"
    return f"[{index}]"


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
