"""OTLP/HTTP receiver: POST /v1/traces, protobuf or JSON, optional gzip.

Limits are enforced while reading: the raw body is capped (413) and must arrive within
a time limit (408), and gzip is inflated in bounded steps, so a gzip bomb is refused
without being inflated in full. Inflating, decoding and normalising run in a bounded pool
of threads, never on the event loop, which the read API and the other OTLP clients share.
A request is answered only after its spans are committed.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import anyio
import orjson
from google.rpc.status_pb2 import Status
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from outcrop.collector.decode import Decoded, SpanLimits, decode_json, decode_protobuf
from outcrop.collector.trace_ingest import Accepted, Sender, TraceIngest, export_response
from outcrop.core.errors import (
    BadPayload,
    OutcropError,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    classify,
)
from outcrop.core.settings import ServerSettings

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_DECODERS: dict[str, Callable[[bytes, int, SpanLimits, tuple[tuple[str, str], ...]], Decoded]] = {
    "application/x-protobuf": decode_protobuf,
    "application/protobuf": decode_protobuf,
    "application/json": decode_json,
}
_GZIP_STEP = 64 * 1024  # compressed bytes fed to zlib at a time


def span_limits(cfg: ServerSettings) -> SpanLimits:
    return SpanLimits(cfg.max_attributes_per_span, cfg.max_events_per_span, cfg.max_attributes_per_event)


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes; works with and without Content-Length (chunked)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body_within(request: Request, limits: ServerSettings) -> bytes:
    """`read_body`, refused with 408 when the whole body takes too long (a slow client
    would otherwise hold its connection open for as long as it likes)."""
    try:
        with anyio.fail_after(limits.body_read_timeout_seconds):
            return await read_body(request, limits.max_body_bytes)
    except TimeoutError:
        raise RequestTimeout(f"request body not received within {limits.body_read_timeout_seconds:g} s "
                             "(server.body_read_timeout_seconds)") from None


def inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r} (use gzip or none)")
    return gunzip(body, limit)


def gunzip(body: bytes, limit: int) -> bytes:
    """Every member of a gzip body, as `gzip -d` reads them (RFC 1952 section 2.2: a gzip
    file is a series of members), at most `limit` bytes in all.

    Input goes to zlib in bounded steps, so what zlib copies at the end of each member is
    bounded too: a body of many tiny members costs time linear in its size.
    """
    view = memoryview(body)
    out: list[bytes] = []
    size = members = 0
    inflater, fed = _gzip_member(), False
    for start in range(0, len(body), _GZIP_STEP):
        pending: bytes | memoryview = view[start:start + _GZIP_STEP]
        while pending:
            try:
                piece = inflater.decompress(pending, limit - size + 1)
            except zlib.error as exc:
                raise _gzip_error(exc, members, fed) from None
            fed, size = True, size + len(piece)
            if size > limit or inflater.unconsumed_tail:
                raise PayloadTooLarge(f"gzip body inflates past the limit of {limit} bytes")
            out.append(piece)
            if not inflater.eof:
                break  # this step is used up; the member goes on in the next one
            members, pending = members + 1, inflater.unused_data
            inflater, fed = _gzip_member(), False
    if fed or not members:
        raise BadPayload("malformed gzip body: truncated stream")
    return b"".join(out)


def _gzip_member() -> zlib._Decompress:
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: a gzip header and trailer


def _gzip_error(exc: zlib.error, members: int, fed: bool) -> BadPayload:
    if members and not fed:
        return BadPayload(f"malformed gzip body: trailing garbage after gzip member {members} ({exc})")
    return BadPayload(f"malformed gzip body: {exc}")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _answer(result: Accepted, media: str) -> Response:
    if media == JSON:
        body: dict[str, Any] = {}
        if result.rejected:
            body["partialSuccess"] = {
                "rejectedSpans": str(result.rejected),
                "errorMessage": result.message,
            }
        return Response(orjson.dumps(body), media_type=JSON)
    return Response(export_response(result).SerializeToString(), media_type=PROTOBUF)


def _error(exc: OutcropError, media: str) -> Response:
    answer = classify(exc)
    headers = {}
    if answer.retry_after_seconds is not None:
        headers["Retry-After"] = str(answer.retry_after_seconds)
    if isinstance(exc, RequestTimeout):
        headers["Connection"] = "close"  # the rest of the body is not worth waiting for
    if media == JSON or media not in _DECODERS:
        # the JSON form of google.rpc.Status, as the protobuf one below
        body = orjson.dumps({"code": int(answer.grpc_code), "message": str(exc)})
        return Response(body, status_code=answer.http_status, media_type=JSON, headers=headers)
    # google.rpc.Status.code is a gRPC code, as the Collector's OTLP/HTTP receiver sends it
    status = Status(code=answer.grpc_code, message=str(exc)).SerializeToString()
    return Response(status, status_code=answer.http_status, media_type=PROTOBUF, headers=headers)


def create_app(ingest: TraceIngest, limits: ServerSettings) -> Starlette:
    # A huge request holds one of these threads, never the event loop; the rest of the
    # requests wait for a free thread without holding anything but their bodies.
    workers = anyio.CapacityLimiter(limits.decode_threads)
    bounds = span_limits(limits)

    def decode_and_submit(decoder: Callable[[bytes, int, SpanLimits, tuple[tuple[str, str], ...]], Decoded],
                          raw: bytes, encoding: str | None, tenant: Sender) -> Future[Accepted]:
        body = inflate(raw, encoding, limits.max_decompressed_bytes)
        decoded = decoder(body, limits.max_attribute_value_bytes, bounds, ingest.typed_keys)
        return ingest.submit(decoded, tenant)  # normalises on this thread, too

    async def export(request: Request) -> Response:
        media = _media_type(request)
        try:
            decoder = _DECODERS.get(media)
            if decoder is None:
                raise UnsupportedMediaType(
                    f"unsupported Content-Type {media!r}: send application/x-protobuf or application/json"
                )
            tenant = ingest.authenticate(
                request.headers.get("authorization"), request.headers.get("x-api-key")
            )
            raw = await read_body_within(request, limits)
            encoding = request.headers.get("content-encoding")
            committed = await anyio.to_thread.run_sync(
                decode_and_submit, decoder, raw, encoding, tenant, limiter=workers
            )
            result = await asyncio.wrap_future(committed)
        except OutcropError as exc:
            return _error(exc, media)
        return _answer(result, media)

    return Starlette(routes=[Route("/v1/traces", export, methods=["POST"])])
