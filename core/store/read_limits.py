"""Bounds on one read made for a user: how long it may run and how much memory it may add.

DuckDB bounds memory for the whole database (`memory_limit`) but not per query, and a read
that fills that limit starves the writer beside it. So a watchdog thread samples the
database's working memory (`sql/read/working_memory.sql`) while the read runs and
interrupts the read's connection when it has grown past the read's budget, or when the
read has run past its time. The budget is the growth of the whole database's working
memory since the read began, so concurrent reads and ingest count against it too: it errs
towards stopping a read, never towards starving ingest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from outcrop.core.errors import QueryError
from outcrop.core.sql import load_sql

# How often the watchdog samples; a read grows by at most a few hundred MB between samples.
POLL_SECONDS = 0.05
# The result itself may hold at most this share of the read's memory budget: serving it
# as JSON takes several times its Arrow size again, outside DuckDB's accounting.
RESULT_SHARE = 8
_BATCH_ROWS = 2048
_WORKING_MEMORY = load_sql("read/working_memory.sql")

Params = Sequence[Any] | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class ReadBounds:
    """server.query_timeout_seconds and server.query_memory_limit, or None for no bound."""

    timeout_seconds: float | None = None
    memory_bytes: int | None = None


def run_bounded(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None,
                bounds: ReadBounds | None = None) -> pa.Table:
    """Run a read on `con` (a connection or cursor no one else uses) within `bounds`."""
    if bounds is None or (bounds.timeout_seconds is None and bounds.memory_bytes is None):
        return con.sql(sql, params=params or None).to_arrow_table()
    watchdog = _Watchdog(con, bounds)
    try:
        relation = con.sql(sql, params=params or None)
        if bounds.memory_bytes is None:
            return relation.to_arrow_table()
        return _fetch_within(relation, bounds.memory_bytes // RESULT_SHARE)
    except duckdb.OutOfMemoryException:
        raise QueryError("query ran out of memory: it reached the database's limit (server.memory_limit) "
                         "and was stopped") from None
    except duckdb.Error:
        if watchdog.reason is not None:
            raise QueryError(watchdog.reason) from None
        raise
    finally:
        watchdog.stop()


def _fetch_within(relation: duckdb.DuckDBPyRelation, budget: int) -> pa.Table:
    """The result, batch by batch, refused once its Arrow size passes `budget`."""
    reader = relation.to_arrow_reader(_BATCH_ROWS)
    batches: list[pa.RecordBatch] = []
    size = 0
    for batch in reader:
        size += batch.nbytes
        if size > budget:
            raise QueryError(f"query result is larger than {human_bytes(budget)} (1/{RESULT_SHARE} of "
                             "server.query_memory_limit); select fewer rows or columns")
        batches.append(batch)
    return pa.Table.from_batches(batches, reader.schema)


class _Watchdog:
    def __init__(self, con: duckdb.DuckDBPyConnection, bounds: ReadBounds) -> None:
        self._con = con
        self._bounds = bounds
        self._done = threading.Event()
        self.reason: str | None = None
        self._probe = con.cursor() if bounds.memory_bytes is not None else None
        self._baseline = _working_memory(self._probe) if self._probe is not None else 0
        self._deadline = (time.monotonic() + bounds.timeout_seconds) if bounds.timeout_seconds else None
        self._thread = threading.Thread(target=self._watch, name="outcrop-read-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        if self._probe is not None:
            self._probe.close()

    def _watch(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            reason = self._over()
            if reason is not None:
                self.reason = reason
                self._con.interrupt()
                return

    def _over(self) -> str | None:
        timeout, budget = self._bounds.timeout_seconds, self._bounds.memory_bytes
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return f"query ran longer than {timeout:g} s (server.query_timeout_seconds) and was stopped"
        if self._probe is not None and budget is not None:
            try:
                grown = _working_memory(self._probe) - self._baseline
            except duckdb.Error:  # a sample that fails says nothing; the next one may
                return None
            if grown > budget:
                return (f"query used more than {human_bytes(budget)} of memory (server.query_memory_limit) "
                        "and was stopped")
        return None


def _working_memory(cur: duckdb.DuckDBPyConnection) -> int:
    row = cur.execute(_WORKING_MEMORY).fetchone()
    return int(row[0]) if row else 0


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.4g} {unit}"
    return f"{n} bytes"
