"""Errors, each classified once as retryable or permanent.

The class decides the answer a client gets: permanent errors are the sender's fault
(HTTP 4xx, gRPC INVALID_ARGUMENT) and must not be retried; retryable ones are ours
(HTTP 429/503 with Retry-After, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE).
"""

from __future__ import annotations


class OutcropError(Exception):
    retryable: bool = False
    http_status: int = 500


class BadPayload(OutcropError):
    """The request body could not be decoded; says what failed."""

    http_status = 400


class UnsupportedMediaType(OutcropError):
    http_status = 415


class PayloadTooLarge(OutcropError):
    http_status = 413


class Unauthorized(OutcropError):
    http_status = 401


class Forbidden(OutcropError):
    """A request the read API refuses whoever sends it: a foreign Host or Origin."""

    http_status = 403


class Overloaded(OutcropError):
    """The write queue is full: push back, never drop."""

    retryable = True
    http_status = 429
    retry_after_seconds = 1


class ShuttingDown(OutcropError):
    retryable = True
    http_status = 503
    retry_after_seconds = 5


class StoreLocked(OutcropError):
    """Another process holds the database file."""


class QueryError(OutcropError):
    """A read query was rejected (not read-only, unknown name, bad parameter)."""

    http_status = 400


class SourceNotFound(OutcropError):
    """An ingest source (file or folder) that does not exist."""

    http_status = 400


class SourceRefused(OutcropError):
    """An admin ingest source outside what the configuration allows; names the setting."""

    http_status = 403


class BadSource(OutcropError):
    """An ingest source that is not an invocation-log file (wrong name or kind of file)."""

    http_status = 400


class IngestBusy(OutcropError):
    """An admin ingest is already running; the next one waits its turn."""

    http_status = 409


class RequestTimeout(OutcropError):
    """A client too slow to send its request (slowloris): answered 408, connection closed."""

    http_status = 408
