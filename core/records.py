"""Plain records passed between receivers, normalisers and the store.

Receivers turn bytes into `SpanRecord`s; normalisers turn those (and Bedrock log
records) into canonical rows; the store only sees the rows. Column orders here are the
order of the tables in `sql/migrations/0001_core.sql`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNATTRIBUTED = "unattributed"

ATTRIBUTION_FIELDS: tuple[str, ...] = (
    "tenant",
    "route",
    "workflow",
    "feature",
    "user_id",
    "prompt_version",
    "environment",
)

# Attribution fields that are never NULL in the canonical tables.
REQUIRED_ATTRIBUTION: tuple[str, ...] = ("tenant", "route", "workflow")

THROTTLE_ERRORS: frozenset[str] = frozenset(
    {
        "ThrottlingException",
        "ServiceQuotaExceededException",
        "TooManyRequestsException",
        "429",
    }
)


@dataclass(slots=True)
class SpanRecord:
    """One decoded OTLP span, before normalisation. Ids are lowercase hex."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # internal | server | client | producer | consumer | unspecified
    start_ns: int
    end_ns: int
    status_code: str  # unset | ok | error
    status_message: str | None
    attributes: dict[str, Any]
    resource_attributes: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)  # {name, time_ns, attributes}
    scope_name: str | None = None
    scope_version: str | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    """Attribution values a span or log record states itself (None = not stated)."""

    tenant: str | None = None
    route: str | None = None
    workflow: str | None = None
    feature: str | None = None
    user_id: str | None = None
    prompt_version: str | None = None
    environment: str | None = None


@dataclass(slots=True)
class LlmCall:
    """One model invocation attempt in canonical form (the `llm_calls` row).

    Attribution fields may be None here; the store resolves them (inheritance, then
    'unattributed') before they reach the table.
    """

    call_id: str
    source: str  # otlp | bedrock_log | merged
    ts_ns: int
    trace_id: str | None = None
    span_id: str | None = None
    request_id: str | None = None
    tenant: str | None = None
    route: str | None = None
    workflow: str | None = None
    feature: str | None = None
    user_id: str | None = None
    prompt_version: str | None = None
    environment: str | None = None
    operation: str | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    model: str | None = None
    region: str | None = None
    inference_profile: str | None = None
    input_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    streaming: bool | None = None
    ttft_ms: float | None = None
    ttlt_ms: float | None = None
    otps: float | None = None
    status: str = "ok"
    error_type: str | None = None
    finish_reason: str | None = None
    service_name: str | None = None
    account_id: str | None = None
    identity_arn: str | None = None
    inference_region: str | None = None


def compute_otps(output_tokens: int | None, ttft_ms: float | None, ttlt_ms: float | None) -> float | None:
    """Output tokens per second after the first token: generation speed, not queueing."""
    if output_tokens is None or ttft_ms is None or ttlt_ms is None:
        return None
    if output_tokens <= 1 or ttlt_ms <= ttft_ms:
        return None
    return output_tokens / ((ttlt_ms - ttft_ms) / 1000.0)


def is_throttle(error_type: str | None) -> bool:
    return error_type is not None and error_type in THROTTLE_ERRORS
