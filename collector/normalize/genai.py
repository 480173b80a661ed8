"""Convention tables: which attribute names mean what, producer by producer.

Each tuple is ordered: the first key present on a span wins. Names come from the
installed convention packages, checked rather than remembered:
- OTel GenAI: `opentelemetry.semconv._incubating.attributes.gen_ai_attributes`
  (0.66b2; these names moved to open-telemetry/semantic-conventions-genai after v1.41,
  and `gen_ai.system` / `prompt_tokens` / `completion_tokens` are the deprecated ones).
- OpenInference: `openinference.semconv.trace.SpanAttributes`.
- OpenLLMetry / Traceloop: `opentelemetry.semconv_ai.SpanAttributes`.
- OpenLIT, Strands Agents, LangChain, Langfuse: spans their packages sent (captured by
  tests/frameworks.py; versions in the README, rules per producer in docs/producers.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

# --- instrumentation scope names (tests/producers.py captures the first three) ---
SCOPE_BOTOCORE: Final = "opentelemetry.instrumentation.botocore"  # + ".bedrock-runtime"
SCOPE_OPENLLMETRY_BEDROCK: Final = "opentelemetry.instrumentation.bedrock"
SCOPE_OPENINFERENCE: Final = "openinference.instrumentation"  # + ".bedrock", ".openai", ...
SCOPE_STRANDS: Final = "strands.telemetry.tracer"
SCOPE_LANGFUSE: Final = "langfuse-sdk"
SCOPE_OPENLLMETRY_LANGCHAIN: Final = "opentelemetry.instrumentation.langchain"
SCOPE_OPENLIT: Final = "openlit"  # 1.45: "openlit.instrumentation.bedrock", ...
# Scopes whose every span is a model call: an error span there with no GenAI attributes
# (OpenLIT's throttle) is still a call, named "<operation> <model>".
LLM_INSTRUMENTATION_SCOPES: Final = ("openlit.instrumentation.",)

# --- what kind of span this is ---
OPERATION: Final = ("gen_ai.operation.name", "llm.request.type")
LLM_OPERATIONS: Final = frozenset(
    {"chat", "text_completion", "completion", "generate_content", "embeddings",
     "embedding", "rerank", "converse", "invoke_model"}
)  # fmt: skip
OPENINFERENCE_KIND: Final = "openinference.span.kind"
OPENINFERENCE_LLM_KINDS: Final = frozenset({"LLM", "EMBEDDING"})
LANGFUSE_TYPE: Final = "langfuse.observation.type"
LANGFUSE_LLM_TYPES: Final = frozenset({"generation", "embedding"})
TRACELOOP_KIND: Final = "traceloop.span.kind"  # workflow | task | agent | tool: wrappers
RPC_SERVICE: Final = "rpc.service"
RPC_METHOD: Final = "rpc.method"
BEDROCK_RUNTIME_SERVICES: Final = frozenset(
    {"Bedrock Runtime", "BedrockRuntime", "bedrock-runtime"}
)
BEDROCK_INFERENCE_METHODS: Final = frozenset(
    {"Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"}
)
BEDROCK_STREAM_METHODS: Final = frozenset({"ConverseStream", "InvokeModelWithResponseStream"})
# OpenInference's Bedrock spans carry no operation or stream flag; the span name is the
# only record of which API was called.
OPENINFERENCE_BEDROCK_SPANS: Final = {
    "bedrock.converse": "Converse",
    "bedrock.converse_stream": "ConverseStream",
    "bedrock.invoke_model": "InvokeModel",
    "bedrock.invoke_model_with_response_stream": "InvokeModelWithResponseStream",
}

# --- provider and model ---
PROVIDER: Final = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
REQUEST_MODEL: Final = (
    "gen_ai.request.model",
    "llm.request.model_name",
    "llm.model_name",  # OpenInference: request id for Converse, response body's for InvokeModel
    "langfuse.observation.model.name",
)
RESPONSE_MODEL: Final = ("gen_ai.response.model", "llm.response.model_name")
PROVIDER_ALIASES: Final = {
    "aws.bedrock": "aws.bedrock",
    "aws": "aws.bedrock",  # OpenInference llm.provider
    "bedrock": "aws.bedrock",
    "aws_bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "aws bedrock": "aws.bedrock",
    "anthropic": "anthropic",
    "openai": "openai",
    "azure": "azure.ai.openai",
    "az.ai.openai": "azure.ai.openai",
    "azure.ai.openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "azure.ai.inference": "azure.ai.inference",
    "cohere": "cohere",
    "mistralai": "mistral_ai",
    "mistral_ai": "mistral_ai",
    "google": "gcp.gen_ai",
    "vertex_ai": "gcp.vertex_ai",
    "gcp.vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "gcp.gemini": "gcp.gemini",
    "gcp.gen_ai": "gcp.gen_ai",
}
# Frameworks that put their own name where the provider belongs (Strands sets
# gen_ai.system = "strands-agents"); the provider is then inferred from the model id.
FRAMEWORK_PROVIDERS: Final = frozenset({"strands-agents", "langchain", "llama_index", "crewai"})

# --- tokens ---
INPUT_TOKENS: Final = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",  # deprecated OTel name, still sent by Traceloop/Strands
    "llm.token_count.prompt",  # OpenInference: includes cache read + write (measured)
    "llm.usage.prompt_tokens",
)
OUTPUT_TOKENS: Final = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
)
CACHE_READ_TOKENS: Final = (
    "gen_ai.usage.cache_read.input_tokens",  # OTel current; botocore and OpenLLMetry
    "gen_ai.usage.cache_read_input_tokens",  # OpenLLMetry legacy, Strands, OpenLIT
    "llm.token_count.prompt_details.cache_read",  # OpenInference
    "gen_ai.usage.cache_read_tokens",
)
CACHE_WRITE_TOKENS: Final = (
    "gen_ai.usage.cache_creation.input_tokens",  # OTel current; botocore and OpenLLMetry
    "gen_ai.usage.cache_creation_input_tokens",  # OpenLLMetry legacy, OpenLIT
    "gen_ai.usage.cache_write_input_tokens",  # Strands
    "llm.token_count.prompt_details.cache_write",  # OpenInference
    "gen_ai.usage.cache_write_tokens",
)
REASONING_TOKENS: Final = (
    "gen_ai.usage.reasoning.output_tokens",  # OTel current
    "gen_ai.usage.reasoning_tokens",  # OpenLLMetry, OpenLIT
    "llm.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",  # OpenInference
)
# Totals, where a producer sends one: the evidence for whether input includes the cache
# (input + output == total means it does; input + cache + output == total, it does not).
TOTAL_TOKENS: Final = (
    "gen_ai.usage.total_tokens",  # Strands (Bedrock's totalTokens), OpenLIT
    "llm.usage.total_tokens",  # OpenLLMetry
    "llm.token_count.total",  # OpenInference
)
LANGFUSE_USAGE: Final = "langfuse.observation.usage_details"  # JSON object string
LANGFUSE_USAGE_KEYS: Final = {
    "input": ("input", "input_tokens", "prompt_tokens"),
    "output": ("output", "output_tokens", "completion_tokens"),
    "cache_read": ("cache_read_input_tokens", "input_cached_tokens", "input_cache_read"),
    "cache_write": (
        "cache_creation_input_tokens",
        "input_cache_creation",
        "cache_write_input_tokens",
    ),
    "reasoning": ("output_reasoning_tokens", "reasoning_tokens", "output_reasoning"),
}

# --- streaming and latency ---
STREAM_FLAGS: Final = (
    "gen_ai.request.stream",  # OTel
    "gen_ai.request.is_stream",  # OpenLIT
    "gen_ai.is_streaming",  # OpenLLMetry (semconv_ai)
    "llm.is_streaming",  # OpenLLMetry legacy
)
# Time to first token/chunk, with the unit each producer writes. The same key means
# seconds for OpenLIT and the OTel metric definition, but milliseconds for Strands
# (it copies Bedrock's `timeToFirstByteMs` verbatim), so Strands is special-cased.
TTFT_SECONDS: Final = (
    "gen_ai.response.time_to_first_chunk",  # OTel attribute; semconv durations are seconds
    "gen_ai.server.time_to_first_token",  # OpenLIT (seconds, from time.time() deltas)
    "gen_ai.server.ttft",  # OpenLIT before it adopted the OTel name
)
TTFT_MILLISECONDS_STRANDS: Final = ("gen_ai.server.time_to_first_token",)
LANGFUSE_COMPLETION_START: Final = "langfuse.observation.completion_start_time"
FIRST_TOKEN_EVENT: Final = re.compile(r"first[ _.-]?(token|chunk|byte)", re.IGNORECASE)

# --- outcome ---
ERROR_TYPE: Final = "error.type"
HTTP_STATUS: Final = ("http.response.status_code", "http.status_code")
FINISH_REASONS: Final = (
    "gen_ai.response.finish_reasons",
    "gen_ai.response.finish_reason",
    "llm.finish_reason",
    "llm.response.finish_reason",
    "gen_ai.response.stop_reason",
)
# Strands records the finish reason only on this event (attribute `finish_reason`).
CHOICE_EVENT: Final = "gen_ai.choice"
CHOICE_FINISH_REASON: Final = "finish_reason"
LANGFUSE_LEVEL: Final = "langfuse.observation.level"
LANGFUSE_STATUS_MESSAGE: Final = "langfuse.observation.status_message"
# Exceptions a framework raises in place of the provider's throttle (Strands wraps
# Bedrock's ThrottlingException), and the codes a status or exception message may name.
THROTTLE_WRAPPERS: Final = frozenset({"ModelThrottledException"})
THROTTLE_TEXT: Final = re.compile(
    r"\b(ThrottlingException|ServiceQuotaExceededException|TooManyRequestsException)\b"
)

# --- where and which request ---
REGION: Final = ("cloud.region", "aws.region")
SERVER_ADDRESS: Final = ("server.address", "net.peer.name")
BEDROCK_HOST: Final = re.compile(r"^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")
REQUEST_ID: Final = (
    "aws.request_id",
    "aws.requestId",
    "aws.request.id",
    "http.response.header.x-amzn-requestid",
)
SERVICE_NAME: Final = "service.name"

# Producer spellings of attribution fields, consulted only after every configured key
# (settings.AttributionSettings) missed on both span and resource.
ATTRIBUTION_FALLBACKS: Final = {
    "environment": ("langfuse.environment", "gen_ai.environment"),
    "user_id": ("langfuse.user.id",),
    "prompt_version": ("langfuse.observation.prompt.version", "llm.prompt_template.version"),
}


# --- reading attribute values: wrong types and impossible values become None ---

# DuckDB BIGINT; anything larger is garbage, not a token count.
MAX_COUNT: Final = 2**63 - 1


def as_int(value: Any, signed: bool = False) -> int | None:
    """An integer count from an int, an integral float or a decimal string (OTLP/JSON
    sends int64 as strings). Negative counts are NULL unless `signed`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            return None
        value = int(text)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or abs(value) > MAX_COUNT:
        return None
    return value if signed or value >= 0 else None


def as_number(value: Any) -> float | None:
    """A finite, non-negative number (durations), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    number = float(value) if abs(value) < 1e300 else math.inf
    return number if math.isfinite(number) and number >= 0 else None


def as_text(value: Any) -> str | None:
    """A non-empty string; a list (finish_reasons, captured headers) gives its
    items joined with ','."""
    if isinstance(value, list | tuple):
        items = [
            str(v).strip() for v in value if isinstance(v, str | int) and not isinstance(v, bool)
        ]
        value = ",".join(item for item in items if item)
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def as_flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def first_text(attrs: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = as_text(attrs.get(key))
        if text is not None:
            return text
    return None


def first_present(attrs: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The raw value of the first key present, so a bad value is NULL rather than
    silently replaced by a lower-priority key."""
    return first_item(attrs, keys)[1]


def first_item(attrs: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    """The first key present and its raw value, or (None, None)."""
    for key in keys:
        if attrs.get(key) is not None:
            return key, attrs[key]
    return None, None


_DECIMAL: Final = re.compile(r"[+-]?\d{1,19}")


# --- token counts: one plausible bound per call --------------------------------------


class ImplausibleTokens(ValueError):
    """A token count no model call can have: negative, or above the per-call bound.

    Unlike a value that is not a number at all (NULL, like any bad attribute), such a
    count is a hostile or broken producer: stored, it would price one call at millions and
    overflow the sums of every report, so the record carrying it is refused."""

    def __init__(self, attribute: str, value: Any, bound: int) -> None:
        if isinstance(value, int) and value.bit_length() > 128:
            shown = f"an integer of {value.bit_length()} bits"  # str() of a huge int is slow
        else:
            shown = repr(value) if isinstance(value, str) else str(value)
        super().__init__(
            f"{attribute} = {shown if len(shown) <= 40 else shown[:39] + '…'} is not a "
            "plausible token count for one call "
            f"(0 to {bound:,}, ingest.max_tokens_per_call)"
        )
        self.attribute = attribute


def token_count(value: Any, attribute: str, bound: int) -> int | None:
    """A count in [0, bound]; None when `value` is no integer (text, fraction, NaN);
    ImplausibleTokens when it is an integer outside the bound."""
    number = _any_integer(value)
    if number is None:
        return None
    if isinstance(number, int) and 0 <= number <= bound:
        return number
    raise ImplausibleTokens(attribute, value, bound)


def _any_integer(value: Any) -> int | float | None:
    """An integer of any size and sign (infinities kept, so they fail the bound), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            return None
        # Past 30 digits only the sign matters: far outside any bound, and int() of a
        # very long string is slow.
        return int(text) if len(text) <= 30 else (-math.inf if text[0] == "-" else math.inf)
    if isinstance(value, float):
        if math.isnan(value) or (math.isfinite(value) and not value.is_integer()):
            return None
        return value if math.isinf(value) else int(value)
    return value if isinstance(value, int) else None


_INTEGER: Final = re.compile(r"[+-]?\d+")
