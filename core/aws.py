"""boto3 clients built from `settings.aws`, and the one place AWS errors are classified.

Credentials come from the standard chain (environment, shared profile, container or
instance role). Retries of throttles and 5xx are botocore's own "standard" retry mode
with jittered exponential backoff; nothing here loops on errors by hand.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from outcrop.core.errors import OutcropError
from outcrop.core.settings import AwsSettings

# Error codes AWS uses for "try again later"; botocore's standard mode already retried
# these max_attempts times before we see them.
_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        "LimitExceededException",
    }
)


class AwsError(OutcropError):
    """An AWS call that failed after botocore's retries, classified once.

    `retryable` tells the caller to try again on its next poll; permanent errors
    (missing bucket, access denied, unknown log group) need a person to fix config.
    Through the read API it answers 502: the failure is upstream, not in the request.
    """

    http_status = 502

    def __init__(self, message: str, *, retryable: bool, code: str | None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def classify_error(exc: BaseException, resource: str) -> AwsError:
    """Turn a botocore exception into an AwsError whose message names `resource`."""
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        retryable = code in _RETRYABLE_CODES or status == 429 or status >= 500
        detail = error.get("Message") or code or f"HTTP {status}"
        kind = "retryable" if retryable else "permanent"
        return AwsError(f"{resource}: {code or status} ({kind}): {detail}", retryable=retryable,
                        code=code or None)
    if isinstance(exc, NoCredentialsError):
        return AwsError(f"{resource}: no AWS credentials found", retryable=False,
                        code="NoCredentials")
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return AwsError(f"{resource}: connection failed: {exc}", retryable=True, code=None)
    if isinstance(exc, BotoCoreError):
        return AwsError(f"{resource}: {exc}", retryable=False, code=None)
    return AwsError(f"{resource}: {exc!r}", retryable=False, code=None)


class AwsClients:
    """One boto3 client per service, shared by the pollers (boto3 clients are thread-safe).

    Endpoint URLs per service come from `settings.endpoints` so tests and LocalStack-like
    setups reach a local server; everything else is boto3's defaults.
    """

    def __init__(self, settings: AwsSettings) -> None:
        self._settings = settings
        self._session = boto3.session.Session(
            profile_name=settings.profile, region_name=settings.region
        )
        self._config = Config(
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            connect_timeout=10,
            read_timeout=60,
        )
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    @property
    def region(self) -> str | None:
        return self._session.region_name  # type: ignore[no-any-return]

    def client(self, service: str, region: str | None = None) -> Any:
        """The client for `service` in `region` (default: the configured region)."""
        key = (service, region)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = self._session.client(
                    service,
                    region_name=region,
                    endpoint_url=self._settings.endpoints.get(service),
                    config=self._config,
                )
                self._clients[key] = found
            return found
