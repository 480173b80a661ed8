"""Which spans of a commit group the writer stores.

Trace and span ids are global, not scoped by tenant: W3C ids are random 128- and 64-bit
numbers, so the same ids from two senders are a replay or an attack, never chance. The
same sender (same ingest-key fingerprint and same stated tenant) sending a stored span
again is a retry and a silent no-op; another sender's span with those ids is refused,
named in the OTLP partial-success answer, and nothing of it is stored.

Everything here runs inside the writer's transaction (collector/span_batch.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from outcrop.core.sql import load_sql

# Who sent a span: the ingest key's fingerprint and the tenant the span states (the
# key's bound tenant when it has one); None, None for an open-ingest span stating none.
Owner = tuple[str | None, str | None]
SpanKey = tuple[str, str]  # (trace_id, span_id)

REFUSED = "trace/span id already stored by another sender"


class Batch(Protocol):
    """What admission reads of a span batch (outcrop.collector.span_batch.SpanBatch)."""

    @property
    def spans(self) -> pa.Table: ...
    @property
    def calls(self) -> pa.Table: ...
    @property
    def sender_key(self) -> str | None: ...


@dataclass(frozen=True)
class Admitted:
    """The rows of one batch to insert, and the span ids refused."""

    spans: pa.Table
    calls: pa.Table
    refused: tuple[str, ...]


def stored_spans(con: duckdb.DuckDBPyConnection, batches: Sequence[Batch]) -> tuple[set[str], dict[SpanKey, Owner]]:
    """Of the batches' traces, those with spans stored already; and who sent the stored
    spans that the batches repeat. One query: it runs for every commit group."""
    keys = pa.table({
        "trace_id": pa.concat_arrays([b.spans.column("trace_id").combine_chunks() for b in batches]),
        "span_id": pa.concat_arrays([b.spans.column("span_id").combine_chunks() for b in batches]),
    })
    if keys.num_rows == 0:
        return set(), {}
    con.register("_in_keys", keys)
    try:
        rows = con.execute(load_sql("ingest/stored_spans.sql")).fetchall()
    finally:
        con.unregister("_in_keys")
    traces = {row[0] for row in rows}
    owners = {(trace_id, span_id): (sender, tenant) for trace_id, span_id, sender, tenant in rows if span_id}
    return traces, owners


def admit(batches: Sequence[Batch], owners: dict[SpanKey, Owner], traces: set[str]) -> list[Admitted]:
    """Per batch, as if written one after another: spans (with their sender) and calls to
    insert, without spans already stored or earlier in the group, and the refused ones.

    Only spans of `traces` (stored already, or in several batches) can repeat a span.
    """
    seen = dict(owners)
    admitted = []
    for batch in batches:
        drop, refused = _repeats(batch, seen, traces)
        spans = batch.spans.append_column(
            "sender_key", pa.array([batch.sender_key] * batch.spans.num_rows, pa.string()))
        calls = batch.calls
        if drop:
            spans, calls = _without(spans, drop), _without(calls, drop)
        admitted.append(Admitted(spans, calls, tuple(refused)))
    return admitted


def refusal_messages(refused: Sequence[str], limit: int = 5) -> tuple[str, ...]:
    """What the partial-success answer says, bounded: which spans, and why."""
    return tuple(f"span {span_id}: {REFUSED}" for span_id in refused[:limit])


def _repeats(batch: Batch, seen: dict[SpanKey, Owner], traces: set[str]) -> tuple[set[str], list[str]]:
    """Spans of the batch stored before (their trace_id || span_id), and of those the ids
    of the ones another sender stored."""
    drop: set[str] = set()
    refused: list[str] = []
    for trace_id, span_id, tenant in _rows_in(batch.spans, traces):
        owner: Owner = (batch.sender_key, tenant)
        prior = seen.get((trace_id, span_id))
        if prior is None:
            seen[(trace_id, span_id)] = owner
            continue
        drop.add(trace_id + span_id)
        if prior != owner:
            refused.append(span_id)
    return drop, refused


def _rows_in(spans: pa.Table, traces: set[str]) -> Iterator[tuple[str, str, str | None]]:
    """(trace_id, span_id, own_tenant) of the spans in `traces`, in batch order."""
    if not traces or spans.num_rows == 0:
        return iter(())
    mask = pc.is_in(spans.column("trace_id"), value_set=pa.array(sorted(traces), pa.string()))
    hits = spans.filter(mask)
    return zip(hits.column("trace_id").to_pylist(), hits.column("span_id").to_pylist(),
               hits.column("own_tenant").to_pylist(), strict=True)


def _without(table: pa.Table, drop: set[str]) -> pa.Table:
    """Rows whose trace_id || span_id is not in `drop`."""
    if table.num_rows == 0:
        return table
    ids = pc.binary_join_element_wise(table.column("trace_id"), table.column("span_id"), "")
    keep = pc.invert(pc.fill_null(pc.is_in(ids, value_set=pa.array(sorted(drop), pa.string())), False))
    return table.filter(keep)
