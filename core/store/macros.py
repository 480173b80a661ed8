"""SQL helpers (macros) and views, created each time the writer opens the store.

They are code, not schema: a formula changes by editing its file under `sql/macros/`,
with no migration. The writer replaces them all (CREATE OR REPLACE) after the
migrations, macros before the views that use them, each folder in file-name order, and
records their fingerprint in one more macro (so `watermarks` stays the jobs' own).
DuckDB keeps them in the file, so a read-only connection (which cannot create them)
uses the writer's; it refuses a file whose helpers came from other SQL than this
code's, since it would compute other numbers than the server does.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import duckdb

from outcrop.core.errors import StoreLocked
from outcrop.core.sql import load_sql, sql_path

# Views are bound when created, so they come after every macro they call.
FOLDERS = ("macros", "views")
FINGERPRINT = "outcrop_macros_sha256"


def macro_files() -> list[Path]:
    """Every macro and view file, in the order they are created."""
    return [path for folder in FOLDERS for path in sorted(sql_path(folder).glob("*.sql"))]


@cache
def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in macro_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace every macro and view, in one transaction, and note which."""
    con.begin()
    try:
        for path in macro_files():
            con.execute(path.read_text())
        # A hex digest, so the literal needs no escaping; macro bodies take no parameters.
        con.execute(f"CREATE OR REPLACE MACRO {FINGERPRINT}() AS '{fingerprint()}'")
        con.commit()
    except duckdb.Error:
        con.rollback()
        raise


def check_macros(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Refuse a read-only file whose macros are not this code's (or are missing)."""
    rows = con.execute(load_sql("store/macros_fingerprint.sql")).fetchall()
    found = str(rows[0][0]) if rows else None
    if found != fingerprint():
        raise StoreLocked(
            f"database file {path!r} holds the SQL helpers of another Outcrop version (or none), "
            "and a read-only open cannot replace them. Open it once with the writer "
            "(`outcrop serve`, or `outcrop jobs run --all`), then read it again."
        )
