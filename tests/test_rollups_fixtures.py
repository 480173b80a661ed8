"""Helpers shared by the analytics tests: a migrated in-memory database and call rows.

Rows are written as readable dicts; unspecified columns take the defaults below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from outcrop.core.store.writer import apply_migrations

T0 = datetime(2025, 3, 3, 10, 0)

DEFAULTS: dict[str, Any] = {
    "source": "otlp",
    "tenant": "acme",
    "route": "chat",
    "workflow": "support",
    "operation": "chat",
    "provider": "aws.bedrock",
    "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "region": "us-east-1",
    "inference_profile": None,
    "input_tokens": None,
    "cache_read_tokens": None,
    "cache_write_tokens": None,
    "output_tokens": None,
    "reasoning_tokens": None,
    "streaming": False,
    "ttft_ms": None,
    "ttlt_ms": None,
    "otps": None,
    "status": "ok",
    "trace_id": None,
}


def fresh_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    apply_migrations(con)
    return con


def insert_calls(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], ingested_at: datetime) -> None:
    """Insert (or replace, by call_id) canonical llm_calls rows, in one statement."""
    full = [{**DEFAULTS, **row, "ingested_at": ingested_at} for row in rows]
    cols = sorted({k for row in full for k in row})
    table = pa.Table.from_pylist([{c: row.get(c) for c in cols} for row in full])
    con.register("new_calls", table)
    names = ", ".join(cols)
    # a rewrite takes a new write_seq, as every writer of llm_calls does
    con.execute(f"INSERT OR REPLACE INTO llm_calls ({names}, write_seq) "
                f"SELECT {names}, nextval('llm_calls_write_seq') FROM new_calls")
    con.unregister("new_calls")
