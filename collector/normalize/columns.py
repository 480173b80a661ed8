"""OTLP spans → attribution and `llm_calls` rows over whole columns, not span by span.

The native decoder hands a payload over as one Arrow batch with a typed column per
attribute key named here (`typed_keys`): the value's JSON text, null when the span lacks
the key. This module reads those columns with the reference's own rules, so
`normalize/otlp.py` stays the one definition of what a span means:

- a value of a common shape (a plain ASCII string, a small non-negative integer, a
  decimal number) is read by a polars expression that gives exactly what the reference's
  `as_text` / `attribute_text` / `token_count` / `as_number` give for it;
- any other value is read by the reference function itself, once per distinct value;
- what a call takes from few-valued inputs (models, provider, API, region, status,
  finish reason) is `otlp.call_facts`, run once per distinct combination of its inputs;
- only the counts and times (one value per call) are computed here, column-wise, in
  expressions that mirror `read_usage` and `_streaming_and_ttft` line for line.

A span whose reading needs more than its columns say — events (first-token times,
exceptions, choice events), Langfuse's usage blob and levels, attribution inside a
JSON-object attribute, a token count of an unusual shape or out of bounds, a failed call
whose throttle may be named in an event — is *deferred*: `normalize_columns` returns its
row number and the caller runs the reference (`otlp.normalize_span`) on it. The
differential test (tests/test_span_columns.py) holds both paths to identical tables.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

from outcrop.collector.normalize import genai as g
from outcrop.collector.normalize.attribution import (
    MAX_VALUE_CHARS,
    KeyPlan,
    ResourceAttribution,
    _json_splits,
    attribute_text,
)
from outcrop.collector.normalize.otlp import CallFacts, _bare_llm_error, call_facts, is_llm_span
from outcrop.core.records import ATTRIBUTION_FIELDS, SpanRecord

# Where a typed column lands in the frame: beside the span's own columns, never on them.
PREFIX = "k:"

# The keys the call rules read, in the reference's tables' order.
_KIND_KEYS = (g.OPENINFERENCE_KIND, g.LANGFUSE_TYPE, g.TRACELOOP_KIND, *g.OPERATION, g.RPC_SERVICE, g.RPC_METHOD)
_MODEL_OR_TOKENS = g.REQUEST_MODEL + g.RESPONSE_MODEL + g.INPUT_TOKENS + g.OUTPUT_TOKENS
_FACT_KEYS = tuple(dict.fromkeys((
    *g.PROVIDER, *g.REQUEST_MODEL, *g.RESPONSE_MODEL, g.RPC_SERVICE, g.RPC_METHOD, *g.SERVER_ADDRESS,
    *g.OPERATION, *g.REGION, *g.STREAM_FLAGS, *g.FINISH_REASONS, g.ERROR_TYPE, *g.HTTP_STATUS,
)))
_TOKEN_GROUPS = {
    "cache_read": g.CACHE_READ_TOKENS, "cache_write": g.CACHE_WRITE_TOKENS, "input": g.INPUT_TOKENS,
    "output": g.OUTPUT_TOKENS, "reasoning": g.REASONING_TOKENS, "total": g.TOTAL_TOKENS,
}
_TTFT_KEYS = tuple(dict.fromkeys((*g.TTFT_SECONDS, *g.TTFT_MILLISECONDS_STRANDS)))
# Present on a call: the reference reads more than the columns hold.
_DEFER_KEYS = (g.LANGFUSE_USAGE, g.LANGFUSE_COMPLETION_START, g.LANGFUSE_LEVEL, g.LANGFUSE_STATUS_MESSAGE)
_CALL_KEYS = tuple(dict.fromkeys((
    *_KIND_KEYS, *_MODEL_OR_TOKENS, *_FACT_KEYS, *(k for keys in _TOKEN_GROUPS.values() for k in keys),
    *_TTFT_KEYS, *_DEFER_KEYS, *g.REQUEST_ID,
)))

# A JSON string of printable ASCII with no quote or backslash and no space at either end:
# its text is the string, and as_text / attribute_text of it is the string itself.
_PLAIN_STRING = r'^"[!#-\[\]-~](?:[ !#-\[\]-~]*[!#-\[\]-~])?"$'
_PLAIN_COUNT = r"^(?:0|[1-9][0-9]{0,17})$"  # an int64 the bound check can compare
_PLAIN_NUMBER = r"^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"  # non-negative JSON number
_OPENLIT = re.escape(g.SCOPE_OPENLIT)


def col(key: str) -> str:
    return PREFIX + key


@functools.lru_cache(maxsize=16)
def typed_keys(plan: KeyPlan) -> tuple[tuple[str, str], ...]:
    """The typed columns to ask the native decoder for (all `json`): the keys the call
    rules read, the attribution keys of `plan`, and each attribute that could be a
    JSON object holding a dotted attribution key."""
    attribution = [key for configured, fallback in plan for key in (*configured, *fallback)]
    prefixes = [prefix for key in attribution for prefix, _ in _json_splits(key)]
    keys = dict.fromkeys((*_CALL_KEYS, *attribution, *prefixes))
    return tuple((key, "json") for key in keys)


def _json_prefixes(plan: KeyPlan) -> tuple[str, ...]:
    attribution = [key for configured, fallback in plan for key in (*configured, *fallback)]
    return tuple(dict.fromkeys(prefix for key in attribution for prefix, _ in _json_splits(key)))


@dataclass
class Normalized:
    """Per row of the frame given: the attribution each span states (`own_<field>`),
    `is_llm`, and `deferred` (rows the reference must normalise); and one row per call
    of the rows not deferred, with `row` pointing back at its span."""

    own: pl.DataFrame
    calls: pl.DataFrame
    deferred: list[int]


# -- reading JSON-text columns with the reference's rules ---------------------------------


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _read(raw: pl.Series, fast_pattern: str, fast: pl.Expr, slow: Callable[[Any], Any], dtype: Any) -> pl.Series:
    """`slow(json.loads(v))` for every v, computed by `fast` where v matches `fast_pattern`
    and by `slow` itself, once per distinct value, elsewhere. Absent values stay null."""
    frame = pl.DataFrame({"v": raw})
    is_fast = pl.col("v").str.contains(fast_pattern)
    out = frame.select(pl.when(is_fast).then(fast).otherwise(None).cast(dtype).alias("v"), is_fast.alias("f"))
    rest = raw.filter(~out["f"].fill_null(True) & raw.is_not_null()).unique()
    if rest.len() == 0:
        return out["v"]
    mapping = {text: slow(orjson.loads(text)) for text in rest.to_list()}
    slow_values = raw.replace_strict(mapping, default=None, return_dtype=dtype)
    return out.select(pl.when(pl.col("f")).then(pl.col("v")).otherwise(slow_values)).to_series()


def texts(raw: pl.Series) -> pl.Series:
    """`g.as_text` of each value."""
    return _read(raw, _PLAIN_STRING, pl.col("v").str.slice(1, pl.col("v").str.len_bytes() - 2), g.as_text, pl.String)


def attribution_texts(raw: pl.Series) -> pl.Series:
    """`attribute_text` of each value (at most MAX_VALUE_CHARS, JSON-quoted text decoded)."""
    def fast() -> pl.Expr:
        inner = pl.col("v").str.slice(1, pl.col("v").str.len_bytes() - 2)
        return pl.when(inner.str.len_bytes() <= MAX_VALUE_CHARS).then(inner)
    return _read(raw, _PLAIN_STRING, fast(), attribute_text, pl.String)


def numbers(raw: pl.Series) -> pl.Series:
    """`g.as_number` of each value: finite, non-negative."""
    number = pl.col("v").cast(pl.Float64, strict=False)
    return _read(raw, _PLAIN_NUMBER, pl.when(number < 1e300).then(number), g.as_number, pl.Float64)


def _first_present(frame: pl.DataFrame, keys: Sequence[str]) -> pl.Series:
    """The JSON text of the first key whose value is not null (`g.first_item`)."""
    present = [pl.when(pl.col(col(k)) != "null").then(pl.col(col(k))) for k in keys]
    return frame.select(pl.coalesce(present) if len(present) > 1 else present[0]).to_series()


def _first_text(frame: pl.DataFrame, keys: Sequence[str]) -> pl.Series:
    """`g.first_text`: the first key whose value reads as text."""
    read = [texts(frame[col(k)]) for k in keys]
    return pl.select(pl.coalesce(read)).to_series() if len(read) > 1 else read[0]


def _per_distinct(frame: pl.DataFrame, inputs: Sequence[str], fn: Callable[..., tuple[Any, ...]],
                  outputs: Mapping[str, Any]) -> pl.DataFrame:
    """`fn(*row)` for each distinct combination of `inputs`, as columns `outputs`, in the
    frame's row order."""
    distinct = frame.select(inputs).unique(maintain_order=True)
    results = [fn(*row) for row in distinct.iter_rows()]
    table = distinct.hstack(pl.DataFrame(results, schema=dict(outputs), orient="row"))
    joined = frame.select(inputs).join(table, on=list(inputs), how="left", nulls_equal=True, maintain_order="left")
    return joined.select(list(outputs))


def _attrs(keys: Sequence[str], values: Sequence[str | None]) -> dict[str, Any]:
    """An attributes dict holding just these keys, as the reference decoder builds it."""
    return {key: orjson.loads(text) for key, text in zip(keys, values, strict=True) if text is not None}


# -- the normaliser ---------------------------------------------------------------------


def normalize_columns(
    frame: pl.DataFrame,
    resources: Sequence[Mapping[str, Any]],
    resource_own: Sequence[ResourceAttribution],
    plan: KeyPlan,
    max_tokens: int,
) -> Normalized:
    """`frame`: one row per span with the batch's columns and the typed ones (`k:<key>`);
    `resources[i]` / `resource_own[i]`: resource i's attributes and what it states."""
    n = frame.height
    own = _own_attribution(frame, resource_own, plan)
    deferred = _json_attribution(frame, plan)
    is_llm = _is_llm(frame)
    llm = is_llm & ~deferred
    calls_frame = frame.with_row_index("row").filter(llm)
    calls, refer = _calls(calls_frame, resources, max_tokens)
    deferred_rows = sorted({*pl.Series(range(n)).filter(deferred).to_list(), *refer})
    own = own.with_columns(is_llm=is_llm)
    return Normalized(own=own, calls=calls, deferred=deferred_rows)


def _own_attribution(frame: pl.DataFrame, resource_own: Sequence[ResourceAttribution], plan: KeyPlan) -> pl.DataFrame:
    """`attribution.stated_attribution` per span: configured keys on the span, then on the
    resource, then the producer fallbacks on the span, then on the resource."""
    index = frame["resource_index"]
    columns: dict[str, pl.Series] = {}
    for i, (field, (configured, fallback)) in enumerate(zip(ATTRIBUTION_FIELDS, plan, strict=True)):
        configured_res = pl.Series([r[i][0] for r in resource_own], dtype=pl.String).gather(index)
        fallback_res = pl.Series([r[i][1] for r in resource_own], dtype=pl.String).gather(index)
        chain = [attribution_texts(frame[col(k)]) for k in configured]
        chain.append(configured_res)
        chain += [attribution_texts(frame[col(k)]) for k in fallback]
        chain.append(fallback_res)
        columns[f"own_{field}"] = pl.select(pl.coalesce(chain)).to_series().alias(f"own_{field}")
    return pl.DataFrame(columns)


def _json_attribution(frame: pl.DataFrame, plan: KeyPlan) -> pl.Series:
    """Rows where an attribute that may be a JSON object holding an attribution field is
    a string with a brace in it: `attribution._json_field` decides those."""
    checks = [pl.col(col(k)).str.starts_with('"') & pl.col(col(k)).str.contains("{", literal=True)
              for k in _json_prefixes(plan)]
    if not checks:
        return pl.Series([False] * frame.height)
    return frame.select(pl.any_horizontal(checks).fill_null(False)).to_series()


def _is_llm(frame: pl.DataFrame) -> pl.Series:
    """`otlp.is_llm_span`, or a bare LLM error span (`otlp._bare_llm_error`), per span."""
    present = [pl.col(col(k)).is_not_null() & (pl.col(col(k)) != "null") for k in _MODEL_OR_TOKENS]
    inputs = frame.select(
        *[pl.col(col(k)) for k in _KIND_KEYS],
        pl.any_horizontal(present).alias("model_or_tokens"),
        pl.col("scope_name"),
        # the name matters only for an error span of an LLM instrumentation's scope
        pl.when(pl.col("status_code") == "error").then(pl.col("name")).alias("error_name"),
    )

    def decide(*values: Any) -> tuple[bool]:
        *kind, model_or_tokens, scope, error_name = values
        attrs = _attrs(_KIND_KEYS, kind)
        if model_or_tokens:
            attrs[_MODEL_OR_TOKENS[0]] = "present"
        if is_llm_span("", attrs):
            return (True,)
        if error_name is None:
            return (False,)
        bare = SpanRecord("", "", None, error_name, "", 0, 0, "error", None, {}, {}, scope_name=scope)
        return (_bare_llm_error(bare),)

    return _per_distinct(inputs, inputs.columns, decide, {"is_llm": pl.Boolean})["is_llm"]


_FACT_FIELDS = {
    "request_model": pl.String, "response_model": pl.String, "model": pl.String, "inference_profile": pl.String,
    "provider": pl.String, "api_method": pl.String, "operation": pl.String, "region": pl.String,
    "streaming_flag": pl.Boolean, "finish_reason": pl.String, "status": pl.String, "error_type": pl.String,
    "input_includes_cache": pl.Boolean, "scope": pl.String,
}


def _facts(frame: pl.DataFrame, resources: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """`otlp.call_facts` per call, computed once per distinct input."""
    region_of = [{k: r[k] for k in g.REGION if k in r} for r in resources]
    failed = pl.col("status_code") == "error"
    inputs = frame.select(
        pl.col("name"), pl.col("scope_name"), pl.col("status_code"),
        pl.when(failed).then(pl.col("status_message")).alias("status_message"),
        pl.col("resource_index"), *[pl.col(col(k)) for k in _FACT_KEYS],
    )

    def facts(name: str, scope: str | None, status: str, message: str | None, resource: int,
              *values: str | None) -> tuple[Any, ...]:
        found: CallFacts = call_facts(name, scope, status, message, [], _attrs(_FACT_KEYS, values),
                                      region_of[resource])
        return tuple(getattr(found, f) for f in _FACT_FIELDS)

    return _per_distinct(inputs, inputs.columns, facts, _FACT_FIELDS)


def _calls(frame: pl.DataFrame, resources: Sequence[Mapping[str, Any]], max_tokens: int
           ) -> tuple[pl.DataFrame, list[int]]:
    """The call rows of LLM spans; and the rows the reference must read instead."""
    if frame.height == 0:
        return pl.DataFrame(), []
    tokens = {name: _first_present(frame, keys) for name, keys in _TOKEN_GROUPS.items()}
    plain = [t.is_null() | (t.str.contains(_PLAIN_COUNT) & (t.cast(pl.Int64, strict=False) <= max_tokens))
             for t in tokens.values()]
    refer = ~pl.select(pl.all_horizontal(plain)).to_series()
    refer = refer | frame["events"].is_not_null() | (frame["status_code"] == "error")
    for key in _DEFER_KEYS:
        refer = refer | frame[col(key)].is_not_null()
    referred = frame["row"].filter(refer).to_list()
    keep = ~refer
    frame = frame.filter(keep)
    if frame.height == 0:
        return pl.DataFrame(), referred
    counts = pl.DataFrame({name: t.filter(keep).cast(pl.Int64, strict=False) for name, t in tokens.items()})
    facts = _facts(frame, resources)
    strands = facts["scope"].str.starts_with(g.SCOPE_STRANDS)
    ttft_strands = numbers(_first_present(frame, g.TTFT_MILLISECONDS_STRANDS))
    ttft_seconds = numbers(_first_present(frame, g.TTFT_SECONDS))
    service = [g.as_text(r.get(g.SERVICE_NAME)) for r in resources]
    base = pl.DataFrame({
        "row": frame["row"],
        "call_id": frame["trace_id"] + frame["span_id"],
        "trace_id": frame["trace_id"], "span_id": frame["span_id"],
        "start_ns": frame["start_ns"], "end_ns": frame["end_ns"],
        "request_id": _first_text(frame, g.REQUEST_ID),
        "ttft_raw": pl.select(pl.when(strands).then(ttft_strands).otherwise(ttft_seconds * 1000.0)).to_series(),
        "strands": strands,
        "openlit": facts["scope"].str.starts_with(g.SCOPE_OPENLIT),
        "service_name": pl.Series(service, dtype=pl.String).gather(frame["resource_index"]),
    }).hstack(counts).hstack(facts)
    return base.lazy().with_columns(_usage()).with_columns(_ttlt()).with_columns(_stream()).with_columns(
        _latency()).with_columns(_otps()).select(_CALL_COLUMNS).collect(), referred


def _usage() -> list[pl.Expr]:
    """`otlp.read_usage` (without Langfuse's blob, which is deferred)."""
    raw, output, total = pl.col("input"), pl.col("output"), pl.col("total")
    cached = pl.col("cache_read").fill_null(0) + pl.col("cache_write").fill_null(0)
    from_total = (
        pl.when(total.is_null() | output.is_null()).then(None)
        .when(raw + output == total).then(True)
        .when(raw + cached + output == total).then(False)
        .otherwise(None)
    )
    inclusive = pl.coalesce(from_total, pl.col("input_includes_cache"))
    uncached = pl.when(raw.is_not_null() & (cached > 0) & inclusive & (raw >= cached)).then(raw - cached).otherwise(raw)
    return [uncached.alias("input_tokens"), pl.col("cache_read").alias("cache_read_tokens"),
            pl.col("cache_write").alias("cache_write_tokens"), output.alias("output_tokens"),
            pl.col("reasoning").alias("reasoning_tokens")]


def divide(values: pl.Expr, constant: float) -> pl.Expr:
    """`values / constant` as Python divides: polars multiplies by the reciprocal when
    the divisor is a scalar, which is one ulp off the reference's figures now and then."""
    def exact(batch: pl.Series) -> pl.Series:
        return pl.Series(batch.cast(pl.Float64).to_numpy() / constant, dtype=pl.Float64).fill_nan(None)
    return values.map_batches(exact, return_dtype=pl.Float64)


def _ttlt() -> pl.Expr:
    """`otlp._duration_ms`."""
    start, end = pl.col("start_ns"), pl.col("end_ns")
    return pl.when(end >= start).then(divide(end - start, 1e6)).alias("span_ms")


def _stream() -> list[pl.Expr]:
    """`otlp._streaming_and_ttft`, its first two steps: TTLT kept or dropped, TTFT kept or dropped."""
    ttft, ttlt, streaming = pl.col("ttft_raw"), pl.col("span_ms"), pl.col("streaming_flag")
    stream_end_only = (streaming == True) & pl.col("openlit")  # noqa: E712 - polars: a column test
    covers = ttft.is_not_null() & ttlt.is_not_null() & (ttft > ttlt) & stream_end_only.fill_null(False)
    mixed_up = ttft.is_not_null() & ((ttft < 0) | (ttlt.is_not_null() & (ttft > ttlt)))
    return [
        pl.when(covers).then(None).otherwise(ttlt).alias("ttlt_ms"),
        pl.when(covers).then(ttft).when(mixed_up).then(None).otherwise(ttft).alias("ttft_step"),
    ]


def _latency() -> list[pl.Expr]:
    """`otlp._streaming_and_ttft`, its last two steps: streaming inferred from a TTFT."""
    ttft, streaming = pl.col("ttft_step"), pl.col("streaming_flag")
    inferred = pl.when(streaming.is_null() & ttft.is_not_null() & ~pl.col("strands")).then(True).otherwise(streaming)
    return [inferred.alias("streaming"),
            pl.when(inferred == False).then(None).otherwise(ttft).alias("ttft_ms")]  # noqa: E712


def _otps() -> pl.Expr:
    """`records.compute_otps`."""
    out, ttft, ttlt = pl.col("output_tokens"), pl.col("ttft_ms"), pl.col("ttlt_ms")
    return (pl.when(out.is_not_null() & ttft.is_not_null() & ttlt.is_not_null() & (out > 1) & (ttlt > ttft))
            .then(out.cast(pl.Float64) / divide(ttlt - ttft, 1000.0)).alias("otps"))


_CALL_COLUMNS = [
    "row", "call_id", "trace_id", "span_id", "start_ns", "request_id", "operation", "provider", "request_model",
    "response_model", "model", "region", "inference_profile", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "output_tokens", "reasoning_tokens", "streaming", "ttft_ms", "ttlt_ms", "otps",
    "status", "error_type", "finish_reason", "service_name",
]
