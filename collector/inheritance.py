"""Inherited attribution, resolved over whole traces inside a writer transaction.

A span that does not state a tenant, route or workflow takes it from its nearest
ancestor that does, whatever order the spans of its trace arrived in; so every write
that adds spans to a trace (or a log merged into one) re-resolves that whole trace from
the stored spans (`sql/ingest/collect_trace_spans.sql`, `resolve_attribution.sql`) and
rewrites the spans and calls whose attribution changed. Never across senders: the SQL
follows parents only within one ingest key or stated tenant (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pyarrow as pa

from outcrop.core.sql import load_sql


def resolve_attribution(con: duckdb.DuckDBPyConnection, trace_ids: Iterable[str], now: datetime) -> None:
    """Re-resolve inherited attribution over whole traces (order-independent)."""
    pending = pa.table({"trace_id": pa.array(sorted(set(trace_ids)), pa.string())})
    if pending.num_rows == 0:
        return
    con.register("_pending", pending)
    try:
        con.execute(load_sql("ingest/collect_trace_spans.sql"))
        con.execute(load_sql("ingest/resolve_attribution.sql"))
        con.execute(load_sql("ingest/apply_span_attribution.sql"))
        con.execute(load_sql("ingest/apply_call_attribution.sql"), [now])
        con.execute("DROP TABLE IF EXISTS _resolved")
        con.execute("DROP TABLE IF EXISTS _trace_spans")
    finally:
        con.unregister("_pending")
