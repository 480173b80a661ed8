"""Usage, latency, cost and capacity reports over the named queries.

`build_report` takes a `run(name, params) -> pyarrow.Table` so that the CLI can run the
named queries on a local file or through a running server's read API alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from outcrop.analytics.queries import GROUP_KEYS, QueryError

RunQuery = Callable[[str, dict[str, Any]], pa.Table]
KINDS: tuple[str, ...] = ("usage", "latency", "cost", "capacity")


def build_report(
    run: RunQuery,
    kind: str,
    start: datetime,
    end: datetime,
    by: Sequence[str],
    where: Mapping[str, str | list[str]],
) -> pa.Table:
    """The `kind` report over [start, end), one row per group, grouping keys first.

    Only the keys in `by` are kept as columns (the query NULLs the others).
    """
    if kind not in KINDS:
        raise QueryError(f"unknown report {kind!r}; choose one of {', '.join(KINDS)}")
    table = run(kind, {"from": start, "to": end, "by": list(by), "where": dict(where)})
    dropped = [k for k in GROUP_KEYS if k not in by and k in table.column_names]
    return table.drop_columns(dropped)
