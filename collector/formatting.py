"""Tables for people (aligned text) and scripts (CSV, JSON array of row objects)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import orjson
import pyarrow as pa

FORMATS = ("table", "csv", "json")


def format_table(table: pa.Table, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(table.to_pylist(), default=str, option=orjson.OPT_INDENT_2).decode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow(["" if v is None else _cell(v) for v in row.values()])
        return out.getvalue().rstrip("\n")
    if fmt == "table":
        return _text_table(table)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _text_table(table: pa.Table, max_width: int = 60) -> str:
    names = table.column_names
    rows = [["NULL" if v is None else _cell(v)[:max_width] for v in r.values()] for r in table.to_pylist()]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
               for t in table.schema.types]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
