"""The store: one writer, group commit, migrations, a clear error when the file is held."""

from __future__ import annotations

import subprocess
import sys
import threading

import duckdb
import pytest

from outcrop.core.errors import QueryError, StoreLocked
from outcrop.core.store.writer import Store, apply_migrations, connect, migration_files


def test_write_returns_after_commit_and_reads_see_it(store: Store) -> None:
    store.write(lambda con: con.execute("INSERT INTO watermarks VALUES ('w', '1', now())"))
    assert store.query("SELECT value FROM watermarks WHERE name = ?", ["w"]).to_pylist() == [{"value": "1"}]


def test_a_failing_write_does_not_take_its_group_down(store: Store) -> None:
    release, busy = threading.Event(), threading.Event()
    store.submit(lambda con: (busy.set(), release.wait(10)))
    assert busy.wait(10)
    # queued behind the blocker, these three commit as one group
    good1 = store.submit(lambda con: con.execute("INSERT INTO watermarks VALUES ('a', '1', now())"))
    bad = store.submit(lambda con: con.execute("INSERT INTO no_such_table VALUES (1)"))
    good2 = store.submit(lambda con: con.execute("INSERT INTO watermarks VALUES ('b', '2', now())"))
    release.set()
    good1.result(10)
    good2.result(10)
    with pytest.raises(duckdb.CatalogException):
        bad.result(10)
    names = store.query("SELECT name FROM watermarks ORDER BY name").column(0).to_pylist()
    assert names == ["a", "b"]


def test_close_drains_queued_writes(db_path: str) -> None:
    store = Store.open(db_path)
    futures = [store.submit(lambda con, i=i: con.execute(
        "INSERT INTO watermarks VALUES (?, 'v', now())", [f"k{i}"])) for i in range(50)]
    store.close()
    assert all(f.done() for f in futures)
    con = connect(db_path, read_only=True)
    assert con.execute("SELECT count(*) FROM watermarks").fetchone() == (50,)
    con.close()


def test_migrations_apply_once_in_order(db_path: str) -> None:
    con = connect(db_path, read_only=False)
    first = apply_migrations(con)
    assert first == [n for n, _ in migration_files()]
    assert first == sorted(first) and first[0] == 1
    assert apply_migrations(con) == []
    con.close()


def test_file_held_by_another_process_names_the_file(db_path: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
         db_path],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLocked) as err:
            Store.open(db_path)
        message = str(err.value)
        assert db_path in message
        assert f"PID {holder.pid}" in message
        assert "--db" in message
    finally:
        holder.kill()
        holder.wait()


def test_read_query_times_out(store: Store) -> None:
    with pytest.raises(QueryError, match=r"longer than 0\.2 s \(server\.query_timeout_seconds\)"):
        store.query("SELECT count(*) FROM range(100000000000) a", timeout=0.2)


