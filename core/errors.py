"""Errors, each classified once as retryable or permanent, and the one mapping from that
class to what every transport answers.

Permanent errors are the sender's fault (HTTP 4xx, gRPC INVALID_ARGUMENT and kin) and must
not be retried; retryable ones are ours (HTTP 429/503 with Retry-After, gRPC
RESOURCE_EXHAUSTED/UNAVAILABLE). Each class names its gRPC code; `classify` turns an error
into (gRPC code, HTTP status, Retry-After), for both OTLP receivers and the read API, as the
OpenTelemetry Collector does in one place:
https://github.com/open-telemetry/opentelemetry-collector/blob/main/receiver/otlpreceiver/internal/errors/errors.go
Codes are plain numbers here so that core needs no grpc; the gRPC receiver converts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar


class GrpcCode(IntEnum):
    """gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), named as
    `grpc.StatusCode` names them."""

    CANCELLED = 1
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


# The codes an OTLP client retries (OTLP specification, "Failures"; RESOURCE_EXHAUSTED
# only with a RetryInfo, which a retryable error always carries here).
RETRYABLE_CODES = frozenset({
    GrpcCode.CANCELLED, GrpcCode.DEADLINE_EXCEEDED, GrpcCode.ABORTED, GrpcCode.OUT_OF_RANGE,
    GrpcCode.UNAVAILABLE, GrpcCode.DATA_LOSS, GrpcCode.RESOURCE_EXHAUSTED,
})  # fmt: skip

# The Collector's GetHTTPStatusCodeFromStatus; any other code is 500.
_HTTP_STATUS = {
    GrpcCode.CANCELLED: 503, GrpcCode.DEADLINE_EXCEEDED: 503, GrpcCode.ABORTED: 503,
    GrpcCode.OUT_OF_RANGE: 503, GrpcCode.UNAVAILABLE: 503, GrpcCode.DATA_LOSS: 503,
    GrpcCode.RESOURCE_EXHAUSTED: 429, GrpcCode.INVALID_ARGUMENT: 400, GrpcCode.UNAUTHENTICATED: 401,
    GrpcCode.PERMISSION_DENIED: 403, GrpcCode.UNIMPLEMENTED: 404,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Answer:
    """What a client is told about an error, whichever transport it came by."""

    grpc_code: GrpcCode
    http_status: int
    retry_after_seconds: int | None


def classify(exc: OutcropError) -> Answer:
    """The one mapping from an error's class to its gRPC code, HTTP status and Retry-After."""
    status = exc.http_status if exc.http_status is not None else _HTTP_STATUS.get(exc.grpc_code, 500)
    return Answer(exc.grpc_code, status, exc.retry_after_seconds)


class OutcropError(Exception):
    """An error of ours unless a subclass says otherwise: a server fault, not retried."""

    retryable: bool = False
    grpc_code: ClassVar[GrpcCode] = GrpcCode.INTERNAL
    # Set only where HTTP says more than the gRPC code does (413, 415, 408, 409, 502).
    http_status: ClassVar[int | None] = None
    retry_after_seconds: ClassVar[int | None] = None


class BadPayload(OutcropError):
    """The request body could not be decoded; says what failed."""

    grpc_code = GrpcCode.INVALID_ARGUMENT


class UnsupportedMediaType(OutcropError):
    grpc_code = GrpcCode.INVALID_ARGUMENT
    http_status = 415


class PayloadTooLarge(OutcropError):
    # permanent: the same body is refused again (RESOURCE_EXHAUSTED would invite retries)
    grpc_code = GrpcCode.INVALID_ARGUMENT
    http_status = 413


class Unauthorized(OutcropError):
    grpc_code = GrpcCode.UNAUTHENTICATED


class Forbidden(OutcropError):
    """A request the read API refuses whoever sends it: a foreign Host or Origin."""

    grpc_code = GrpcCode.PERMISSION_DENIED


class Overloaded(OutcropError):
    """The write queue is full: push back, never drop."""

    retryable = True
    grpc_code = GrpcCode.RESOURCE_EXHAUSTED
    retry_after_seconds = 1


class ShuttingDown(OutcropError):
    retryable = True
    grpc_code = GrpcCode.UNAVAILABLE
    retry_after_seconds = 5


class StoreLocked(OutcropError):
    """Another process holds the database file."""


class QueryError(OutcropError):
    """A read query was rejected (not read-only, unknown name, bad parameter)."""

    grpc_code = GrpcCode.INVALID_ARGUMENT


class SourceNotFound(OutcropError):
    """An ingest source (file or folder) that does not exist."""

    grpc_code = GrpcCode.INVALID_ARGUMENT


class SourceRefused(OutcropError):
    """An admin ingest source outside what the configuration allows; names the setting."""

    grpc_code = GrpcCode.PERMISSION_DENIED


class BadSource(OutcropError):
    """An ingest source that is not an invocation-log file (wrong name or kind of file)."""

    grpc_code = GrpcCode.INVALID_ARGUMENT


class IngestBusy(OutcropError):
    """An admin ingest is already running; the next one waits its turn."""

    grpc_code = GrpcCode.FAILED_PRECONDITION
    http_status = 409


class RequestTimeout(OutcropError):
    """A client too slow to send its request (slowloris): answered 408, connection closed."""

    # permanent: an incomplete request (DEADLINE_EXCEEDED would invite retries)
    grpc_code = GrpcCode.INVALID_ARGUMENT
    http_status = 408
