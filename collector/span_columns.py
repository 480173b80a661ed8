"""A native decoder's Arrow batch → a `SpanBatch`, column by column.

The counterpart of `span_batch.build_span_batch`, which takes the reference decoder's
`SpanRecord`s: the same tables come out (tests/test_span_columns.py holds the two to
identical rows), but the spans table is the batch's own columns, attribution and calls
are read by `normalize/columns.py` over whole columns, and only the spans it defers
(see there) go through the reference normaliser one by one. Attribution within the batch
is resolved by walking up the parent links a level at a time for all spans at once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from outcrop.collector.decode.native import records_of
from outcrop.collector.normalize.attribution import KeyPlan, key_plan, resource_attribution
from outcrop.collector.normalize.columns import PREFIX, divide, normalize_columns
from outcrop.collector.normalize.genai import ImplausibleTokens
from outcrop.collector.normalize.otlp import normalize_span
from outcrop.collector.span_batch import _MAX_DEPTH, SPANS_SCHEMA, SpanBatch, _calls_table
from outcrop.core.records import ATTRIBUTION_FIELDS, REQUIRED_ATTRIBUTION, UNATTRIBUTED, LlmCall
from outcrop.core.settings import DEFAULT_MAX_TOKENS_PER_CALL, AttributionSettings

_OWN = [f"own_{f}" for f in ATTRIBUTION_FIELDS]
_TS = pa.timestamp("us")


def build_span_batch_columns(
    batch: pa.RecordBatch,
    keys: AttributionSettings,
    *,
    bound_tenant: str | None,
    received_at: datetime,
    max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL,
    sender_key: str | None = None,
) -> SpanBatch:
    """`build_span_batch` for a native batch decoded with `columns.typed_keys(key_plan(keys))`."""
    plan = key_plan(keys)
    resource_column = batch.column("resource_attributes")
    resources: list[dict[str, Any]] = [
        r if isinstance(r, dict) else {}
        for r in (orjson.loads(t) for t in resource_column.dictionary.to_pylist())
    ]
    frame = _frame(batch)
    # a later duplicate of the same span is dropped (the reference keeps the first)
    frame = frame.unique(subset=["trace_id", "span_id"], keep="first", maintain_order=True)
    norm = normalize_columns(frame, resources, [resource_attribution(r, plan) for r in resources], plan, max_tokens)
    own, calls, refused = _with_reference(batch, frame, norm, plan, keys, resources, max_tokens)
    if refused:
        keep = pl.Series([(t, s) not in refused for t, s in zip(frame["trace_id"], frame["span_id"], strict=True)])
        frame, own = frame.filter(keep), own.filter(keep)  # a refused span has no call either
    if bound_tenant is not None:
        own = own.with_columns(own_tenant=pl.lit(bound_tenant, pl.String))
    resolved = _resolve_in_batch(frame, own)
    spans = _spans_table(frame, own, resolved, resources, received_at)
    calls = _with_attribution(calls, frame, resolved)
    call_table = _calls_arrow(calls, received_at)
    errors = [f"span {span_id} rejected: {message}" for (_, span_id), message in refused.items()]
    return SpanBatch(
        spans=spans,
        calls=call_table,
        trace_ids=sorted(set(frame["trace_id"].to_list())),
        request_ids=sorted({r for r in calls["request_id"].to_list() if r}) if calls.height else [],
        rejected=len(refused),
        errors=errors[:5],
        sender_key=sender_key,
    )


def _frame(batch: pa.RecordBatch) -> pl.DataFrame:
    frame = pl.from_arrow(pa.Table.from_batches([batch.drop_columns(["resource_attributes"])]))
    assert isinstance(frame, pl.DataFrame)
    typed = [f.name for f in batch.schema.field("typed").type]
    frame = frame.unnest("typed").rename({name: PREFIX + name for name in typed}) if typed else frame.drop("typed")
    return frame.with_row_index("batch_row")


def _with_reference(
    batch: pa.RecordBatch, frame: pl.DataFrame, norm: Any, plan: KeyPlan, keys: AttributionSettings,
    resources: list[dict[str, Any]], max_tokens: int,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[tuple[str, str], str]]:
    """The column-wise results with the deferred rows normalised by the reference."""
    own: pl.DataFrame = norm.own
    calls: pl.DataFrame = norm.calls
    refused: dict[tuple[str, str], str] = {}
    if not norm.deferred:
        return own, calls, refused
    batch_rows = frame["batch_row"].gather(norm.deferred).to_list()
    records = records_of(batch.take(pa.array(batch_rows, pa.uint32())))
    resource_own = [resource_attribution(r, plan) for r in resources]
    own_rows: list[tuple[Any, ...]] = []
    call_rows: list[LlmCall] = []
    call_row_index: list[int] = []
    for row, rec in zip(norm.deferred, records, strict=True):
        index = int(frame["resource_index"][row])
        try:
            result = normalize_span(rec, keys, plan=plan, resource_own=resource_own[index], max_tokens=max_tokens)
        except ImplausibleTokens as exc:
            refused[(rec.trace_id, rec.span_id)] = str(exc)
            own_rows.append((row, *(None,) * len(ATTRIBUTION_FIELDS), False))
            continue
        own_rows.append((row, *(getattr(result.own, f) for f in ATTRIBUTION_FIELDS), result.llm_call is not None))
        if result.llm_call is not None:
            call_rows.append(result.llm_call)
            call_row_index.append(row)
    patch = pl.DataFrame(own_rows, schema={"row": pl.UInt32, **{c: pl.String for c in _OWN}, "is_llm": pl.Boolean},
                         orient="row")
    own = own.with_row_index("row").update(patch, on="row", include_nulls=True).drop("row")
    if call_rows:
        ref = _reference_calls(call_rows, call_row_index)
        calls = pl.concat([calls, ref], how="diagonal_relaxed") if calls.height else ref
        calls = calls.sort("row")
    return own, calls, refused


_CALL_FIELDS = [f.name for f in dataclasses.fields(LlmCall)]


def _reference_calls(calls: list[LlmCall], rows: list[int]) -> pl.DataFrame:
    columns: dict[str, Any] = {name: [getattr(c, name) for c in calls] for name in _CALL_FIELDS}
    columns["start_ns"] = columns.pop("ts_ns")
    for field in ATTRIBUTION_FIELDS:
        columns.pop(field)  # resolved over the batch, like the column-wise calls'
    for field in ("source", "account_id", "identity_arn", "inference_region"):
        columns.pop(field)
    frame = pl.DataFrame(columns, schema_overrides=_CALL_TYPES, strict=False)
    return frame.with_columns(row=pl.Series(rows, dtype=pl.UInt32))


_CALL_TYPES = {
    "input_tokens": pl.Int64, "cache_read_tokens": pl.Int64, "cache_write_tokens": pl.Int64,
    "output_tokens": pl.Int64, "reasoning_tokens": pl.Int64, "streaming": pl.Boolean,
    "ttft_ms": pl.Float64, "ttlt_ms": pl.Float64, "otps": pl.Float64, "start_ns": pl.Int64,
    **{name: pl.String for name in ("call_id", "trace_id", "span_id", "request_id", "operation", "provider",
                                    "request_model", "response_model", "model", "region", "inference_profile",
                                    "status", "error_type", "finish_reason", "service_name")},
}


def _resolve_in_batch(frame: pl.DataFrame, own: pl.DataFrame) -> pl.DataFrame:
    """`span_batch._resolve_in_batch` for every span at once: own values, else the nearest
    ancestor's in this batch, never from or above an ancestor stating another tenant;
    then 'unattributed', and the topmost span's name for workflow."""
    nodes = pl.DataFrame({"trace_id": frame["trace_id"], "node_id": frame["span_id"],
                          "node_parent": frame["parent_span_id"], "node_name": frame["name"]}).hstack(
        own.select(_OWN).rename({c: "p_" + c for c in _OWN}))
    state = pl.DataFrame({"trace_id": frame["trace_id"], "at_parent": frame["parent_span_id"],
                          "at_name": frame["name"]}).hstack(own.select(_OWN)).with_columns(
        done=pl.lit(False), depth=pl.lit(0, pl.Int32))
    while True:
        walking = ~pl.col("done") & pl.any_horizontal([pl.col(c).is_null() for c in _OWN]) & \
            pl.col("at_parent").is_not_null() & (pl.col("depth") < _MAX_DEPTH)
        active = state.select(walking).to_series()
        if not active.any():
            break
        joined = state.join(nodes, left_on=["trace_id", "at_parent"], right_on=["trace_id", "node_id"],
                            how="left", maintain_order="left")
        found = pl.col("node_name").is_not_null()  # the parent is in the batch
        other_tenant = pl.col("own_tenant").is_not_null() & pl.col("p_own_tenant").is_not_null() & \
            (pl.col("own_tenant") != pl.col("p_own_tenant"))
        joined = joined.with_columns(walking=active)
        step = pl.col("walking") & found & ~other_tenant.fill_null(False)
        state = joined.select(
            "trace_id",
            pl.when(step).then(pl.col("node_parent")).otherwise(pl.col("at_parent")).alias("at_parent"),
            pl.when(step).then(pl.col("node_name")).otherwise(pl.col("at_name")).alias("at_name"),
            *[pl.when(step).then(pl.coalesce(c, "p_" + c)).otherwise(pl.col(c)).alias(c) for c in _OWN],
            (pl.col("done") | (pl.col("walking") & ~step)).alias("done"),
            (pl.col("depth") + step.cast(pl.Int32)).alias("depth"),
        )
    fallbacks = []
    for field in REQUIRED_ATTRIBUTION:
        fallback = pl.col("at_name") if field == "workflow" else pl.lit(UNATTRIBUTED)
        fallbacks.append(pl.coalesce(f"own_{field}", fallback).alias(f"own_{field}"))
    return state.with_columns(fallbacks).select(pl.col(c).alias(c[4:]) for c in _OWN)


def _spans_table(frame: pl.DataFrame, own: pl.DataFrame, resolved: pl.DataFrame, resources: list[dict[str, Any]],
                 received_at: datetime) -> pa.Table:
    index = frame["resource_index"]
    service = pl.Series([None if r.get("service.name") is None else str(r.get("service.name")) for r in resources],
                        dtype=pl.String).gather(index)
    resource_json = pl.Series([orjson.dumps(r, default=str).decode() for r in resources], dtype=pl.String)
    start, end = frame["start_ns"], frame["end_ns"]
    table = pl.DataFrame({
        "trace_id": frame["trace_id"], "span_id": frame["span_id"], "parent_span_id": frame["parent_span_id"],
        "name": frame["name"], "kind": frame["kind"], "service_name": service,
        "scope_name": frame["scope_name"], "scope_version": frame["scope_version"],
        "start_time": (start // 1000).cast(pl.Datetime("us")), "end_time": (end // 1000).cast(pl.Datetime("us")),
        "duration_ms": pl.select(divide(pl.lit(end - start), 1e6)).to_series(),
        "status_code": frame["status_code"], "status_message": frame["status_message"],
        "attributes": frame["attributes"], "resource_attributes": resource_json.gather(index),
        "events": frame["events"],
    }).hstack(own.select(_OWN)).hstack(resolved.select("tenant", "route", "workflow")).with_columns(
        received_at=pl.lit(received_at, pl.Datetime("us")))
    return table.to_arrow().cast(SPANS_SCHEMA)


def _with_attribution(calls: pl.DataFrame, frame: pl.DataFrame, resolved: pl.DataFrame) -> pl.DataFrame:
    """Each call gets its span's resolved attribution (all fields, as the reference's)."""
    if calls.height == 0:
        return calls
    by_span = pl.DataFrame({"trace_id": frame["trace_id"], "span_id": frame["span_id"]}).hstack(resolved)
    return calls.drop([c for c in ATTRIBUTION_FIELDS if c in calls.columns]).join(
        by_span, on=["trace_id", "span_id"], how="left", maintain_order="left")


def _calls_arrow(calls: pl.DataFrame, received_at: datetime) -> pa.Table:
    """The calls table as `span_batch._calls_table` builds it (the same columns)."""
    if calls.height == 0:
        return _calls_table([], received_at)
    table = calls.with_columns(
        source=pl.lit("otlp"), ts=(pl.col("start_ns") // 1000).cast(pl.Datetime("us")),
        ingested_at=pl.lit(received_at, pl.Datetime("us")),
        account_id=pl.lit(None, pl.String), identity_arn=pl.lit(None, pl.String),
        inference_region=pl.lit(None, pl.String),
    ).drop("row", "start_ns")
    arrow = table.to_arrow()
    # polars writes large_string; the rest of the write path (and the reference) has string
    schema = pa.schema([pa.field(f.name, pa.string() if f.type == pa.large_string() else f.type)
                        for f in arrow.schema])
    return arrow.cast(schema)

