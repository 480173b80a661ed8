"""OTLP/HTTP receiver: POST /v1/traces, protobuf or JSON, optional gzip.

Limits are enforced while reading: the raw body is capped (413) and gzip is inflated in
bounded steps, so a gzip bomb is refused without being inflated in full. A request is
answered only after its spans are committed.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Any

import orjson
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.errors import BadPayload, OutcropError, PayloadTooLarge, UnsupportedMediaType
from collector.ingest_service import Accepted, TraceIngest
from collector.receivers.otlp_decode import Decoded, decode_json, decode_protobuf
from collector.settings import ServerSettings

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_DECODERS: dict[str, Callable[[bytes, int], Decoded]] = {
    "application/x-protobuf": decode_protobuf,
    "application/protobuf": decode_protobuf,
    "application/json": decode_json,
}


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


def inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r} (use gzip or none)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadPayload(f"malformed gzip body: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"gzip body inflates past the limit of {limit} bytes")
    if not inflater.eof:
        raise BadPayload("malformed gzip body: truncated stream")
    return out


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
    message = ExportTraceServiceResponse()
    if result.rejected:
        message.partial_success.rejected_spans = result.rejected
        message.partial_success.error_message = result.message
    return Response(message.SerializeToString(), media_type=PROTOBUF)


def _error(exc: OutcropError, media: str) -> Response:
    headers = {}
    retry_after = getattr(exc, "retry_after_seconds", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if media == JSON or media not in _DECODERS:
        body = orjson.dumps({"code": exc.http_status, "message": str(exc)})
        return Response(body, status_code=exc.http_status, media_type=JSON, headers=headers)
    status = Status(code=exc.http_status, message=str(exc)).SerializeToString()
    return Response(status, status_code=exc.http_status, media_type=PROTOBUF, headers=headers)


def create_app(ingest: TraceIngest, limits: ServerSettings) -> Starlette:
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
            raw = await read_body(request, limits.max_body_bytes)
            body = inflate(raw, request.headers.get("content-encoding"), limits.max_decompressed_bytes)
            decoded = decoder(body, limits.max_attribute_value_bytes)
            result = await asyncio.wrap_future(ingest.submit(decoded, tenant))
        except OutcropError as exc:
            return _error(exc, media)
        return _answer(result, media)

    return Starlette(routes=[Route("/v1/traces", export, methods=["POST"])])
