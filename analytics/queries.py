"""Named read queries (`sql/queries/*.sql`): validated parameters in, pyarrow.Table out.

The dashboard, the read API and `outcrop report` call only these. Each file's header
names the public parameters it takes (`-- params: from, to, by, where`). Grouping never
turns user strings into SQL: `by` becomes bound booleans (one per key) that keep or NULL each
whitelisted key column, and `where` becomes bound lists, so every file is static
SQL with bound values only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from pydantic import ValidationError

from outcrop.analytics.rollups import DAYS_UNTIL
from outcrop.analytics.windows import HOUR, ceil_to, floor_to, minutes_in, split_range
from outcrop.core.errors import QueryError as QueryError  # re-exported: the report catches it
from outcrop.core.settings import MAX_QUERY_ROWS, StagesSettings
from outcrop.core.sql import load_sql, sql_path
from outcrop.core.store import watermarks

QUERY_DIR = sql_path("queries")
ROLLUP_KEYS: tuple[str, ...] = ("tenant", "route", "workflow", "model", "region")
# Keys the rollups do not keep: grouping or filtering by one reads llm_calls instead
# (CALL_KEY_QUERIES), which scans the calls of the time range rather than the rollups.
CALL_KEYS: tuple[str, ...] = ("prompt_version", "feature", "user_id")
GROUP_KEYS: tuple[str, ...] = ROLLUP_KEYS + CALL_KEYS
CALL_KEY_QUERIES: dict[str, str] = {"usage": "usage_calls", "cost": "cost_calls"}
GRAINS: tuple[str, ...] = ("1m", "1h", "1d")
CALL_STATUSES: tuple[str, ...] = ("ok", "error", "throttled")
MAX_ROWS = MAX_QUERY_ROWS  # server.query_max_rows is bounded by the same constant
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
# The times a read may ask for: telemetry holds nothing before the Unix epoch (OTLP counts
# from it), and day and hour arithmetic near year 9999 overflows Python's datetime.
EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(2200, 1, 1)



class Reader(Protocol):
    """The part of outcrop.core.store.writer.Store a read needs."""

    def query(self, sql: str, params: Any = None) -> pa.Table: ...


Source = duckdb.DuckDBPyConnection | Reader


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    sql: str
    params: tuple[str, ...]
    requires: str | None
    columns: tuple[str, ...]
    keys: tuple[str, ...]  # the group keys it can group and filter by; empty: all of GROUP_KEYS


@cache
def load_query(name: str) -> NamedQuery:
    if name not in available():
        raise QueryError(f"unknown query {name!r}; known: {', '.join(available())}")
    text = (QUERY_DIR / f"{name}.sql").read_text()
    header = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        key, sep, value = line[2:].strip().partition(":")
        if sep and key in ("params", "requires", "columns", "keys"):
            header[key] = value.strip()
    return NamedQuery(
        name=name,
        sql=text.strip().rstrip(";"),
        params=_split(header.get("params", "")),
        requires=header.get("requires") or None,
        columns=_split(header.get("columns", "")),
        keys=_split(header.get("keys", "")),
    )


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


@cache
def available() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in QUERY_DIR.glob("*.sql")))


def run_query(source: Source, name: str, params: Mapping[str, Any], row_limit: int = 10_000) -> pa.Table:
    """Run the named query with validated, bound parameters; at most `row_limit` rows.

    `usage` and `cost` grouped or filtered by a key the rollups do not keep (CALL_KEYS)
    run as `usage_calls` / `cost_calls`: the same columns, from the calls of the range.
    """
    query = load_query(_for_keys(name, params))
    unknown = sorted(set(params) - set(query.params))
    if unknown:
        raise QueryError(
            f"query {name!r} takes no parameter {', '.join(map(repr, unknown))}; it takes: {', '.join(query.params)}"
        )
    _check_keys(query, params)
    # + 1: a caller may fetch one row past its cap to tell that the answer was cut
    if not isinstance(row_limit, int) or not 0 < row_limit <= MAX_ROWS + 1:
        raise QueryError(f"row_limit must be an integer from 1 to {MAX_ROWS}")
    if query.requires is not None and not _table_exists(source, query.requires):
        return pa.table({c: pa.array([], pa.null()) for c in query.columns})
    bound = _bind(source, query, params)
    sql = f"SELECT * FROM ({query.sql}) LIMIT {row_limit:d}"
    used = set(_PARAM.findall(query.sql))
    return _execute(source, sql, {k: v for k, v in bound.items() if k in used})


def _for_keys(name: str, params: Mapping[str, Any]) -> str:
    """The query that can answer `name` for the keys in `by` and `where`."""
    by, where = params.get("by"), params.get("where")
    keys = set(by if isinstance(by, list | tuple) else []) | set(where if isinstance(where, Mapping) else {})
    wanted = sorted(keys & set(CALL_KEYS))
    if not wanted or name in CALL_KEY_QUERIES.values() or set(wanted) <= set(load_query(name).keys):
        return name  # the query reads the calls themselves and says so in its `-- keys:` header
    if name in CALL_KEY_QUERIES:
        return CALL_KEY_QUERIES[name]
    raise QueryError(f"{name!r} cannot group or filter by {', '.join(map(repr, wanted))}: the rollups it "
                     f"reads do not keep them; the {', '.join(CALL_KEY_QUERIES)} reports can")


def _check_keys(query: NamedQuery, params: Mapping[str, Any]) -> None:
    """Refuse a group or filter key the query's `-- keys:` header does not list."""
    by, where = params.get("by"), params.get("where")
    asked = set(by if isinstance(by, list | tuple) else []) | set(where if isinstance(where, Mapping) else {})
    refused = sorted(k for k in asked & set(GROUP_KEYS) if query.keys and k not in query.keys)
    if refused:
        raise QueryError(f"{query.name!r} cannot group or filter by {', '.join(map(repr, refused))}; "
                         f"it keeps only {', '.join(query.keys)}")


def _bind(source: Source, query: NamedQuery, params: Mapping[str, Any]) -> dict[str, Any]:
    bound: dict[str, Any] = {}
    takes = set(query.params)
    if "from" in takes:
        bound.update(_range(source, params))
    if "by" in takes:
        bound.update(_by(params.get("by", [])))
    if "where" in takes or "by" in takes:
        bound.update(_where(params.get("where", {})))
    if "grain" in takes:
        grain = params.get("grain", "1h")
        if grain not in GRAINS:
            raise QueryError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
        bound["grain"] = grain
    for name in ("trace_id", "call_id"):
        if name in takes:
            # over a range they narrow a search; without one they name what the query reads
            bound[name] = _text(params, name) if "from" not in takes or params.get(name) is not None else None
    bound.update(_search(params, takes))
    if "stages" in takes:
        bound.update(_stages(params.get("stages")))
    if "limit" in takes:
        bound["limit"] = _limit(params.get("limit", 20))
    return bound


def _range(source: Source, params: Mapping[str, Any]) -> dict[str, Any]:
    start, end = _when(params, "from"), _when(params, "to")
    if end <= start:
        raise QueryError("'to' must be after 'from'")
    span = split_range(start, end, days_until(source))
    lo, hi = floor_to(start, timedelta(minutes=1)), ceil_to(end, timedelta(minutes=1))
    return {
        **span.params(),
        "lo": lo,
        "hi": hi,
        "hour_lo": floor_to(lo, HOUR),
        "hour_hi": ceil_to(hi, HOUR),
        "minutes": float(minutes_in(start, end)),
    }


def _when(params: Mapping[str, Any], name: str) -> datetime:
    value = params.get(name)
    if value is None:
        raise QueryError(f"parameter {name!r} is required (ISO 8601 UTC timestamp)")
    return parse_time(value, name)


def parse_time(value: Any, name: str) -> datetime:
    """A time parameter (ISO 8601 text or datetime) as naive UTC, or a QueryError naming it."""
    given = value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(f"parameter {name!r}: not an ISO 8601 timestamp: {value!r}") from None
    if not isinstance(value, datetime):
        raise QueryError(f"parameter {name!r} must be a timestamp, not {type(value).__name__}")
    try:
        utc = _to_utc(value) if value.tzinfo is not None else value
    except OverflowError:  # an offset that pushes year 1 or 9999 past the calendar
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise QueryError(f"parameter {name!r} must be from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC), "
                         f"got {str(given)!r}")
    return utc


def _to_utc(value: datetime) -> datetime:
    offset = value.utcoffset() or timedelta(0)
    return (value - offset).replace(tzinfo=None)


def _by(by: Any) -> dict[str, bool]:
    if isinstance(by, str) or not isinstance(by, list | tuple):
        raise QueryError("parameter 'by' must be a list of group keys")
    for key in by:
        if key not in GROUP_KEYS:
            raise QueryError(f"unknown group key {key!r}; allowed: {', '.join(GROUP_KEYS)}")
    return {f"by_{key}": key in by for key in GROUP_KEYS}


def _where(where: Any) -> dict[str, list[str] | None]:
    if not isinstance(where, Mapping):
        raise QueryError("parameter 'where' must be a mapping of group key to value(s)")
    out: dict[str, list[str] | None] = {f"f_{key}": None for key in GROUP_KEYS}
    for key, value in where.items():
        if key not in GROUP_KEYS:
            raise QueryError(f"unknown filter key {key!r}; allowed: {', '.join(GROUP_KEYS)}")
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise QueryError(f"filter {key!r} must be a string or a list of strings")
        out[f"f_{key}"] = list(values)
    return out


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise QueryError(f"parameter {name!r} is required and must be a non-empty string")
    return value


def _search(params: Mapping[str, Any], takes: set[str]) -> dict[str, Any]:
    """The optional narrowing parameters of a search (trace_search); absent ones bind NULL."""
    bound: dict[str, Any] = {}
    if "status" in takes:
        status = params.get("status")
        if status is not None and status not in CALL_STATUSES:
            raise QueryError(f"parameter 'status' must be one of {', '.join(CALL_STATUSES)}, not {status!r}")
        bound["status"] = status
    for name in ("min_duration_ms", "min_cost_usd"):
        if name in takes:
            value = params.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not 0 <= value < float("inf")):
                raise QueryError(f"parameter {name!r} must be a number, 0 or more")
            bound[name] = None if value is None else float(value)
    if "request_id" in takes:
        bound["request_id"] = _text(params, "request_id") if params.get("request_id") is not None else None
    return bound


def _stages(value: Any) -> dict[str, Any]:
    """The [stages] mapping as two parallel bound lists (stage, lower-case pattern) in the
    order they are tried, and the stage of unmatched LLM calls; never spliced into SQL."""
    if value is None:
        raise QueryError("parameter 'stages' is required: the [stages] settings ({'map': {stage: [patterns]}, "
                         "'llm_stage': stage}); POST /v1/reports/stage_latency fills it from the server's")
    try:
        stages = StagesSettings.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f".{part}" for part in first["loc"])
        raise QueryError(f"parameter 'stages{where}': {first['msg']}") from None
    pairs = [(stage, pattern.lower()) for stage, patterns in stages.map.items() for pattern in patterns]
    return {"stage_names": [stage for stage, _ in pairs], "stage_patterns": [pattern for _, pattern in pairs],
            "stage_order": list(stages.map), "llm_stage": stages.llm_stage}


def _limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ROWS:
        raise QueryError(f"parameter 'limit' must be an integer from 1 to {MAX_ROWS}")
    return value


def _execute(source: Source, sql: str, params: dict[str, Any]) -> pa.Table:
    if isinstance(source, duckdb.DuckDBPyConnection):
        # a cursor of its own, as Store.query does: the caller may hold an open result
        cur = source.cursor()
        try:
            return cur.sql(sql, params=params).to_arrow_table()
        finally:
            cur.close()
    return source.query(sql, params)


def _table_exists(source: Source, table: str) -> bool:
    found = _execute(source, load_sql("read/table_exists.sql"), {"t": table})
    return bool(found.column("n")[0].as_py())


def days_until(source: Source) -> datetime | None:
    """How far rollup_1d holds complete days (set by the rollup job)."""
    if not isinstance(source, duckdb.DuckDBPyConnection):
        return watermarks.get_time(source, DAYS_UNTIL)
    cur = source.cursor()  # as _execute: the caller may hold an open result
    try:
        return watermarks.get_time(cur, DAYS_UNTIL)
    finally:
        cur.close()
