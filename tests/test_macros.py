"""Macros and views are created when the store opens, not by migrations; watermarks
have one owner (core/store/watermarks.py)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from outcrop.core.errors import StoreLocked
from outcrop.core.store import watermarks
from outcrop.core.store.macros import macro_files
from outcrop.core.store.writer import MIGRATIONS_DIR, Store, connect

OLD_MIGRATIONS = Path(__file__).parent / "testdata" / "migrations_v1"
NOW = datetime(2026, 11, 20, 12, 0)


def _migrate_with_old_files(path: str) -> None:
    """A database as the version whose migrations still defined the macros left it."""
    con = duckdb.connect(path)
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMP NOT NULL)")
    for number, migration in enumerate(sorted(OLD_MIGRATIONS.glob("*.sql")), start=1):
        con.execute(migration.read_text())
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, migration.name, NOW])
    # a formula the old file holds that the current macro files replace
    con.execute("CREATE OR REPLACE MACRO otps(output_tokens, ttft_ms, ttlt_ms) AS 42.0")
    con.close()


def _user_macros(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT DISTINCT function_name FROM duckdb_functions() "
                       "WHERE function_type IN ('macro', 'table_macro') AND NOT internal"
                       " AND function_name <> 'outcrop_macros_sha256'").fetchall()
    return {str(r[0]) for r in rows}


def test_migrations_define_tables_only() -> None:
    defining = [p.name for p in MIGRATIONS_DIR.glob("*.sql")
                if re.search(r"CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?(MACRO|VIEW)", p.read_text(), re.I)]
    assert defining == []


def test_every_macro_is_created_from_sql_macros(db_path: str) -> None:
    defined = set()
    for path in macro_files():
        defined |= {m.lower() for m in re.findall(r"CREATE OR REPLACE MACRO (\w+)", path.read_text())}
    store = Store.open(db_path)
    try:
        assert _user_macros(store.cursor()) == defined
        assert {"call_costs", "plausible_calls", "hist_quantile", "otps", "bin_percentiles"} <= defined
        views = store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1")
        assert views.column(0).to_pylist() == ["rollup_1d", "rollup_1h", "rollup_1m"]
    finally:
        store.close()


def test_database_from_the_old_migrations_opens_with_the_current_macros(db_path: str) -> None:
    _migrate_with_old_files(db_path)
    store = Store.open(db_path)
    try:
        applied = store.query("SELECT count(*) AS n FROM schema_migrations").column(0).to_pylist()
        # the old five are not re-applied; only the migrations added since them run
        assert applied == [len(list(MIGRATIONS_DIR.glob("*.sql")))]
        assert store.query("SELECT otps(11, 100, 1100) AS v").column(0).to_pylist() == [11.0]
        assert store.query("SELECT count(*) FROM call_costs(TIMESTAMP '2026-01-01', TIMESTAMP '2027-01-01')"
                           ).column(0).to_pylist() == [0]
        assert store.query("SELECT count(*) FROM rollup_1d").column(0).to_pylist() == [0]
    finally:
        store.close()


def test_read_only_open_refuses_a_file_with_another_versions_macros(db_path: str) -> None:
    _migrate_with_old_files(db_path)
    with pytest.raises(StoreLocked, match=r"SQL helpers of another Outcrop version.*outcrop serve"):
        connect(db_path, read_only=True)
    Store.open(db_path).close()  # the writer replaces them once
    con = connect(db_path, read_only=True)
    try:
        assert con.execute("SELECT otps(11, 100, 1100)").fetchone() == (11.0,)
    finally:
        con.close()


def test_macros_are_created_on_the_locked_connection(store: Store) -> None:
    cur = store.cursor()
    assert cur.execute("SELECT current_setting('lock_configuration')").fetchone() == (True,)
    assert cur.execute("SELECT hist_quantile(10, 10, 0.0)").fetchone() == pytest.approx((2 * 1.04**10 / 2.04,))


def test_watermarks_get_set_and_advance(store: Store) -> None:
    assert watermarks.get(store, "source:x") is None
    store.write(lambda con: watermarks.set(con, "source:x", "2026/11/20/10", NOW))
    store.write(lambda con: watermarks.advance(con, "source:x", "2026/11/20/09", NOW))
    assert watermarks.get(store, "source:x") == "2026/11/20/10"
    store.write(lambda con: watermarks.advance(con, "source:x", "2026/11/20/11", NOW))
    store.write(lambda con: watermarks.set_time(con, "job.until", NOW, NOW))
    assert watermarks.get(store, "source:x") == "2026/11/20/11"
    assert watermarks.get_time(store.cursor(), "job.until") == NOW


def test_only_the_watermarks_module_reads_or_writes_watermarks() -> None:
    root = Path(__file__).resolve().parent.parent
    touching = [str(p.relative_to(root)) for floor in ("core", "collector", "analytics", "outcrop")
                for p in (root / floor).rglob("*.py") if not p.is_symlink()
                and re.search(r"(FROM|INTO)\s+watermarks\b", p.read_text(), re.I)]
    assert touching == []
