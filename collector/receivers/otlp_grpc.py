"""OTLP/gRPC trace service. gRPC hands us the request's bytes, undecoded, and they go to
the same decoder as OTLP/HTTP's (`decode_protobuf`): grpcio's own deserializer would
refuse a whole request over invalid UTF-8 in one span, before our handler could keep the
good ones.

Over capacity answers RESOURCE_EXHAUSTED with a RetryInfo detail (which OTLP clients
treat as retryable); shutting down answers UNAVAILABLE.
"""

from __future__ import annotations

import logging
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from outcrop.collector.decode import decode_protobuf
from outcrop.collector.receivers.otlp_http import span_limits
from outcrop.collector.trace_ingest import TraceIngest, export_response
from outcrop.core.errors import Answer, OutcropError, classify
from outcrop.core.settings import ServerSettings

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"

log = logging.getLogger(__name__)


def _status_code(answer: Answer) -> grpc.StatusCode:
    """`outcrop.core.errors.classify`'s code as grpc's enum (core names codes without grpc)."""
    return grpc.StatusCode[answer.grpc_code.name]


class TraceService:
    def __init__(self, ingest: TraceIngest, limits: ServerSettings) -> None:
        self._ingest = ingest
        self._limits = limits
        self._span_limits = span_limits(limits)

    def export(self, request: bytes, context: grpc.ServicerContext) -> Any:
        metadata = dict(context.invocation_metadata())
        try:
            tenant = self._ingest.authenticate(metadata.get("authorization"), metadata.get("x-api-key"))
            decoded = decode_protobuf(request, self._limits.max_attribute_value_bytes, self._span_limits,
                                      self._ingest.typed_keys)
            result = self._ingest.submit(decoded, tenant).result()
        except OutcropError as exc:
            self._abort(context, exc)
        return export_response(result)

    @staticmethod
    def _abort(context: grpc.ServicerContext, exc: OutcropError) -> None:
        answer = classify(exc)
        code = _status_code(answer)
        if answer.retry_after_seconds is not None:
            detail = RetryInfo(retry_delay=Duration(seconds=answer.retry_after_seconds))
            status = Status(code=answer.grpc_code, message=str(exc))
            status.details.add().Pack(detail)
            context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(code, str(exc))

    def handler(self) -> grpc.GenericRpcHandler:
        """The trace service with no request deserializer: `export` receives bytes."""
        export = grpc.unary_unary_rpc_method_handler(
            self.export,
            request_deserializer=None,
            response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
        )
        return grpc.method_handlers_generic_handler(SERVICE, {"Export": export})


def start_grpc_server(ingest: TraceIngest, limits: ServerSettings, workers: int = 8) -> tuple[grpc.Server, int]:
    """Start the gRPC server; return it and the port it bound (0 picks a free one)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="otlp-grpc"),
        options=[
            ("grpc.max_receive_message_length", limits.max_decompressed_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
            # without this, a second server binds the same port and steals half the traffic
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=limits.queue_max_batches,
    )
    server.add_generic_rpc_handlers((TraceService(ingest, limits).handler(),))
    port = server.add_insecure_port(f"{limits.host}:{limits.grpc_port}")
    server.start()
    return server, port
