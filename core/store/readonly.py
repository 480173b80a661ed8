"""Checks and serialisation shared by the read API and the CLI's direct reads.

Ad-hoc SQL (`POST /v1/sql`, `outcrop sql`) reads the database's tables and nothing else.
Two walls hold that. Every connection is opened with DuckDB's external access off and its
configuration locked (`outcrop.core.store.writer.connect`): no file but the database's own, no
network, no extension install. And each statement is checked here, on DuckDB's own parse
tree (`json_serialize_sql`), before it runs: one SELECT; table functions only from an
allow-list (generators, the catalog's views of itself, the database's own table macros),
since the others read files (`read_blob` may read the database file itself, which DuckDB
always allows), run SQL the check cannot see (`query`), or write (`checkpoint`); and no
function DuckDB marks as having side effects (`nextval`, `setval`, ...).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from outcrop.core.errors import QueryError
from outcrop.core.sql import load_sql
from outcrop.core.store.writer import connect

ARROW_STREAM = "application/vnd.apache.arrow.stream"

# Table functions that read the database or generate rows, and nothing else.
READ_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "repeat", "json_each", "json_tree",
    "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies",
    "duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_memory", "duckdb_schemas",
    "duckdb_sequences", "duckdb_settings", "duckdb_tables", "duckdb_types", "duckdb_views",
    "pragma_table_info", "pragma_database_size", "pragma_storage_info", "pragma_version",
    "pg_timezone_names", "icu_calendar_names",
})  # fmt: skip
# DuckDB marks these as having side effects only because they are not deterministic.
_HARMLESS_VOLATILE = frozenset({
    "random", "uuid", "uuidv4", "uuidv7", "gen_random_uuid", "error", "vector_type", "stats",
    "current_query", "current_query_id", "current_connection_id", "current_transaction_id",
})  # fmt: skip
# A macro over sleep_ms, so DuckDB does not mark it; it would hold a reader for nothing.
_STALLS = frozenset({"pg_sleep"})
# A table name with one of these is a path: DuckDB would scan the file it names.
_PATH_CHARACTERS = frozenset("/\\.:")

_parser_lock = threading.Lock()


def check_read_only(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Accept exactly one SELECT that reads only the database, as DuckDB's parser sees it.

    `con` is the connection the statement will run on (for its table macros); without it
    only the built-in allow-list applies.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryError(f"send exactly one statement, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryError(f"only read-only SELECT statements are allowed, got {kind.name}")
    tree = _parse_tree(sql)
    allowed = READ_TABLE_FUNCTIONS | (_table_macros(con) if con is not None else frozenset())
    for role, name in _references(tree):
        _check_reference(role, name, allowed)
    return sql


def _check_reference(role: str, name: str, allowed_tables: frozenset[str]) -> None:
    if role == "table_function" and name not in allowed_tables:
        raise QueryError(
            f"{name}() is not allowed in ad-hoc SQL: it reads files or the network, runs other SQL or "
            "changes the database. Ad-hoc SQL reads the database's tables, generators (range, unnest, ...), "
            "the catalog (duckdb_tables(), ...) and the database's own table macros (call_costs(), ...)"
        )
    if role == "function" and name in _side_effect_functions():
        raise QueryError(
            f"{name}() has side effects (it changes a sequence, the session or the database, or holds "
            "the reader); ad-hoc SQL may not call it"
        )
    if role == "table" and _PATH_CHARACTERS & set(name):
        raise QueryError(f"{name!r} names a file; ad-hoc SQL reads the database's tables only")


def _references(tree: Any) -> Iterator[tuple[str, str]]:
    """(role, name) of every table, table function and function call in a parse tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind == "TABLE_FUNCTION":
                function = node["function"]
                yield "table_function", str(function["function_name"]).lower()
                stack.append(function.get("arguments", []))
                stack.extend(v for k, v in node.items() if k != "function")
                continue
            if kind == "BASE_TABLE":  # "/etc/passwd".csv parses as schema "/etc/passwd", table csv
                for part in ("catalog_name", "schema_name", "table_name"):
                    if node.get(part):
                        yield "table", str(node[part])
            elif "function_name" in node:
                yield "function", str(node["function_name"]).lower()
            stack.extend(node.values())


def _parse_tree(sql: str) -> Any:
    with _parser_lock:
        cur = _parser().cursor()
    try:
        row = cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    finally:
        cur.close()
    parsed = orjson.loads(row[0]) if row else {"error": True, "error_message": "no parse tree"}
    if parsed.get("error"):  # fail closed: a SELECT DuckDB cannot show us is not run
        raise QueryError(f"SQL cannot be checked: {parsed.get('error_message')}")
    return parsed["statements"]


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """A private in-memory database, locked down like every other, that only parses."""
    return connect(":memory:", read_only=False)


@cache
def _side_effect_functions() -> frozenset[str]:
    with _parser_lock:
        cur = _parser().cursor()
    try:
        marked = {str(r[0]) for r in cur.execute(load_sql("read/side_effect_functions.sql")).fetchall()}
    finally:
        cur.close()
    return frozenset(marked - _HARMLESS_VOLATILE | _STALLS)


def _table_macros(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    cur = con.cursor()
    try:
        return frozenset(str(r[0]) for r in cur.execute(load_sql("read/database_table_macros.sql")).fetchall())
    finally:
        cur.close()


def cut(table: pa.Table, max_rows: int) -> tuple[pa.Table, bool]:
    """The one truncation rule of every read: a read fetches up to `max_rows + 1` rows
    (`limited`, or a query's own LIMIT); the first `max_rows` are kept, and whether there
    were more is the flag (`x-outcrop-truncated`, the CLI's "output cut" line)."""
    return table.slice(0, max_rows), table.num_rows > max_rows


def limited(sql: str, max_rows: int) -> str:
    """Wrap a SELECT so that at most max_rows + 1 rows come back (the +1 tells truncation)."""
    # The newline ends a `--` comment still inside the statement.
    return f"SELECT * FROM (\n{_without_trailing_noise(sql)}\n) AS q LIMIT {int(max_rows) + 1}"


def _without_trailing_noise(sql: str) -> str:
    """The statement without the semicolons and comments that may follow it."""
    end = len(sql)
    for start, kind in reversed(duckdb.tokenize(sql)):
        text = sql[start:end].strip()
        if kind == duckdb.token_type.comment or (kind == duckdb.token_type.operator and set(text) == {";"}):
            end = start
            continue
        break
    return sql[:end].rstrip()


# Every timestamp the store holds is UTC (TIMESTAMP columns carry no zone): written as
# ISO 8601 with `Z`, so a reader never has to guess the zone.
JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def to_json(value: Any) -> bytes:
    """Any answer of the read API as JSON, timestamps in UTC with `Z`."""
    return orjson.dumps(value, default=_json_default, option=JSON_OPTIONS)


def to_json_rows(table: pa.Table, json_columns: frozenset[str] = frozenset()) -> bytes:
    """The rows as a JSON array of objects; `json_columns` hold JSON text, sent as JSON values."""
    rows = table.to_pylist()
    for column in json_columns & set(table.column_names):
        for row in rows:
            if isinstance(row[column], str):
                row[column] = orjson.Fragment(row[column])  # stored by us, so valid JSON
    return to_json(rows)


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
