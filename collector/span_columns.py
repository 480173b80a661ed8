"""Native decoders' Arrow batches → `SpanBatch`es, column by column, a commit group at once.

The counterpart of `span_batch.build_span_batch`, which takes the reference decoder's
`SpanRecord`s: the same tables come out (tests/test_span_columns.py holds the two to
identical rows), but the spans table is the batches' own columns, attribution and calls
are read by `normalize/columns.py` over whole columns, and only the spans it defers
(see there) go through the reference normaliser one by one.

Column-wise work has a fixed cost per expression, larger than the per-row cost for a
request of a few hundred spans; so the writer normalises every request of a commit group
together (`SpanColumnsWrite.write_many`), keeping each request's own rules: duplicates
are dropped and attribution resolved within its request, its key's tenant and its
receive time are its own, and it gets its own answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import duckdb
import orjson
import polars as pl
import pyarrow as pa

from outcrop.collector.decode.native import records_of
from outcrop.collector.normalize.attribution import KeyPlan, key_plan, resource_attribution
from outcrop.collector.normalize.columns import PREFIX, divide, normalize_columns
from outcrop.collector.normalize.genai import ImplausibleTokens
from outcrop.collector.normalize.otlp import normalize_span
from outcrop.collector.span_batch import (
    _MAX_DEPTH,
    SPANS_SCHEMA,
    SpanBatch,
    WriteOutcome,
    _calls_table,
    build_span_batch,
    write_span_batches,
)
from outcrop.core.records import ATTRIBUTION_FIELDS, REQUIRED_ATTRIBUTION, UNATTRIBUTED, LlmCall
from outcrop.core.settings import DEFAULT_MAX_TOKENS_PER_CALL, AttributionSettings

_OWN = [f"own_{f}" for f in ATTRIBUTION_FIELDS]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpanColumns:
    """One request's native batch and what its normalisation needs to know of the request."""

    batch: pa.RecordBatch
    keys: AttributionSettings
    bound_tenant: str | None
    received_at: datetime
    max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL
    sender_key: str | None = None


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
    return build_span_batches([SpanColumns(batch, keys, bound_tenant, received_at, max_tokens, sender_key)])[0]


def build_span_batches(requests: Sequence[SpanColumns]) -> list[SpanBatch]:
    """One `SpanBatch` per request, normalised together (requests sharing keys and bound)."""
    out: list[SpanBatch | None] = [None] * len(requests)
    groups: dict[tuple[KeyPlan, int], list[int]] = {}
    for i, r in enumerate(requests):
        groups.setdefault((key_plan(r.keys), r.max_tokens), []).append(i)
    for (plan, max_tokens), members in groups.items():
        for i, batch in zip(members, _build_group([requests[i] for i in members], plan, max_tokens), strict=True):
            out[i] = batch
    return [b for b in out if b is not None]


def _build_group(requests: Sequence[SpanColumns], plan: KeyPlan, max_tokens: int) -> list[SpanBatch]:
    resources: list[dict[str, Any]] = []
    resource_texts: list[str] = []  # as the decoder wrote them: the text the store keeps
    offsets: list[int] = []
    for r in requests:
        offsets.append(len(resources))
        texts = r.batch.column("resource_attributes").dictionary.to_pylist()
        resource_texts += texts
        resources += [orjson.loads(t) for t in texts]
    frame = _frame(requests, offsets)
    # a later duplicate of a span in the same request is dropped (the reference keeps the first)
    first = frame.select(pl.struct("request", "trace_id", "span_id").is_first_distinct()).to_series()
    if not first.all():  # rare: filtering copies every column
        frame = frame.filter(first)
    resource_own = [resource_attribution(r, plan) for r in resources]
    norm = normalize_columns(frame, resources, resource_own, plan, max_tokens)
    own, calls, refused = _with_reference(requests, frame, norm, plan, resource_own, max_tokens)
    if refused:
        keep = pl.Series([(q, t, s) not in refused for q, t, s in
                          zip(frame["request"], frame["trace_id"], frame["span_id"], strict=True)])
        frame, own = frame.filter(keep), own.filter(keep)  # a refused span has no call either
    bound = pl.Series([r.bound_tenant for r in requests], dtype=pl.String)[frame["request"]]
    own = own.with_columns(own_tenant=pl.when(bound.is_not_null()).then(bound).otherwise(pl.col("own_tenant")))
    received = pl.Series([r.received_at for r in requests], dtype=pl.Datetime("us"))
    resolved = _resolve_in_requests(frame, own)
    spans = _spans_table(frame, own, resolved, resources, resource_texts, received[frame["request"]])
    calls = _with_attribution(calls, frame, resolved)
    calls = calls.with_columns(ingested_at=received[calls["request"]]) if calls.height else calls
    # rows stay in request order (concatenated so, and every step keeps order): each
    # request's spans and calls are one slice of the group's tables
    span_counts = frame["request"].value_counts(sort=False).sort("request")
    call_table = _calls_arrow(calls, requests[0].received_at)
    call_requests = calls["request"] if calls.height else pl.Series("request", [], pl.Int32)
    traces = frame.select("request", "trace_id").unique(maintain_order=True).group_by(
        "request", maintain_order=True).agg(pl.col("trace_id").sort())
    request_ids = (calls.select("request", "request_id").drop_nulls().group_by("request", maintain_order=True)
                   .agg(pl.col("request_id").unique().sort()) if calls.height else pl.DataFrame())
    by_request = {
        "spans": dict(zip(span_counts["request"].to_list(), span_counts["count"].to_list(), strict=True)),
        "calls": dict(zip(*call_requests.value_counts(sort=False).to_dict(as_series=False).values(), strict=True)),
        "traces": dict(zip(traces["request"].to_list(), traces["trace_id"].to_list(), strict=True)),
        "request_ids": (dict(zip(request_ids["request"].to_list(), request_ids["request_id"].to_list(), strict=True))
                        if request_ids.height else {}),
    }
    out, span_at, call_at = [], 0, 0
    for i, r in enumerate(requests):
        n_spans, n_calls = by_request["spans"].get(i, 0), by_request["calls"].get(i, 0)
        errors = [f"span {span_id} rejected: {message}" for (q, _, span_id), message in refused.items() if q == i]
        out.append(SpanBatch(
            spans=spans.slice(span_at, n_spans),
            calls=call_table.slice(call_at, n_calls) if n_calls else _calls_table([], r.received_at),
            trace_ids=by_request["traces"].get(i, []),
            request_ids=[x for x in by_request["request_ids"].get(i, []) if x],
            rejected=len(errors),
            errors=errors[:5],
            sender_key=r.sender_key,
        ))
        span_at, call_at = span_at + n_spans, call_at + n_calls
    return out


def _frame(requests: Sequence[SpanColumns], offsets: Sequence[int]) -> pl.DataFrame:
    """The requests' rows as one frame: `request` (its position), `batch_row` (its row in
    its batch), `resource_index` counting over all requests' resources, `k:<key>` typed."""
    tables = []
    for i, (r, offset) in enumerate(zip(requests, offsets, strict=True)):
        batch = r.batch.drop_columns(["resource_attributes"])
        n = batch.num_rows
        index = batch.column("resource_index")
        batch = batch.set_column(batch.schema.get_field_index("resource_index"), "resource_index",
                                 pa.compute.add(index, pa.scalar(offset, pa.int32())))
        batch = batch.append_column("request", pa.array([i] * n, pa.int32()))
        batch = batch.append_column("batch_row", pa.array(range(n), pa.uint32()))
        tables.append(pa.Table.from_batches([batch]))
    frame = pl.from_arrow(pa.concat_tables(tables))
    assert isinstance(frame, pl.DataFrame)
    typed = [f.name for f in requests[0].batch.schema.field("typed").type]
    if not typed:
        return frame.drop("typed")
    return frame.unnest("typed").rename({name: PREFIX + name for name in typed})


def _with_reference(
    requests: Sequence[SpanColumns], frame: pl.DataFrame, norm: Any, plan: KeyPlan,
    resource_own: Sequence[Any], max_tokens: int,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[tuple[int, str, str], str]]:
    """The column-wise results with the deferred rows normalised by the reference."""
    own: pl.DataFrame = norm.own
    calls: pl.DataFrame = norm.calls
    refused: dict[tuple[int, str, str], str] = {}
    if not norm.deferred:
        return own, calls, refused
    deferred = frame.select("request", "batch_row", "resource_index").with_row_index("row")[norm.deferred]
    own_rows: list[tuple[Any, ...]] = []
    call_rows: list[LlmCall] = []
    call_index: list[int] = []
    for (request,), part in deferred.group_by(["request"], maintain_order=True):
        request_index = int(request)
        keys = requests[request_index].keys
        rows = part["row"].to_list()
        taken = requests[request_index].batch.take(pa.array(part["batch_row"].to_list(), pa.uint32()))
        for row, resource, rec in zip(rows, part["resource_index"].to_list(), records_of(taken), strict=True):
            try:
                result = normalize_span(rec, keys, plan=plan, resource_own=resource_own[resource],
                                        max_tokens=max_tokens)
            except ImplausibleTokens as exc:
                refused[(request_index, rec.trace_id, rec.span_id)] = str(exc)
                own_rows.append((row, *(None,) * len(ATTRIBUTION_FIELDS), False))
                continue
            own_rows.append((row, *(getattr(result.own, f) for f in ATTRIBUTION_FIELDS),
                             result.llm_call is not None))
            if result.llm_call is not None:
                call_rows.append(result.llm_call)
                call_index.append(row)
    patch = pl.DataFrame(own_rows, schema={"row": pl.UInt32, **{c: pl.String for c in _OWN}, "is_llm": pl.Boolean},
                         orient="row")
    own = own.with_row_index("row").update(patch, on="row", include_nulls=True).drop("row")
    if call_rows:
        ref = _reference_calls(call_rows, call_index, frame)
        calls = pl.concat([calls, ref], how="diagonal_relaxed") if calls.height else ref
        calls = calls.sort("row")
    return own, calls, refused


_CALL_FIELDS = [f.name for f in fields(LlmCall)]
_NOT_FROM_SPANS = ("source", "account_id", "identity_arn", "inference_region", *ATTRIBUTION_FIELDS)
_CALL_TYPES = {
    "input_tokens": pl.Int64, "cache_read_tokens": pl.Int64, "cache_write_tokens": pl.Int64,
    "output_tokens": pl.Int64, "reasoning_tokens": pl.Int64, "streaming": pl.Boolean,
    "ttft_ms": pl.Float64, "ttlt_ms": pl.Float64, "otps": pl.Float64, "start_ns": pl.Int64,
    **{name: pl.String for name in ("call_id", "trace_id", "span_id", "request_id", "operation", "provider",
                                    "request_model", "response_model", "model", "region", "inference_profile",
                                    "status", "error_type", "finish_reason", "service_name")},
}


def _reference_calls(calls: list[LlmCall], rows: list[int], frame: pl.DataFrame) -> pl.DataFrame:
    columns: dict[str, Any] = {name: [getattr(c, name) for c in calls] for name in _CALL_FIELDS
                               if name not in _NOT_FROM_SPANS}
    columns["start_ns"] = columns.pop("ts_ns")  # attribution is resolved over the request, as for the rest
    table = pl.DataFrame(columns, schema_overrides=_CALL_TYPES, strict=False)
    return table.with_columns(row=pl.Series(rows, dtype=pl.UInt32),
                              request=frame["request"].gather(rows))


def _resolve_in_requests(frame: pl.DataFrame, own: pl.DataFrame) -> pl.DataFrame:
    """`span_batch._resolve_in_batch` for every span at once: own values, else the nearest
    ancestor's in its request, never from or above an ancestor stating another tenant;
    then 'unattributed', and the topmost span's name for workflow."""
    on = ["request", "trace_id"]
    nodes = pl.DataFrame({"request": frame["request"], "trace_id": frame["trace_id"], "node_id": frame["span_id"],
                          "node_parent": frame["parent_span_id"], "node_name": frame["name"]}).hstack(
        own.select(_OWN).rename({c: "p_" + c for c in _OWN}))
    state = pl.DataFrame({"request": frame["request"], "trace_id": frame["trace_id"],
                          "at_parent": frame["parent_span_id"], "at_name": frame["name"]}).hstack(
        own.select(_OWN)).with_columns(done=pl.lit(False), depth=pl.lit(0, pl.Int32))
    walking = (~pl.col("done") & pl.any_horizontal([pl.col(c).is_null() for c in _OWN])
               & pl.col("at_parent").is_not_null() & (pl.col("depth") < _MAX_DEPTH))
    found = pl.col("node_name").is_not_null()  # the parent is in the request
    other_tenant = (pl.col("own_tenant").is_not_null() & pl.col("p_own_tenant").is_not_null()
                    & (pl.col("own_tenant") != pl.col("p_own_tenant")))
    step = pl.col("walking") & found & ~other_tenant.fill_null(False)
    while True:
        active = state.select(walking).to_series()
        if not active.any():
            break
        joined = state.with_columns(walking=active).join(
            nodes, left_on=[*on, "at_parent"], right_on=[*on, "node_id"], how="left", maintain_order="left")
        state = joined.select(
            *on,
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
                 resource_texts: list[str], received_at: pl.Series) -> pa.Table:
    index = frame["resource_index"]
    service = pl.Series([None if r.get("service.name") is None else str(r.get("service.name")) for r in resources],
                        dtype=pl.String)[index]
    resource_json = pl.Series(resource_texts, dtype=pl.String)[index]
    start, end = frame["start_ns"], frame["end_ns"]
    table = pl.DataFrame({
        "trace_id": frame["trace_id"], "span_id": frame["span_id"], "parent_span_id": frame["parent_span_id"],
        "name": frame["name"], "kind": frame["kind"], "service_name": service,
        "scope_name": frame["scope_name"], "scope_version": frame["scope_version"],
        "start_time": (start // 1000).cast(pl.Datetime("us")), "end_time": (end // 1000).cast(pl.Datetime("us")),
        "duration_ms": pl.select(divide(pl.lit(end - start), 1e6)).to_series(),
        "status_code": frame["status_code"], "status_message": frame["status_message"],
        "attributes": frame["attributes"], "resource_attributes": resource_json, "events": frame["events"],
    }).hstack(own.select(_OWN)).hstack(resolved.select("tenant", "route", "workflow")).with_columns(
        received_at=received_at.alias("received_at"))
    return table.to_arrow().cast(SPANS_SCHEMA)


def _with_attribution(calls: pl.DataFrame, frame: pl.DataFrame, resolved: pl.DataFrame) -> pl.DataFrame:
    """Each call gets its span's resolved attribution (all fields, as the reference's)."""
    if calls.height == 0:
        return calls
    by_span = frame.select("request", "trace_id", "span_id").hstack(resolved)
    return calls.drop([c for c in ATTRIBUTION_FIELDS if c in calls.columns]).join(
        by_span, on=["request", "trace_id", "span_id"], how="left", maintain_order="left")


def _calls_arrow(calls: pl.DataFrame, received_at: datetime) -> pa.Table:
    """The calls table as `span_batch._calls_table` builds it (the same columns); the
    calls carry their request's `ingested_at`, `received_at` serves an empty table."""
    if calls.height == 0:
        return _calls_table([], received_at)
    table = calls.with_columns(
        source=pl.lit("otlp"), ts=(pl.col("start_ns") // 1000).cast(pl.Datetime("us")),
        account_id=pl.lit(None, pl.String), identity_arn=pl.lit(None, pl.String),
        inference_region=pl.lit(None, pl.String),
    ).drop("row", "start_ns", "request")
    arrow = table.to_arrow()
    # polars writes large_string; the rest of the write path (and the reference) has string
    schema = pa.schema([pa.field(f.name, pa.string() if f.type == pa.large_string() else f.type)
                        for f in arrow.schema])
    return arrow.cast(schema)


def _reference_batch(request: SpanColumns) -> SpanBatch:
    """The request's spans normalised by the reference, record by record."""
    return build_span_batch(records_of(request.batch), request.keys, bound_tenant=request.bound_tenant,
                            received_at=request.received_at, max_tokens=request.max_tokens,
                            sender_key=request.sender_key)


class SpanColumnsWrite:
    """A store write of one request's native batch; in a commit group, consecutive ones are
    normalised together and share their inserts. Its outcome counts the spans the
    normaliser refused as well as those the writer did."""

    def __init__(self, request: SpanColumns, now: datetime) -> None:
        self.request = request
        self.now = now

    def __call__(self, con: duckdb.DuckDBPyConnection) -> WriteOutcome:
        return SpanColumnsWrite.write_many(con, [self])[0]

    @staticmethod
    def write_many(con: duckdb.DuckDBPyConnection, writes: Sequence[SpanColumnsWrite]) -> list[WriteOutcome]:
        try:
            batches = build_span_batches([w.request for w in writes])
        except Exception:  # noqa: BLE001 - a fault of the fast path must not cost a request its spans
            log.exception("column-wise normalisation failed; %d requests normalised by the reference instead",
                          len(writes))
            batches = [_reference_batch(w.request) for w in writes]
        outcomes = write_span_batches(con, batches, max(w.now for w in writes))
        return [WriteOutcome(o.stored, o.refused + b.rejected, tuple([*b.errors, *o.errors][:5]))
                for b, o in zip(batches, outcomes, strict=True)]
