"""Turns decoded spans into Arrow batches and writes them (inside a writer transaction).

The batch is built on the receiving thread (normalisation is pure and the GIL is the
only lock it takes), attribution resolved within it; the writer thread only inserts,
merges, and re-resolves attribution in SQL for traces the batch could not see whole.
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

from outcrop.collector.inheritance import resolve_attribution
from outcrop.collector.merge import merge_request_ids
from outcrop.collector.normalize.attribution import ResourceAttribution, key_plan, resource_attribution
from outcrop.collector.normalize.genai import ImplausibleTokens
from outcrop.collector.normalize.otlp import NormalizedSpan, normalize_span
from outcrop.collector.span_admission import Admitted, admit, refusal_messages, stored_spans
from outcrop.core.records import (
    ATTRIBUTION_FIELDS,
    REQUIRED_ATTRIBUTION,
    UNATTRIBUTED,
    Attribution,
    LlmCall,
    SpanRecord,
)
from outcrop.core.settings import DEFAULT_MAX_TOKENS_PER_CALL, AttributionSettings
from outcrop.core.sql import load_sql

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
    # spans normalisation refused (not in `spans`), and why: OTLP partial success
    rejected: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    # fingerprint of the ingest key that sent the batch (spans.sender_key); None = open ingest
    sender_key: str | None = None

    @property
    def span_count(self) -> int:
        return int(self.spans.num_rows)


@dataclass(frozen=True)
class WriteOutcome:
    """What the writer did with one batch: spans stored, and spans it refused to store
    (counted in the OTLP partial-success answer, with why)."""

    stored: int
    refused: int = 0
    errors: tuple[str, ...] = ()


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


@dataclass(slots=True)
class _Node:
    """One span as the attribution walk sees it."""

    parent: str | None
    name: str
    own: tuple[str | None, ...]  # in ATTRIBUTION_FIELDS order


def build_span_batch(
    records: Sequence[SpanRecord],
    keys: AttributionSettings,
    *,
    bound_tenant: str | None,
    received_at: datetime,
    max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL,
    sender_key: str | None = None,
) -> SpanBatch:
    """Normalise records into Arrow tables; a later duplicate of the same span is dropped,
    and a span with a token count outside [0, max_tokens] is refused alone (`rejected`).

    Attribution is resolved here over the spans of this batch, exactly as
    `resolve_attribution` would resolve it if the batch's traces had no other spans;
    `write_span_batch` re-resolves in SQL the traces for which that is not so.
    """
    unique: dict[tuple[str, str], SpanRecord] = {}
    for rec in records:
        unique.setdefault((rec.trace_id, rec.span_id), rec)
    plan = key_plan(keys)
    resource_own: dict[int, ResourceAttribution] = {}  # the spans of one resource share its dict
    normalized: list[NormalizedSpan] = []
    nodes: dict[tuple[str, str], _Node] = {}
    refused: list[str] = []
    for key, rec in list(unique.items()):
        resource = rec.resource_attributes
        stated = resource_own.get(id(resource))
        if stated is None:
            stated = resource_own[id(resource)] = resource_attribution(_mapping(resource), plan)
        try:
            norm = normalize_span(rec, keys, plan=plan, resource_own=stated, max_tokens=max_tokens)
        except ImplausibleTokens as exc:
            del unique[key]  # not stored at all: its siblings and the rest of the trace are
            refused.append(f"span {rec.span_id} rejected: {exc}")
            continue
        own = norm.own if bound_tenant is None else dataclasses.replace(norm.own, tenant=bound_tenant)
        normalized.append(NormalizedSpan(own, norm.llm_call))
        nodes[key] = _Node(rec.parent_span_id, rec.name, tuple(getattr(own, f) for f in ATTRIBUTION_FIELDS))
    cols: dict[str, list[Any]] = {name: [] for name in SPANS_SCHEMA.names}
    calls: list[LlmCall] = []
    resource_json: dict[int, str] = {}
    for (key, rec), norm in zip(unique.items(), normalized, strict=True):
        resolved = _resolve_in_batch(key, nodes)
        encoded = resource_json.get(id(rec.resource_attributes))
        if encoded is None:
            encoded = resource_json[id(rec.resource_attributes)] = _json(rec.resource_attributes)
        _append_span(cols, rec, norm.own, resolved, encoded, received_at)
        if norm.llm_call is not None:
            call = norm.llm_call
            for name, value in zip(ATTRIBUTION_FIELDS, resolved, strict=True):
                setattr(call, name, value)
            calls.append(call)
    return SpanBatch(
        spans=pa.table(cols, schema=SPANS_SCHEMA),
        calls=_calls_table(calls, received_at),
        trace_ids=sorted({trace_id for trace_id, _ in unique}),
        request_ids=sorted({c.request_id for c in calls if c.request_id}),
        rejected=len(refused),
        errors=refused[:5],  # enough to say what was wrong, bounded
        sender_key=sender_key,
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resolve_in_batch(key: tuple[str, str], nodes: dict[tuple[str, str], _Node]) -> tuple[str | None, ...]:
    """Own value, else the nearest ancestor's in this batch (sql/ingest/resolve_attribution.sql:
    the same 128-level bound, and the same stop below an ancestor of another tenant), with
    'unattributed' and the root-name fallback for workflow."""
    trace_id = key[0]
    node = nodes[key]
    values = list(node.own)
    depth = 0
    while None in values and depth < _MAX_DEPTH:
        parent = nodes.get((trace_id, node.parent)) if node.parent is not None else None
        if parent is None or _other_tenant(values[_TENANT], parent.own[_TENANT]):
            break  # a batch has one sender, so the tenant is the only boundary to check
        node, depth = parent, depth + 1
        values = [v if v is not None else o for v, o in zip(values, node.own, strict=True)]
    for i in _REQUIRED:
        if values[i] is None:
            # the topmost span reached: the root, when it is in the batch
            values[i] = node.name if i == _WORKFLOW else UNATTRIBUTED
    return tuple(values)


def _other_tenant(tenant: str | None, ancestor_tenant: str | None) -> bool:
    """Whether an ancestor states a tenant other than the one the walk has so far (its
    own, else the nearest inherited): nothing is inherited from it or above it."""
    return tenant is not None and ancestor_tenant is not None and ancestor_tenant != tenant


_MAX_DEPTH = 128
_TENANT = ATTRIBUTION_FIELDS.index("tenant")
_WORKFLOW = ATTRIBUTION_FIELDS.index("workflow")
_REQUIRED = tuple(ATTRIBUTION_FIELDS.index(f) for f in REQUIRED_ATTRIBUTION)


_OWN_COLUMNS = tuple((f"own_{name}", name) for name in ATTRIBUTION_FIELDS)
_REQUIRED_COLUMNS = tuple((name, ATTRIBUTION_FIELDS.index(name)) for name in REQUIRED_ATTRIBUTION)


def _append_span(
    cols: dict[str, list[Any]], rec: SpanRecord, own: Attribution, resolved: tuple[str | None, ...],
    resource_json: str, received_at: datetime,
) -> None:
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
    cols["resource_attributes"].append(resource_json)  # encoded once per resource
    cols["events"].append(_json(rec.events) if rec.events else None)
    for column, name in _OWN_COLUMNS:
        cols[column].append(getattr(own, name))
    for name, index in _REQUIRED_COLUMNS:
        cols[name].append(resolved[index])
    cols["received_at"].append(received_at)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _calls_table(calls: list[LlmCall], received_at: datetime) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [getattr(c, name) for c in calls] for name in _CALL_FIELDS}
    table = pa.table(cols)
    table = table.append_column("ts", pa.array([c.ts_ns // 1000 for c in calls], _TS))
    return table.append_column("ingested_at", pa.array([received_at] * len(calls), _TS))


def write_span_batch(con: duckdb.DuckDBPyConnection, batch: SpanBatch, now: datetime) -> WriteOutcome:
    """Insert spans and calls once (retries are no-ops), merge, resolve attribution."""
    return write_span_batches(con, [batch], now)[0]


def write_span_batches(
    con: duckdb.DuckDBPyConnection, batches: Sequence[SpanBatch], now: datetime
) -> list[WriteOutcome]:
    """Write several batches with one insert per table, as if written one after another.

    A span already stored (or earlier in the group) is a retry when the same sender sent
    it, and dropped; from another sender it is refused (collector/span_admission.py).
    A trace whose attribution the batch could not resolve alone, because it already has
    stored spans or spans in another batch of this call, is re-resolved in SQL.
    """
    seen: set[str] = set()
    shared: set[str] = set()
    for batch in batches:
        for trace_id in batch.trace_ids:
            (shared if trace_id in seen else seen).add(trace_id)
    stored, owners = stored_spans(con, batches)
    admitted = admit(batches, owners, stored | shared)
    _insert_spans_and_calls(con, admitted)
    request_ids = sorted({r for b in batches for r in b.request_ids})
    if request_ids:
        merge_request_ids(con, request_ids, now)
    resolve_attribution(con, stored | shared, now)
    return [WriteOutcome(b.span_count - len(a.refused), len(a.refused), refusal_messages(a.refused))
            for b, a in zip(batches, admitted, strict=True)]


def _insert_spans_and_calls(con: duckdb.DuckDBPyConnection, admitted: Sequence[Admitted]) -> None:
    _insert(con, "ingest/insert_spans.sql", pa.concat_tables([a.spans for a in admitted]))
    calls = pa.concat_tables([a.calls for a in admitted], promote_options="permissive")
    if calls.num_rows:
        _insert(con, "ingest/insert_span_calls.sql", calls)


def _insert(con: duckdb.DuckDBPyConnection, statement: str, rows: pa.Table) -> None:
    con.register("_in_rows", rows)
    try:
        con.execute(load_sql(statement))
    finally:
        con.unregister("_in_rows")


class SpanWrite:
    """A store write of one batch; in a commit group, consecutive ones share their inserts."""

    def __init__(self, batch: SpanBatch, now: datetime) -> None:
        self.batch = batch
        self.now = now

    def __call__(self, con: duckdb.DuckDBPyConnection) -> WriteOutcome:
        return write_span_batch(con, self.batch, self.now)

    @staticmethod
    def write_many(con: duckdb.DuckDBPyConnection, writes: Sequence[SpanWrite]) -> list[WriteOutcome]:
        return write_span_batches(con, [w.batch for w in writes], max(w.now for w in writes))
