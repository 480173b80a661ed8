"""Checks and serialisation shared by the read API and the CLI's direct reads."""

from __future__ import annotations

import io
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from collector.errors import QueryError

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def check_read_only(sql: str) -> str:
    """Accept exactly one SELECT statement, as DuckDB's own parser sees it."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryError(f"send exactly one statement, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryError(f"only read-only SELECT statements are allowed, got {kind.name}")
    return sql


def limited(sql: str, max_rows: int) -> str:
    """Wrap a SELECT so that at most max_rows + 1 rows come back (the +1 tells truncation)."""
    return f"SELECT * FROM ({sql.rstrip().rstrip(';')}) AS q LIMIT {int(max_rows) + 1}"


def to_json_rows(table: pa.Table) -> bytes:
    rows = table.to_pylist()
    return orjson.dumps(rows, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


def to_arrow_ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def from_arrow_ipc(data: bytes) -> pa.Table:
    with pa.ipc.open_stream(data) as reader:
        return reader.read_all()
