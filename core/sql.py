"""Where the SQL statements live, and the one way to read them.

The statements are files under `sql/` (migrations, macros, ingest, rollups, queries,
read checks). In a source checkout that folder sits beside `core/`; installed, it is
`outcrop/sql` beside `outcrop/core` — the same relative place, so one path serves both.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def sql_path(relative: str) -> Path:
    """The file `sql/<relative>` (e.g. 'queries/usage.sql', or a folder like 'migrations')."""
    return SQL_DIR / relative


@cache
def load_sql(relative: str) -> str:
    """Text of a statement kept under sql/ (e.g. 'ingest/resolve_attribution.sql')."""
    return sql_path(relative).read_text()
