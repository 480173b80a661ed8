"""Odd cases of span normalisation, and a property: no attribute soup can crash it; only an
implausible token count refuses a span."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcrop.collector.normalize import genai as g
from outcrop.collector.normalize.otlp import normalize_span
from outcrop.core.records import LlmCall, SpanRecord
from outcrop.core.settings import AttributionSettings

KEYS = AttributionSettings()
T0 = 1_760_000_000_000_000_000
MS = 1_000_000


def _span(
    attrs: dict[str, Any], dur_ms: int = 1000, scope: str | None = "app", **kw: Any
) -> SpanRecord:
    base: dict[str, Any] = {
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "parent_span_id": None,
        "name": "chat",
        "kind": "client",
        "start_ns": T0,
        "end_ns": T0 + dur_ms * MS,
        "status_code": "unset",
        "status_message": None,
        "attributes": attrs,
        "resource_attributes": {"service.name": "svc"},
        "scope_name": scope,
    }
    return SpanRecord(**(base | kw))


def _call(attrs: dict[str, Any], **kw: Any) -> LlmCall:
    call = normalize_span(_span(attrs, **kw), KEYS).llm_call
    assert call is not None
    return call


BEDROCK = {"gen_ai.system": "aws.bedrock", "gen_ai.operation.name": "chat"}


@pytest.mark.parametrize(
    ("scope", "ttft_ms", "streaming"),
    [
        ("openlit.otel.tracing", 250.0, True),  # OpenLIT: seconds, streams only
        # Strands: the same key in milliseconds, timed for non-streamed calls too
        ("strands.telemetry.tracer", 0.25, None),
    ],
)
def test_same_ttft_key_has_producer_specific_units(scope: str, ttft_ms: float, streaming: bool | None) -> None:
    call = _call(BEDROCK | {"gen_ai.server.time_to_first_token": 0.25}, scope=scope)
    assert call.ttft_ms == pytest.approx(ttft_ms)
    assert call.streaming is streaming


def test_ttft_longer_than_the_whole_call_is_dropped() -> None:
    # 480 read as seconds would be 8 minutes into a 2-second call: a unit mix-up.
    call = _call(BEDROCK | {"gen_ai.server.time_to_first_token": 480}, dur_ms=2000)
    assert call.ttft_ms is None and call.otps is None


def test_non_streamed_call_has_no_ttft() -> None:
    attrs = BEDROCK | {"gen_ai.request.stream": False, "gen_ai.response.time_to_first_chunk": 0.2}
    call = _call(attrs)
    assert call.streaming is False and call.ttft_ms is None


@pytest.mark.parametrize(
    ("provider", "scope", "uncached"),
    [
        ("openai", "app", 1000),  # OpenAI counts cached tokens inside prompt tokens
        ("aws.bedrock", "app", 4000),  # Bedrock already excludes them
        ("anthropic", "app", 4000),
        ("aws", "openinference.instrumentation.bedrock", 1000),
        ("aws.bedrock", "opentelemetry.instrumentation.botocore.bedrock-runtime", 4000),
    ],
)
def test_token_hazard_per_producer(provider: str, scope: str, uncached: int) -> None:
    attrs = {
        "gen_ai.system": provider,
        "gen_ai.operation.name": "chat",
        "gen_ai.usage.input_tokens": 4000,
        "gen_ai.usage.cache_read.input_tokens": 3000,
    }
    assert _call(attrs, scope=scope).input_tokens == uncached


def test_cache_larger_than_an_inclusive_total_keeps_the_count_as_sent() -> None:
    attrs = {"gen_ai.system": "openai", "gen_ai.usage.input_tokens": 100}
    attrs["gen_ai.usage.cache_read.input_tokens"] = 3000
    assert _call(attrs).input_tokens == 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1000, 1000), ("1000", 1000), (1000.0, 1000), ("lots", None), (True, None), ([1000], None),
     (12.5, None), (float("nan"), None)],
)  # fmt: skip
def test_values_that_are_not_counts_become_null(value: Any, expected: int | None) -> None:
    assert _call(BEDROCK | {"gen_ai.usage.output_tokens": value}).output_tokens == expected


def test_bad_value_does_not_fall_through_to_a_lower_priority_key() -> None:
    attrs = BEDROCK | {"gen_ai.usage.input_tokens": "lots", "gen_ai.usage.prompt_tokens": 50}
    assert _call(attrs).input_tokens is None


@pytest.mark.parametrize(
    "value",
    [-5, "-5", 1_500_000_000_000, "1500000000000", 1.5e12, 2**63 - 1, 2**70, float("inf"),
     "9" * 40, 100_000_001],
)  # fmt: skip
def test_implausible_token_count_rejects_the_span(value: Any) -> None:
    rec = _span(BEDROCK | {"gen_ai.usage.output_tokens": value})
    with pytest.raises(g.ImplausibleTokens, match=r"gen_ai\.usage\.output_tokens = .* 100,000,000"):
        normalize_span(rec, KEYS)


@pytest.mark.parametrize(
    "key",
    ["gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_creation.input_tokens",
     "gen_ai.usage.reasoning.output_tokens", "llm.token_count.prompt"],
)  # fmt: skip
def test_every_token_count_is_bounded(key: str) -> None:
    rec = _span(BEDROCK | {key: 1_500_000_000_000}, scope="openinference.instrumentation.bedrock")
    with pytest.raises(g.ImplausibleTokens, match=key.replace(".", r"\.")):
        normalize_span(rec, KEYS)


def test_langfuse_usage_details_are_bounded() -> None:
    attrs = {"langfuse.observation.type": "generation",
             "langfuse.observation.usage_details": '{"input": 1500000000000, "output": 10}'}
    with pytest.raises(g.ImplausibleTokens, match=r"usage_details\.input = 1500000000000"):
        normalize_span(_span(attrs, scope="langfuse-sdk"), KEYS)


def test_the_bound_is_a_parameter_and_inclusive() -> None:
    at_bound = normalize_span(_span(BEDROCK | {"gen_ai.usage.input_tokens": 5000}), KEYS, max_tokens=5000)
    assert at_bound.llm_call is not None and at_bound.llm_call.input_tokens == 5000
    with pytest.raises(g.ImplausibleTokens, match="5,000"):
        normalize_span(_span(BEDROCK | {"gen_ai.usage.input_tokens": 5001}), KEYS, max_tokens=5000)


def test_a_non_llm_span_is_never_rejected_for_its_attributes() -> None:
    rec = _span({"gen_ai.operation.name": "execute_tool", "gen_ai.usage.input_tokens": -1})
    assert normalize_span(rec, KEYS).llm_call is None


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        ("ThrottlingException", "throttled"),
        ("ServiceQuotaExceededException", "throttled"),
        ("TooManyRequestsException", "throttled"),
        ("ModelTimeoutException", "error"),
    ],
)
def test_status_from_error_type(error_type: str, status: str) -> None:
    call = _call(BEDROCK | {"error.type": error_type}, status_code="error")
    assert (call.status, call.error_type) == (status, error_type)


def test_region_from_bedrock_endpoint_host() -> None:
    attrs = BEDROCK | {"server.address": "bedrock-runtime-fips.us-gov-west-1.amazonaws.com"}
    assert _call(attrs).region == "us-gov-west-1"


def test_span_region_beats_resource_region() -> None:
    rec = _span(BEDROCK | {"aws.region": "eu-west-1"})
    rec.resource_attributes["cloud.region"] = "us-east-1"
    call = normalize_span(rec, KEYS).llm_call
    assert call is not None and call.region == "eu-west-1"


@pytest.mark.parametrize(
    "attrs",
    [
        {"rpc.service": "S3", "rpc.method": "GetObject", "rpc.system": "aws-api"},
        {"rpc.service": "Bedrock Runtime", "rpc.method": "ApplyGuardrail"},
        {
            "http.request.method": "POST",
            "url.full": "https://bedrock-runtime.us-east-1.amazonaws.com",
        },
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
        {"gen_ai.system": "aws.bedrock"},  # a provider alone says nothing was invoked
    ],
)
def test_non_llm_spans(attrs: dict[str, Any]) -> None:
    assert normalize_span(_span(attrs), KEYS).llm_call is None


# --- property: arbitrary attribute soup raises only for implausible counts -----------

_KEYS = list(
    g.INPUT_TOKENS + g.OUTPUT_TOKENS + g.CACHE_READ_TOKENS + g.CACHE_WRITE_TOKENS
    + g.REASONING_TOKENS + g.PROVIDER + g.REQUEST_MODEL + g.RESPONSE_MODEL + g.OPERATION
    + g.STREAM_FLAGS + g.TTFT_SECONDS + g.FINISH_REASONS + g.REQUEST_ID + g.REGION
    + g.HTTP_STATUS + g.SERVER_ADDRESS
    + (g.ERROR_TYPE, g.RPC_METHOD, g.RPC_SERVICE, g.OPENINFERENCE_KIND, g.LANGFUSE_TYPE,
       g.LANGFUSE_USAGE, g.LANGFUSE_COMPLETION_START, g.LANGFUSE_LEVEL, "tenant.id")
)  # fmt: skip
_SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
    | st.sampled_from(["1000", "-3", "chat", "aws.bedrock", "LLM", "generation", "429",
                       "arn:aws:bedrock:us-east-1:1:application-inference-profile/x",
                       "us.anthropic.claude-3-5-haiku-20241022-v1:0", '{"input": "x"}',
                       '"2025-10-09T08:53:20"', "ThrottlingException"])
)  # fmt: skip
_VALUES = _SCALARS | st.lists(_SCALARS, max_size=3) | st.dictionaries(st.text(max_size=5), _SCALARS)
BOUND = 10**6


@settings(max_examples=400, deadline=None)
@given(
    attrs=st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=20), _VALUES, max_size=12),
    scope=st.sampled_from([None, "", "strands.telemetry.tracer", "langfuse-sdk",
                           "openinference.instrumentation.bedrock", "openlit"]),
    start=st.integers(min_value=-(2**64), max_value=2**64),
    duration=st.integers(min_value=-(10**12), max_value=10**12),
    events=st.lists(st.dictionaries(st.sampled_from(["name", "time_ns", "attributes"]), _VALUES)),
)  # fmt: skip
def test_normalize_span_raises_only_for_implausible_counts(
    attrs: dict[str, Any], scope: str | None, start: int, duration: int, events: list[Any]
) -> None:
    rec = _span(attrs, scope=scope, start_ns=start, end_ns=start + duration, events=events)
    try:
        call = normalize_span(rec, KEYS, max_tokens=BOUND).llm_call
    except g.ImplausibleTokens as exc:  # the one refusal: a count no call can have
        assert str(BOUND) in str(exc).replace(",", "")
        return
    if call is None:
        return
    for count in (call.input_tokens, call.output_tokens, call.cache_read_tokens,
                  call.cache_write_tokens, call.reasoning_tokens):  # fmt: skip
        assert count is None or (isinstance(count, int) and 0 <= count <= BOUND)
    assert call.status in ("ok", "error", "throttled")
    assert call.ttft_ms is None or call.ttft_ms >= 0
    assert call.ttlt_ms is None or call.ttlt_ms >= 0
    assert call.otps is None or call.otps > 0


def test_openllmetry_langchain_input_includes_cache_without_a_total() -> None:
    # LangChain's usage_metadata.input_tokens includes cache reads and writes; with no
    # total on the span, the scope rule decides.
    attrs = BEDROCK | {
        "gen_ai.usage.input_tokens": 4200,
        "gen_ai.usage.output_tokens": 150,
        "gen_ai.usage.cache_read.input_tokens": 3000,
        "gen_ai.usage.cache_creation.input_tokens": 200,
    }
    call = _call(attrs, scope="opentelemetry.instrumentation.langchain")
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (1000, 3000, 200)


def test_framework_in_gen_ai_system_gives_way_to_the_request_target() -> None:
    # A framework name where the provider belongs; the model id says nothing (an
    # Anthropic-style name), but the request went to a Bedrock runtime endpoint.
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "langchain",
        "gen_ai.request.model": "claude-3-5-haiku",
        "server.address": "bedrock-runtime.eu-west-1.amazonaws.com",
    }
    call = _call(attrs, scope="my.app")
    assert (call.provider, call.region) == ("aws.bedrock", "eu-west-1")
