"""Bedrock model-invocation log records (`schemaType` ModelInvocationLog) → `LlmCall`.

Pure: no I/O, no clock. Field names follow the AWS invocation-logging documentation;
real records vary, so every field is optional except `requestId` and `timestamp`, and
numbers may arrive as strings. Bodies moved to S3 are fetched by the receiver and put
back with `with_output_body` before parsing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from outcrop.collector.normalize.genai import ImplausibleTokens, token_count
from outcrop.collector.normalize.models import normalize_model_id
from outcrop.core.records import LlmCall, compute_otps, is_throttle
from outcrop.core.settings import DEFAULT_MAX_TOKENS_PER_CALL, AttributionSettings

PROVIDER = "aws.bedrock"
STREAM_OPERATIONS = frozenset({"InvokeModelWithResponseStream", "ConverseStream"})
INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Exception events a response stream can end with (Bedrock runtime API, ResponseStream).
_STREAM_EXCEPTIONS = {
    "throttlingException": "ThrottlingException",
    "serviceUnavailableException": "ServiceUnavailableException",
    "internalServerException": "InternalServerException",
    "modelStreamErrorException": "ModelStreamErrorException",
    "modelTimeoutException": "ModelTimeoutException",
    "validationException": "ValidationException",
}
# Where providers put the stop reason in a non-streamed body, most common first.
_STOP_KEYS = ("stopReason", "stop_reason", "finish_reason", "completionReason", "finishReason")
_STOP_LISTS = ("choices", "results", "generations", "outputs")

# The model id is the same for most records of a file; normalising it once is enough.
_model_info = functools.lru_cache(maxsize=4096)(normalize_model_id)


class MalformedRecord(ValueError):
    """A record that cannot become a call (not JSON, no requestId, bad timestamp, a token
    count outside [0, ingest.max_tokens_per_call])."""


def parse_record(
    obj: Mapping[str, Any], keys: AttributionSettings, max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL
) -> LlmCall:
    """One invocation-log record → canonical call (source `bedrock_log`)."""
    if not isinstance(obj, Mapping):
        raise MalformedRecord("record is not a JSON object")
    schema = obj.get("schemaType")
    if schema is not None and schema != "ModelInvocationLog":
        raise MalformedRecord(f"schemaType {schema!r} is not ModelInvocationLog")
    request_id = obj.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        raise MalformedRecord("record has no requestId")
    call = LlmCall(call_id=request_id, source="bedrock_log", ts_ns=_ts_ns(obj.get("timestamp")),
                   request_id=request_id, provider=PROVIDER)
    _fill_identity(call, obj)
    _fill_model(call, obj.get("modelId"))
    _fill_tokens(call, _dict(obj.get("input")), _dict(obj.get("output")), max_tokens)
    _fill_body(call, obj)
    _fill_attribution(call, obj, keys)
    return call


def output_body_location(obj: Mapping[str, Any]) -> str | None:
    """S3 URI of the output body when it is not inline (the only place stop reason and
    latency live), else None."""
    output = _dict(obj.get("output"))
    if "outputBodyJson" in output:
        return None
    path = output.get("outputBodyS3Path")
    return path if isinstance(path, str) and path.startswith("s3://") else None


def with_output_body(obj: Mapping[str, Any], body: Any) -> dict[str, Any]:
    """A copy of `obj` with the fetched output body put where an inline one would be."""
    output = dict(_dict(obj.get("output")))
    output["outputBodyJson"] = body
    return {**obj, "output": output}


def _ts_ns(value: Any) -> int:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise MalformedRecord(f"timestamp {value!r} is not ISO 8601") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return (parsed - _EPOCH) // _MICROSECOND * 1000
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1_000_000)  # epoch milliseconds
    raise MalformedRecord("record has no timestamp")


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH


def _fill_identity(call: LlmCall, obj: Mapping[str, Any]) -> None:
    call.operation = _str(obj.get("operation"))
    call.region = _str(obj.get("region"))
    call.inference_region = _str(obj.get("inferenceRegion"))
    call.account_id = _str(obj.get("accountId"))
    call.identity_arn = _str(_dict(obj.get("identity")).get("arn"))
    error = _str(obj.get("errorCode"))
    if error is not None:
        _set_error(call, error)


def _fill_model(call: LlmCall, model_id: Any) -> None:
    if not isinstance(model_id, str) or not model_id:
        return
    call.request_model = model_id
    model, _scope, profile = _model_info(model_id)
    call.model = model
    call.inference_profile = profile


def _fill_tokens(call: LlmCall, inp: Mapping[str, Any], out: Mapping[str, Any], bound: int) -> None:
    # Bedrock reports cached tokens beside inputTokenCount, never inside it, which is
    # exactly the canonical meaning of input_tokens (docs/schema.md, llm_calls).
    call.input_tokens = _tokens(inp, "input", "inputTokenCount", bound)
    call.cache_read_tokens = _tokens(inp, "input", "cacheReadInputTokenCount", bound)
    call.cache_write_tokens = _tokens(inp, "input", "cacheWriteInputTokenCount", bound)
    call.output_tokens = _tokens(out, "output", "outputTokenCount", bound)


def _tokens(section: Mapping[str, Any], name: str, field: str, bound: int) -> int | None:
    """A count in [0, bound]; a count outside it makes the record malformed (a bad line
    in ingest_errors), never a row that would price one call at millions."""
    value = section.get(field)
    if isinstance(value, str):
        value = _int(value)  # numbers may arrive as strings
    elif isinstance(value, float) and math.isfinite(value):
        value = int(value)  # as before: truncated; orjson reads integers past 2**64 as floats
    try:
        return token_count(value, f"{name}.{field}", bound)
    except ImplausibleTokens as exc:
        raise MalformedRecord(str(exc)) from None


def _fill_body(call: LlmCall, obj: Mapping[str, Any]) -> None:
    body = _dict(obj.get("output")).get("outputBodyJson")
    streamed = call.operation in STREAM_OPERATIONS if call.operation else None
    if isinstance(body, list):
        metrics = _stream_metrics(body)
        if metrics:
            streamed = True
            call.ttlt_ms = _float(metrics.get("invocationLatency"))
            call.ttft_ms = _float(metrics.get("firstByteLatency"))
        call.ttlt_ms = call.ttlt_ms if call.ttlt_ms is not None else _stream_latency(body)
        call.finish_reason = _stream_stop(body)
        _stream_error(call, body)
    elif isinstance(body, dict):
        call.ttlt_ms = _float(_dict(body.get("metrics")).get("latencyMs"))
        call.finish_reason = _body_stop(body)
        _body_error(call, body)
    call.streaming = streamed
    if not streamed:
        call.ttft_ms = None  # a non-streamed response's first token is its last: no TTFT
    call.otps = compute_otps(call.output_tokens, call.ttft_ms, call.ttlt_ms)


def _stream_metrics(chunks: list[Any]) -> Mapping[str, Any]:
    for chunk in reversed(chunks):
        if isinstance(chunk, dict) and INVOCATION_METRICS in chunk:
            return _dict(chunk[INVOCATION_METRICS])
    return {}


def _stream_latency(chunks: list[Any]) -> float | None:
    # ConverseStream ends with a `metadata` event carrying metrics.latencyMs.
    for chunk in reversed(chunks):
        meta = _dict(_dict(chunk).get("metadata"))
        if "metrics" in meta:
            return _float(_dict(meta["metrics"]).get("latencyMs"))
    return None


def _stream_stop(chunks: list[Any]) -> str | None:
    for chunk in reversed(chunks):
        if not isinstance(chunk, dict):
            continue
        found = (
            _str(_dict(chunk.get("delta")).get("stop_reason"))  # Anthropic message_delta
            or _str(_dict(chunk.get("messageStop")).get("stopReason"))  # ConverseStream
            or _body_stop(chunk)
        )
        if found:
            return found
    return None


def _body_stop(body: Mapping[str, Any]) -> str | None:
    for key in _STOP_KEYS:
        found = _str(body.get(key))
        if found:
            return found
    for key in _STOP_LISTS:
        items = body.get(key)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            for inner in _STOP_KEYS:
                found = _str(items[0].get(inner))
                if found:
                    return found
    return None


def _stream_error(call: LlmCall, chunks: list[Any]) -> None:
    for chunk in chunks:
        if isinstance(chunk, dict):
            for key, error_type in _STREAM_EXCEPTIONS.items():
                if key in chunk:
                    _set_error(call, error_type)
                    return


def _body_error(call: LlmCall, body: Mapping[str, Any]) -> None:
    # Anthropic-native error body: {"type": "error", "error": {"type": ..., "message": ...}}
    if body.get("type") == "error":
        _set_error(call, _str(_dict(body.get("error")).get("type")) or "error")
        return
    # AWS error body: {"__type": "...#ThrottlingException", "message": ...} or errorCode.
    code = _str(body.get("__type")) or _str(body.get("errorCode"))
    if code:
        _set_error(call, code.rsplit("#", 1)[-1])


def _set_error(call: LlmCall, error_type: str) -> None:
    if call.error_type is not None:
        return
    call.error_type = error_type
    call.status = "throttled" if is_throttle(error_type) else "error"


def _fill_attribution(call: LlmCall, obj: Mapping[str, Any], keys: AttributionSettings) -> None:
    metadata = obj.get("requestMetadata")
    if isinstance(metadata, dict) and metadata:
        index = _metadata_index(keys)
        ranks: dict[str, int] = {}
        for name, raw in metadata.items():
            hit = index.get(name)
            value = _str(raw) if hit is not None else None
            if hit is not None and value and hit[1] < ranks.get(hit[0], len(index)):
                ranks[hit[0]] = hit[1]  # earlier keys in the config list win
                setattr(call, hit[0], value)
    if call.tenant is None and call.identity_arn and keys.identity_tenants:
        call.tenant = tenant_for_identity(call.identity_arn, keys.identity_tenants)


# requestMetadata key -> (field, rank); built once per settings object, because walking
# every configured key for every record was a fifth of the parse time.
_INDEXES: dict[int, tuple[AttributionSettings, dict[str, tuple[str, int]]]] = {}


def _metadata_index(keys: AttributionSettings) -> dict[str, tuple[str, int]]:
    cached = _INDEXES.get(id(keys))
    if cached is not None and cached[0] is keys:
        return cached[1]
    index: dict[str, tuple[str, int]] = {}
    for field, names in keys.request_metadata.items():
        for rank, name in enumerate(names):
            index.setdefault(name, (field, rank))
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    _INDEXES[id(keys)] = (keys, index)
    return index


def tenant_for_identity(arn: str, table: Mapping[str, str]) -> str | None:
    """Exact ARN match first, else the longest `prefix*` entry that matches."""
    exact = table.get(arn)
    if exact is not None:
        return exact
    best: tuple[int, str] | None = None
    for pattern, tenant in table.items():
        matches = pattern.endswith("*") and arn.startswith(pattern[:-1])
        if matches and (best is None or len(pattern) > best[0]):
            best = (len(pattern), tenant)
    return best[1] if best else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value)) if "." in value else int(value)
        except ValueError:
            return None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
