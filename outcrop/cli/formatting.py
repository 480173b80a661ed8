"""Tables for people (aligned text) and scripts (CSV, JSON array of row objects).

Every format ends with a newline, so callers write the text as it is. With `human`, the
text table shows each number as its column's kind reads (RULES, decided by column name:
tokens, rates, money, latency); CSV and JSON always keep full precision for scripts.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

import orjson
import pyarrow as pa

FORMATS = ("table", "csv", "json")


def format_table(table: pa.Table, fmt: str, human: bool = False) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows = [[_value(v) for v in row.values()] for row in table.to_pylist()]
    if fmt == "json":
        objects = [dict(zip(table.column_names, row, strict=True)) for row in rows]
        # every stored time is UTC: ISO 8601 with Z, as the read API answers
        options = orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
        return orjson.dumps(objects, default=str, option=options).decode() + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows([["" if v is None else _csv_cell(v) for v in row] for row in rows])
        return out.getvalue()
    return _text_table(table, rows, human)


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


def _csv_cell(value: Any) -> str:
    """Full precision for scripts: every digit of a float, UTC times with Z."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        utc = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
        return utc.isoformat() + "Z"
    return _cell(value)


def _text_table(table: pa.Table, rows: list[list[Any]], human: bool, max_width: int = 60) -> str:
    names = table.column_names
    show = human_cell if human else (lambda _, v: _cell(v))
    cells = [["NULL" if v is None else show(n, v)[:max_width] for n, v in zip(names, row, strict=True)]
             for row in rows]
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


def _significant(value: float, digits: int = 2) -> str:
    """Fixed-point with at least `digits` significant digits: 0.0042187 -> '0.0042'."""
    decimals = max(2, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def _money(value: float) -> str:
    # a tiny non-zero cost (per request) must not read as $0.00
    text = f"{abs(value):,.2f}" if value == 0 or abs(value) >= 0.01 else _significant(abs(value))
    return f"{'-' if value < 0 else ''}${text}"


def _percent(value: float) -> str:
    pct = value * 100
    return f"{pct:.2f}%" if pct == 0 or abs(pct) >= 0.01 else f"{_significant(pct)}%"


def _tokens(value: float) -> str:
    # percentiles and means come from histograms: a fraction of a token means nothing
    return f"{round(value):,}"


def _millis(value: float) -> str:
    return f"{value:,.0f} ms" if abs(value) >= 100 else f"{value:.1f} ms"


def _decimal(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


# (column-name pattern, how its numbers read); the first pattern that matches decides.
RULES: tuple[tuple[str, Callable[[float], str]], ...] = (
    ("cost_usd*", _money),
    ("*_usd", _money),
    ("*_usd_*", _money),
    ("*_rate", _percent),
    ("*_share", _percent),
    ("*_utilisation", _percent),
    ("*_ms_*", _millis),
    ("*_ms", _millis),
    ("*tokens*", _tokens),
    ("otps*", _decimal),
    ("*_rpm", _decimal),
    ("*_tpm", _decimal),
    ("*_rpm_lo", _decimal),
    ("*_rpm_hi", _decimal),
    ("*_tpm_lo", _decimal),
    ("*_tpm_hi", _decimal),
)


def human_cell(column: str, value: Any) -> str:
    """One cell of a table for people: numbers by their column's rule, the rest as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _cell(value)
    for pattern, show in RULES:
        if fnmatchcase(column, pattern):
            return show(value)
    return f"{value:,}" if isinstance(value, int) else _cell(value)
