"""OTLP spans → attribution and `llm_calls` rows over whole columns, not span by span.

The native decoder hands a payload over as one Arrow batch with typed columns named here
(`typed_keys`): the JSON text of each key the call rules read, and per attribution field
the first of its keys the span holds. This module reads those columns with the
reference's own rules, so `normalize/otlp.py` stays the one definition of what a span
means:

- a value of a plain shape (a printable-ASCII string without quotes, escapes or
  surrounding spaces; a non-negative integer of up to 18 digits; a non-negative decimal)
  is read by a polars expression that gives exactly what the reference's `as_text` /
  `attribute_text` / `token_count` / `as_number` give for it;
- what a call takes from few-valued inputs (models, provider, API, region, status,
  finish reason) is `otlp.call_facts`, run once per distinct combination of its inputs;
- only the counts and times (one value per call) are computed here, column-wise, in
  expressions that mirror `read_usage` and `_streaming_and_ttft` line for line.

A span whose reading needs more than that — a value of another shape where the rules
read one, events (first-token times, exceptions, choice events), Langfuse's usage blob
and levels, attribution inside a JSON-object attribute, a token count out of bounds, a
failed call whose throttle may be named in a message — is *deferred*: `normalize_columns`
returns its row number and the caller runs the reference (`otlp.normalize_span`) on it.
The differential test (tests/test_span_columns.py) holds both paths to identical tables.
"""

from __future__ import annotations

import functools
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


def col(key: str) -> str:
    return PREFIX + key


@functools.lru_cache(maxsize=16)
def typed_keys(plan: KeyPlan) -> tuple[tuple[str, str], ...]:
    """The typed columns to ask the native decoder for: the JSON text of each key the
    call rules read and of each attribute that could be a JSON object holding a dotted
    attribution key; and per attribution field, the first of its configured keys (and of
    its producer fallbacks) the span holds."""
    prefixes = _json_prefixes(plan)
    keys: list[tuple[str, str]] = [(key, "json") for key in dict.fromkeys((*_CALL_KEYS, *prefixes))]
    for field, (configured, fallback) in zip(ATTRIBUTION_FIELDS, plan, strict=True):
        for name, group in ((_configured(field), configured), (_fallback(field), fallback)):
            if group:
                keys.append((name, "\x1f".join(("first", *group))))
    return tuple(keys)


def _configured(field: str) -> str:
    return f"first:{field}"


def _fallback(field: str) -> str:
    return f"first:{field}:fallback"


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


# -- reading JSON-text columns: the plain shapes, exactly as the reference reads them -------


def _plain(key: str) -> pl.Expr:
    return pl.col(col(key)).str.contains(_PLAIN_STRING)


def _inner(key: str) -> pl.Expr:
    return pl.col(col(key)).str.slice(1, pl.col(col(key)).str.len_bytes() - 2)


def _present(key: str) -> pl.Expr:
    """`attrs.get(key) is not None`."""
    return pl.col(col(key)).is_not_null() & (pl.col(col(key)) != "null")


def _odd(key: str) -> pl.Expr:
    """A value of a shape these expressions do not read: the reference must."""
    return (_present(key) & ~_plain(key)).fill_null(False)


def _text(key: str) -> pl.Expr:
    """`g.as_text` of a plain string (the string itself)."""
    return pl.when(_plain(key)).then(_inner(key))


def _attribution_text(key: str) -> pl.Expr:
    """`attribute_text` of a plain string: itself, when no longer than MAX_VALUE_CHARS."""
    return pl.when(_plain(key) & (pl.col(col(key)).str.len_bytes() <= MAX_VALUE_CHARS + 2)).then(_inner(key))


def _first_present(keys: Sequence[str]) -> pl.Expr:
    """The JSON text of the first key whose value is not null (`g.first_item`)."""
    present = [pl.when(_present(k)).then(pl.col(col(k))) for k in keys]
    return pl.coalesce(present) if len(present) > 1 else present[0]


def _per_distinct(frame: pl.DataFrame, inputs: Sequence[str], fn: Callable[..., tuple[Any, ...]],
                  outputs: Mapping[str, Any]) -> pl.DataFrame:
    """`fn(*row)` for each distinct combination of `inputs`, as columns `outputs`, in the
    frame's row order. Rows are grouped by the dense rank of their inputs (equal inputs,
    equal rank); `fn` sees the first row of each group."""
    group = frame.select(pl.struct(list(inputs)).rank("dense").cast(pl.Int64) - 1).to_series()
    first = group.arg_unique()  # the first row of each group, in row order
    by_group: list[tuple[Any, ...]] = [()] * len(first)
    for rank, row in zip(group.gather(first).to_list(), frame.select(inputs)[first].iter_rows(), strict=True):
        by_group[rank] = fn(*row)
    return pl.DataFrame(by_group, schema=dict(outputs), orient="row")[group]


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
    """`frame`: one row per span with the batch's columns, the typed ones (`k:<key>`) and
    `request` (which request of a commit group the span came in);
    `resources[i]` / `resource_own[i]`: resource i's attributes and what it states."""
    region_of = [orjson.dumps({k: r[k] for k in g.REGION if k in r}).decode() for r in resources]
    per_resource = {
        **{f"res:{i}:{side}": [r[i][side] for r in resource_own]
           for i in range(len(ATTRIBUTION_FIELDS)) for side in (0, 1)},
        "res:region": region_of,
        "res:service": [g.as_text(r.get(g.SERVICE_NAME)) for r in resources],
    }
    frame = frame.hstack(pl.DataFrame(per_resource, schema=dict.fromkeys(per_resource, pl.String))[
        frame["resource_index"]])
    read = frame.lazy().select(_read_spans(plan)).collect()
    is_llm = _per_distinct(read, [col(k) for k in _KIND_KEYS] + ["model_or_tokens", "scope_name", "error_name"],
                           _decide_llm, {"is_llm": pl.Boolean})["is_llm"]
    own = read.select(f"own_{f}" for f in ATTRIBUTION_FIELDS).with_columns(is_llm=is_llm)
    calls_frame = frame.select(_CALL_READS).with_row_index("row").filter(is_llm & ~read["defer"])
    calls, refer = _calls(calls_frame, max_tokens)
    deferred = sorted({*read.with_row_index("row").filter("defer")["row"].to_list(), *refer})
    return Normalized(own=own, calls=calls, deferred=deferred)


@functools.lru_cache(maxsize=16)
def _read_spans(plan: KeyPlan) -> list[pl.Expr]:
    """What every span needs read: its attribution, whether to defer it, and the inputs
    of the LLM-span test."""
    return [
        *_own_attribution(plan),
        _deferred_attribution(plan).alias("defer"),
        *[pl.col(col(k)) for k in _KIND_KEYS],
        pl.any_horizontal([_present(k) for k in _MODEL_OR_TOKENS]).fill_null(False).alias("model_or_tokens"),
        pl.col("scope_name"),
        # the name matters only for an error span of an LLM instrumentation's scope
        pl.when(pl.col("status_code") == "error").then(pl.col("name")).alias("error_name"),
    ]


def _own_attribution(plan: KeyPlan) -> list[pl.Expr]:
    """`attribution.stated_attribution` per span: configured keys on the span, then on the
    resource (`res:<i>:0`), then the producer fallbacks on the span, then on the resource
    (`res:<i>:1`). The first key a span holds decides when its value is a plain string
    (`_deferred_attribution` sends the rest to the reference)."""
    out = []
    for i, (field, (configured, fallback)) in enumerate(zip(ATTRIBUTION_FIELDS, plan, strict=True)):
        chain = []
        if configured:
            chain.append(_attribution_text(_configured(field)))
        chain.append(pl.col(f"res:{i}:0"))
        if fallback:
            chain.append(_attribution_text(_fallback(field)))
        chain.append(pl.col(f"res:{i}:1"))
        out.append(pl.coalesce(chain).alias(f"own_{field}"))
    return out


def _deferred_attribution(plan: KeyPlan) -> pl.Expr:
    """Spans whose attribution the reference must read: the first key a span holds for a
    field has a value that is no plain string of at most MAX_VALUE_CHARS (the reference
    would then try the next key), or an attribute that may be a JSON object holding a
    dotted key is a string with a brace in it (`attribution._json_field` decides those)."""
    checks = []
    for field, (configured, fallback) in zip(ATTRIBUTION_FIELDS, plan, strict=True):
        for name, group in ((_configured(field), configured), (_fallback(field), fallback)):
            if group:
                checks.append(pl.col(col(name)).is_not_null() & _attribution_text(name).is_null())
    checks += [pl.col(col(k)).str.contains("{", literal=True) for k in _json_prefixes(plan)]
    return pl.any_horizontal(checks).fill_null(False)


@functools.lru_cache(maxsize=4096)
def _decide_llm(*values: Any) -> tuple[bool]:
    """`otlp.is_llm_span`, or a bare LLM error span (`otlp._bare_llm_error`)."""
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


_FACT_FIELDS = {
    "request_model": pl.String, "response_model": pl.String, "model": pl.String, "inference_profile": pl.String,
    "provider": pl.String, "api_method": pl.String, "operation": pl.String, "region": pl.String,
    "streaming_flag": pl.Boolean, "finish_reason": pl.String, "status": pl.String, "error_type": pl.String,
    "input_includes_cache": pl.Boolean, "scope": pl.String,
}


def _facts(frame: pl.DataFrame) -> pl.DataFrame:
    """`otlp.call_facts` per call, computed once per distinct input (failed calls and
    calls with events are deferred, so neither a status message nor events matter)."""
    inputs = ["name", "scope_name", "status_code", "res:region", *(col(k) for k in _FACT_KEYS)]
    return _per_distinct(frame, inputs, _call_facts, _FACT_FIELDS)


@functools.lru_cache(maxsize=4096)
def _call_facts(name: str, scope: str | None, status: str, region: str, *values: str | None) -> tuple[Any, ...]:
    """The facts of one distinct input; remembered, since a fleet's calls repeat a few."""
    found: CallFacts = call_facts(name, scope, status, None, [], _attrs(_FACT_KEYS, values), orjson.loads(region))
    return tuple(getattr(found, f) for f in _FACT_FIELDS)


def _calls(frame: pl.DataFrame, max_tokens: int) -> tuple[pl.DataFrame, list[int]]:
    """The call rows of LLM spans; and the rows the reference must read instead."""
    if frame.height == 0:
        return pl.DataFrame(), []
    texts, checks = _call_inputs(max_tokens)
    read = frame.lazy().select(*_CALL_CARRIED, *texts).with_columns(checks).collect()
    referred = read.filter("refer")["row"].to_list()
    read = read.filter(~pl.col("refer"))
    if read.height == 0:
        return pl.DataFrame(), referred
    calls = read.hstack(_facts(read)).lazy().with_columns(_call_values()).with_columns(_usage()).with_columns(
        _ttlt()).with_columns(_stream()).with_columns(_latency()).with_columns(_otps()).select(_CALL_COLUMNS)
    return calls.collect(), referred


# The columns the call rules read: everything else of a span stays behind.
_CALL_CARRIED = ["row", "request", "trace_id", "span_id", "start_ns", "end_ns", "name", "scope_name", "status_code",
                 "res:region", "res:service", *(col(k) for k in dict.fromkeys((*_FACT_KEYS, *g.REQUEST_ID)))]
_CALL_READS = [c for c in _CALL_CARRIED if c != "row"] + ["events"] + [
    col(k) for k in dict.fromkeys((*(k for keys in _TOKEN_GROUPS.values() for k in keys), *_TTFT_KEYS, *_DEFER_KEYS))
    if col(k) not in _CALL_CARRIED]


@functools.lru_cache(maxsize=16)
def _call_inputs(max_tokens: int) -> tuple[list[pl.Expr], pl.Expr]:
    """The counts' and TTFT's texts; then `refer`: the calls the reference must read."""
    texts = [_first_present(keys).alias("t_" + name) for name, keys in _TOKEN_GROUPS.items()]
    texts += [_first_present(g.TTFT_MILLISECONDS_STRANDS).alias("ttft_ms_text"),
              _first_present(g.TTFT_SECONDS).alias("ttft_s_text"),
              pl.any_horizontal([_odd(k) for k in g.REQUEST_ID]).alias("odd_request_id"),
              pl.any_horizontal([pl.col(col(k)).is_not_null() for k in _DEFER_KEYS]).alias("deferred_keys"),
              pl.col("events").is_not_null().alias("has_events")]
    tokens = [pl.col("t_" + n) for n in _TOKEN_GROUPS]
    plain_tokens = [t.is_null() | (t.str.contains(_PLAIN_COUNT) & (t.cast(pl.Int64, strict=False) <= max_tokens))
                    for t in tokens]
    numbers = [pl.col(c) for c in ("ttft_ms_text", "ttft_s_text")]
    plain_numbers = [t.is_null() | t.str.contains(_PLAIN_NUMBER) for t in numbers]
    refer = (
        ~pl.all_horizontal(plain_tokens).fill_null(False) | ~pl.all_horizontal(plain_numbers).fill_null(False)
        | pl.col("odd_request_id") | pl.col("has_events") | (pl.col("status_code") == "error")
        | pl.col("deferred_keys")
    )
    return texts, refer.alias("refer")


@functools.lru_cache(maxsize=1)
def _call_values() -> list[pl.Expr]:
    strands = pl.col("scope").str.starts_with(g.SCOPE_STRANDS)
    as_number = {}
    for text in ("ttft_ms_text", "ttft_s_text"):
        number = pl.col(text).cast(pl.Float64, strict=False)
        as_number[text] = pl.when(number < 1e300).then(number)  # g.as_number: finite
    return [
        (pl.col("trace_id") + pl.col("span_id")).alias("call_id"),
        pl.coalesce([_text(k) for k in g.REQUEST_ID]).alias("request_id"),
        *[pl.col("t_" + n).cast(pl.Int64, strict=False).alias(n) for n in _TOKEN_GROUPS],
        pl.when(strands).then(as_number["ttft_ms_text"]).otherwise(as_number["ttft_s_text"] * 1000.0)
        .alias("ttft_raw"),
        strands.alias("strands"),
        pl.col("scope").str.starts_with(g.SCOPE_OPENLIT).alias("openlit"),
        pl.col("res:service").alias("service_name"),
    ]


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
    "row", "request", "call_id", "trace_id", "span_id", "start_ns", "request_id", "operation", "provider",
    "request_model",
    "response_model", "model", "region", "inference_profile", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "output_tokens", "reasoning_tokens", "streaming", "ttft_ms", "ttlt_ms", "otps",
    "status", "error_type", "finish_reason", "service_name",
]
