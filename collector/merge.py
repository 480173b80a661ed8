"""Writes that join the two sources of a call: spans and Bedrock invocation logs.

Everything here runs inside a writer-thread transaction (`Store.write`). Both sides are
kept whole (a span call naming a request id in `llm_calls`, or in `held_calls` while it
is not counted; logs in `bedrock_invocations`), so a merge is recomputed from them
whichever side arrives first, and re-delivery changes nothing. A merge that touches
traces hands them to `inheritance.resolve_attribution`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from outcrop.collector.inheritance import resolve_attribution
from outcrop.core.records import ATTRIBUTION_FIELDS, LlmCall
from outcrop.core.sql import load_sql

_INVOCATION_COLUMNS: tuple[str, ...] = (
    "request_id", "ts", *ATTRIBUTION_FIELDS, "operation", "request_model", "model", "region",
    "inference_profile", "input_tokens", "cache_read_tokens", "cache_write_tokens",
    "output_tokens", "streaming", "ttft_ms", "ttlt_ms", "status", "error_type",
    "finish_reason", "account_id", "identity_arn", "inference_region", "source_uri",
    "ingested_at",
)


def store_bedrock_calls(
    con: duckdb.DuckDBPyConnection,
    calls: Sequence[LlmCall],
    source_uris: Sequence[str],
    now: datetime,
) -> int:
    """Store invocation-log calls (deduplicated by request id) and merge them with spans.

    Returns the number of distinct request ids written.
    """
    latest: dict[str, tuple[LlmCall, str]] = {}
    for call, uri in zip(calls, source_uris, strict=True):
        if call.request_id:
            latest[call.request_id] = (call, uri)
    if not latest:
        return 0
    _upsert_invocations(con, _invocations_table(list(latest.values()), now))
    merge_request_ids(con, latest.keys(), now)
    return len(latest)


def store_bedrock_table(con: duckdb.DuckDBPyConnection, calls: pa.Table, now: datetime) -> int:
    """The same for calls already in columns (`normalize.bedrock_columns.CALL_COLUMNS`, one
    row per request id, `ts` a timestamp): the natively decoded path. Returns the number
    of request ids written."""
    calls = calls.filter(pc.is_valid(calls.column("request_id")))
    if calls.num_rows == 0:
        return 0
    table = calls.select([c for c in _INVOCATION_COLUMNS if c != "ingested_at"])
    table = table.append_column("ingested_at", pa.array([now] * table.num_rows, pa.timestamp("us")))
    _upsert_invocations(con, table)
    merge_request_ids(con, table.column("request_id").to_pylist(), now)
    return int(table.num_rows)


def _upsert_invocations(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    con.register("_in_invocations", table)
    try:
        con.execute(_UPSERT_INVOCATIONS)
    finally:
        con.unregister("_in_invocations")


_COPIED = tuple(c for c in _INVOCATION_COLUMNS if c not in ("ts", "source_uri", "ingested_at"))


def _invocations_table(rows: list[tuple[LlmCall, str]], now: datetime) -> pa.Table:
    """Column by column: far cheaper than a dict per row for tens of thousands of rows."""
    cols: dict[str, Any] = {name: [getattr(call, name) for call, _ in rows] for name in _COPIED}
    cols["ts"] = pa.array([call.ts_ns // 1000 for call, _ in rows], pa.timestamp("us"))
    cols["source_uri"] = [uri for _, uri in rows]
    cols["ingested_at"] = pa.array([now] * len(rows), pa.timestamp("us"))
    return pa.table(cols)


# Generated, not a sql/ file: every stored column of the log is refreshed, and the list
# is the _INVOCATION_COLUMNS tuple, so a new column cannot be missed here.
_UPSERT_INVOCATIONS = (
    "INSERT INTO bedrock_invocations BY NAME SELECT * FROM _in_invocations "
    "ON CONFLICT (request_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _INVOCATION_COLUMNS if c != "request_id")
)


def merge_request_ids(con: duckdb.DuckDBPyConnection, request_ids: Iterable[str], now: datetime) -> None:
    """Recompute the one llm_calls row of each of these request ids from its claims (the
    span calls naming it, counted or held) and its invocation log.

    The first received claim that does not contradict the log is counted, merged with the
    log when there is one; the other claims' rows wait in `held_calls`, listed in
    `request_id_conflicts`; with no eligible claim the log's own row is counted.
    """
    ids = pa.table({"request_id": pa.array(list(request_ids), pa.string())})
    if ids.num_rows == 0:
        return
    con.register("_merge_ids", ids)
    try:
        if not con.execute(load_sql("ingest/merge_needed.sql")).fetchall():
            return  # a lone span call and no log: its own row is already right
        con.execute(load_sql("ingest/find_claims.sql"))
        con.execute(load_sql("ingest/decide_claims.sql"))
        _move_claimed_rows(con, now)
        con.execute(load_sql("ingest/find_traced_requests.sql"))
        traces = [r[0] for r in con.execute(load_sql("ingest/traced_trace_ids.sql")).fetchall()]
        if traces:  # only then is there a span side to merge with
            con.execute(load_sql("ingest/merge_traced_calls.sql"), [now])
            con.execute(load_sql("ingest/record_merged_log_deletions.sql"), [now])
            con.execute(load_sql("ingest/drop_merged_log_rows.sql"))
        con.execute(load_sql("ingest/upsert_log_only_calls.sql"), [now])
        con.execute("DROP TABLE IF EXISTS _traced")
        con.execute("DROP TABLE IF EXISTS _claims")
        con.execute("DROP TABLE IF EXISTS _claim_rows")
    finally:
        con.unregister("_merge_ids")
    resolve_attribution(con, traces, now)


def _move_claimed_rows(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Claims not counted leave llm_calls for held_calls and are listed as conflicts; a
    held claim now counted comes back. Nothing moves unless some claim is, or was, held."""
    (moving,) = con.execute(load_sql("ingest/claims_moving.sql")).fetchone() or (0,)
    if not moving:
        return
    con.execute(load_sql("ingest/record_conflicts.sql"), [now])
    con.execute(load_sql("ingest/clear_conflicts.sql"))
    con.execute(load_sql("ingest/hold_uncounted_calls.sql"))
    con.execute(load_sql("ingest/record_uncounted_deletions.sql"), [now])
    con.execute(load_sql("ingest/drop_uncounted_calls.sql"))
    con.execute(load_sql("ingest/restore_counted_calls.sql"), [now])
    con.execute(load_sql("ingest/drop_restored_calls.sql"))
