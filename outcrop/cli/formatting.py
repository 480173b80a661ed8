"""Tables for people (aligned text) and scripts (CSV, JSON array of row objects).

Every format ends with a newline, so callers write the text as it is.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

FORMATS = ("table", "csv", "json")


def format_table(table: pa.Table, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows = [[_value(v) for v in row.values()] for row in table.to_pylist()]
    if fmt == "json":
        objects = [dict(zip(table.column_names, row, strict=True)) for row in rows]
        return orjson.dumps(objects, default=str, option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows([["" if v is None else _cell(v) for v in row] for row in rows])
        return out.getvalue()
    return _text_table(table, rows)


def _value(value: Any) -> Any:
    """NaN is unknown, like NULL; decimals (exact sums) are numbers to a reader."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text_table(table: pa.Table, rows: list[list[Any]], max_width: int = 60) -> str:
    names = table.column_names
    cells = [["NULL" if v is None else _cell(v)[:max_width] for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
               for t in table.schema.types]

    def line(parts: list[str]) -> str:
        aligned = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(parts, widths, numeric, strict=True)]
        return "  ".join(aligned).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"
