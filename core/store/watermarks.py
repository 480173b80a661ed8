"""The one owner of `watermarks`: how far each job and source has got.

A watermark is a named text value (a write_seq, an ISO time, an S3 hour 'YYYY/MM/DD/HH',
a CloudWatch event position, a fingerprint). Writes run inside the caller's store write,
so progress commits in the same transaction as the rows it covers. Reads take a
connection (a write in progress, or a read-only file) or the Store (its read cursors).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from outcrop.core.sql import load_sql


class Reader(Protocol):
    """The part of outcrop.core.store.writer.Store a read needs (its read cursors)."""

    def query(self, sql: str, params: Any = None) -> pa.Table: ...


# A connection is read as it is, so a write sees its own uncommitted progress.
Source = duckdb.DuckDBPyConnection | Reader


def get(source: Source, name: str) -> str | None:
    """The stored value of `name`, or None when it was never set."""
    params = {"name": name}
    if isinstance(source, duckdb.DuckDBPyConnection):
        found = source.execute(load_sql("store/watermark_get.sql"), params).fetchone()
        return str(found[0]) if found is not None else None
    rows: list[Any] = source.query(load_sql("store/watermark_get.sql"), params).column("value").to_pylist()
    return str(rows[0]) if rows else None


def set(con: duckdb.DuckDBPyConnection, name: str, value: str, now: datetime) -> None:  # noqa: A001
    """Store `value` under `name`, replacing what was there."""
    con.execute(load_sql("store/watermark_set.sql"), {"name": name, "value": value, "now": now})


def advance(con: duckdb.DuckDBPyConnection, name: str, value: str, now: datetime) -> None:
    """Move `name` forward to `value` unless it is already past it (compared as text)."""
    con.execute(load_sql("store/watermark_advance.sql"), {"name": name, "value": value, "now": now})


def get_int(source: Source, name: str) -> int | None:
    value = get(source, name)
    return int(value) if value is not None else None


def get_time(source: Source, name: str) -> datetime | None:
    value = get(source, name)
    return datetime.fromisoformat(value) if value is not None else None


def set_time(con: duckdb.DuckDBPyConnection, name: str, value: datetime, now: datetime) -> None:
    set(con, name, value.isoformat(), now)
