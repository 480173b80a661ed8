"""One classification of errors: each class to a gRPC code, an HTTP status and Retry-After,
the same for the OTLP receivers and the read API."""

from __future__ import annotations

import pytest

from outcrop.core import errors
from outcrop.core.aws import AwsError
from outcrop.core.errors import RETRYABLE_CODES, GrpcCode, OutcropError, classify


@pytest.mark.parametrize(("error", "code", "status", "retry_after"), [
    (errors.BadPayload, "INVALID_ARGUMENT", 400, None),
    (errors.UnsupportedMediaType, "INVALID_ARGUMENT", 415, None),
    (errors.PayloadTooLarge, "INVALID_ARGUMENT", 413, None),
    (errors.Unauthorized, "UNAUTHENTICATED", 401, None),
    (errors.Forbidden, "PERMISSION_DENIED", 403, None),
    (errors.Overloaded, "RESOURCE_EXHAUSTED", 429, 1),
    (errors.ShuttingDown, "UNAVAILABLE", 503, 5),
    (errors.StoreLocked, "INTERNAL", 500, None),
    (errors.QueryError, "INVALID_ARGUMENT", 400, None),
    (errors.SourceNotFound, "INVALID_ARGUMENT", 400, None),
    (errors.SourceRefused, "PERMISSION_DENIED", 403, None),
    (errors.BadSource, "INVALID_ARGUMENT", 400, None),
    (errors.IngestBusy, "FAILED_PRECONDITION", 409, None),
    (errors.RequestTimeout, "INVALID_ARGUMENT", 408, None),
    (OutcropError, "INTERNAL", 500, None),
])
def test_each_error_class_has_one_answer_for_every_transport(error: type[OutcropError], code: str,
                                                             status: int, retry_after: int | None) -> None:
    answer = classify(error("why"))
    assert (answer.grpc_code.name, answer.http_status, answer.retry_after_seconds) == (code, status, retry_after)


def test_an_upstream_aws_failure_is_a_bad_gateway_on_the_read_api() -> None:
    answer = classify(AwsError("bucket gone", retryable=False, code="NoSuchBucket"))
    assert (answer.grpc_code, answer.http_status) == (GrpcCode.INTERNAL, 502)


def _error_classes() -> list[type[OutcropError]]:
    found = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, OutcropError)]
    assert len(found) >= 15
    return found


@pytest.mark.parametrize("error", _error_classes(), ids=lambda c: c.__name__)
def test_a_client_retries_exactly_the_errors_classified_retryable(error: type[OutcropError]) -> None:
    """The gRPC code tells an OTLP client whether to retry; it must agree with the class."""
    answer = classify(error("why"))
    assert (answer.grpc_code in RETRYABLE_CODES) == error.retryable
    assert (answer.retry_after_seconds is not None) == error.retryable
    assert (answer.http_status in (429, 502, 503, 504)) == error.retryable


def test_grpc_code_names_are_grpcs_own() -> None:
    import grpc

    for code in GrpcCode:
        assert grpc.StatusCode[code.name].value[0] == code.value
