"""Turns decoded spans into Arrow batches and writes them (inside a writer transaction).

The batch is built on the receiving thread (normalisation is pure and the GIL is the
only lock it takes); the writer thread only inserts, merges and resolves attribution.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from collector.merge import merge_request_ids, resolve_attribution
from collector.normalize.otlp import normalize_span
from collector.records import ATTRIBUTION_FIELDS, UNATTRIBUTED, LlmCall, SpanRecord
from collector.settings import AttributionSettings

_TS = pa.timestamp("us")

SPANS_SCHEMA = pa.schema(
    [
        ("trace_id", pa.string()), ("span_id", pa.string()), ("parent_span_id", pa.string()),
        ("name", pa.string()), ("kind", pa.string()), ("service_name", pa.string()),
        ("scope_name", pa.string()), ("scope_version", pa.string()),
        ("start_time", _TS), ("end_time", _TS), ("duration_ms", pa.float64()),
        ("status_code", pa.string()), ("status_message", pa.string()),
        ("attributes", pa.string()), ("resource_attributes", pa.string()), ("events", pa.string()),
        *[(f"own_{f}", pa.string()) for f in ATTRIBUTION_FIELDS],
        ("tenant", pa.string()), ("route", pa.string()), ("workflow", pa.string()),
        ("received_at", _TS),
    ]
)

_CALL_FIELDS = [f.name for f in dataclasses.fields(LlmCall) if f.name != "ts_ns"]


@dataclass
class SpanBatch:
    spans: pa.Table
    calls: pa.Table
    trace_ids: list[str]
    request_ids: list[str]

    @property
    def span_count(self) -> int:
        return int(self.spans.num_rows)


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def build_span_batch(
    records: Sequence[SpanRecord],
    keys: AttributionSettings,
    *,
    bound_tenant: str | None,
    received_at: datetime,
) -> SpanBatch:
    """Normalise records into Arrow tables; a later duplicate of the same span is dropped."""
    unique: dict[tuple[str, str], SpanRecord] = {}
    for rec in records:
        unique.setdefault((rec.trace_id, rec.span_id), rec)
    cols: dict[str, list[Any]] = {name: [] for name in SPANS_SCHEMA.names}
    calls: list[LlmCall] = []
    for rec in unique.values():
        norm = normalize_span(rec, keys)
        own = norm.own
        if bound_tenant is not None:
            own = dataclasses.replace(own, tenant=bound_tenant)
        _append_span(cols, rec, own, received_at)
        if norm.llm_call is not None:
            call = norm.llm_call
            for name in ATTRIBUTION_FIELDS:
                setattr(call, name, getattr(own, name))
            calls.append(call)
    spans = pa.table(cols, schema=SPANS_SCHEMA)
    return SpanBatch(
        spans=spans,
        calls=_calls_table(calls, received_at),
        trace_ids=sorted({rec.trace_id for rec in unique.values()}),
        request_ids=sorted({c.request_id for c in calls if c.request_id}),
    )


def _append_span(cols: dict[str, list[Any]], rec: SpanRecord, own: Any, received_at: datetime) -> None:
    cols["trace_id"].append(rec.trace_id)
    cols["span_id"].append(rec.span_id)
    cols["parent_span_id"].append(rec.parent_span_id)
    cols["name"].append(rec.name)
    cols["kind"].append(rec.kind)
    cols["service_name"].append(_str_or_none(rec.resource_attributes.get("service.name")))
    cols["scope_name"].append(rec.scope_name)
    cols["scope_version"].append(rec.scope_version)
    cols["start_time"].append(rec.start_ns // 1000)
    cols["end_time"].append(rec.end_ns // 1000)
    cols["duration_ms"].append((rec.end_ns - rec.start_ns) / 1e6)
    cols["status_code"].append(rec.status_code)
    cols["status_message"].append(rec.status_message)
    cols["attributes"].append(_json(rec.attributes))
    cols["resource_attributes"].append(_json(rec.resource_attributes))
    cols["events"].append(_json(rec.events) if rec.events else None)
    for name in ATTRIBUTION_FIELDS:
        cols[f"own_{name}"].append(getattr(own, name))
    # provisional values; resolve_attribution rewrites them over the whole trace
    cols["tenant"].append(own.tenant or UNATTRIBUTED)
    cols["route"].append(own.route or UNATTRIBUTED)
    cols["workflow"].append(own.workflow or UNATTRIBUTED)
    cols["received_at"].append(received_at)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _calls_table(calls: list[LlmCall], received_at: datetime) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [getattr(c, name) for c in calls] for name in _CALL_FIELDS}
    for name in ("tenant", "route", "workflow"):
        cols[name] = [v or UNATTRIBUTED for v in cols[name]]
    table = pa.table(cols)
    table = table.append_column("ts", pa.array([c.ts_ns // 1000 for c in calls], _TS))
    return table.append_column("ingested_at", pa.array([received_at] * len(calls), _TS))


def write_span_batch(con: duckdb.DuckDBPyConnection, batch: SpanBatch, now: datetime) -> int:
    """Insert spans and calls once (retries are no-ops), merge, resolve attribution."""
    con.register("_in_spans", batch.spans)
    try:
        con.execute("INSERT INTO spans BY NAME SELECT * FROM _in_spans ON CONFLICT DO NOTHING")
    finally:
        con.unregister("_in_spans")
    if batch.calls.num_rows:
        con.register("_in_calls", batch.calls)
        try:
            con.execute("INSERT INTO llm_calls BY NAME SELECT * FROM _in_calls ON CONFLICT DO NOTHING")
        finally:
            con.unregister("_in_calls")
    if batch.request_ids:
        merge_request_ids(con, batch.request_ids, now)
    resolve_attribution(con, batch.trace_ids, now)
    return int(batch.span_count)
