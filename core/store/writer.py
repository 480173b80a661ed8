"""The one owner of the DuckDB file: migrations, one writer thread, read cursors.

DuckDB allows one read-write process per file, so `outcrop serve` opens it here and
everything that writes hands a function to the writer thread (datasette's single write
thread, Phoenix's bulk inserter). The writer runs queued functions in one transaction
(group commit) and acknowledges each only after COMMIT returned, so an acknowledged
write survives `kill -9`: DuckDB has written and synced its WAL by then.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from outcrop.core.clock import utcnow
from outcrop.core.errors import Overloaded, ShuttingDown, StoreLocked
from outcrop.core.sql import load_sql, sql_path
from outcrop.core.store.macros import check_macros, install_macros
from outcrop.core.store.read_limits import ReadBounds, run_bounded

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[duckdb.DuckDBPyConnection], Any]

MIGRATIONS_DIR = sql_path("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# DuckDB checkpoints inside the COMMIT that pushes its WAL past `checkpoint_threshold`,
# and every request in that commit group waits for it (~1 s at 256 MB). So the writer
# never checkpoints: a checkpointer thread does, on a cursor of its own, whenever the WAL
# passes CHECKPOINT_WAL_BYTES. DuckDB runs it beside the writer's transactions; commits
# still wait for parts of it, and on one core its CPU time is the writer's too, so
# latency during a checkpoint is still up to about a second (bench/README.md, ingest).
# Smaller WALs checkpoint more often for no better latency. The threshold stays as a
# backstop should the checkpointer fall behind. Every commit still syncs the WAL
# (durability is unchanged); only recovery after a crash replays more.
CHECKPOINT_THRESHOLD = "1GB"
CHECKPOINT_WAL_BYTES = 256 << 20
CHECKPOINT_POLL_SECONDS = 0.25
# Every connection, read-write included: no file but the database's own, no network, no
# extension installed or loaded behind our back (the wheel links json, parquet and icu in),
# no Python variables scanned as tables. The writer needs none of it: it inserts from
# registered Arrow tables and reads migrations in Python. `lock_configuration` then keeps
# any statement from turning it back on.
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


@dataclass
class _Work:
    fn: WriteFn
    future: Future[Any]


_STOP = object()


def _runs(group: list[_Work]) -> list[list[_Work]]:
    """Consecutive works whose functions share a `write_many`, run as one call.

    A write function may carry `write_many(con, fns) -> results` (e.g. one insert for
    many span batches); alone or beside others, it is called as a plain function.
    """
    runs: list[list[_Work]] = []
    for work in group:
        many = getattr(work.fn, "write_many", None)
        if runs and many is not None and getattr(runs[-1][0].fn, "write_many", None) == many:
            runs[-1].append(work)
        else:
            runs.append([work])
    return runs


def _call(run: list[_Work], con: duckdb.DuckDBPyConnection) -> list[Any]:
    if len(run) == 1:
        return [run[0].fn(con)]
    results: list[Any] = run[0].fn.write_many(con, [w.fn for w in run])  # type: ignore[attr-defined]
    return results


class Store:
    """Owns a DuckDB file opened read-write. Use `Store.open`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: str,
        *,
        queue_max: int = 256,
        group_max: int = 64,
    ) -> None:
        self.path = path
        self._con = con
        self._queue: queue.Queue[_Work | object] = queue.Queue(maxsize=queue_max)
        self._group_max = group_max
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="outcrop-writer", daemon=True)
        self._thread.start()
        self._checkpoints = threading.Event()  # set: stop checkpointing
        self._checkpointer: threading.Thread | None = None
        if path != ":memory:":
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="outcrop-checkpoint",
                                                  daemon=True)
            self._checkpointer.start()

    @classmethod
    def open(cls, path: str, *, queue_max: int = 256, group_max: int = 64,
             memory_limit: int | None = None) -> Store:
        con = connect(path, read_only=False, memory_limit=memory_limit)
        apply_migrations(con)
        _warm_up_arrow(con)
        return cls(con, path, queue_max=queue_max, group_max=group_max)

    # -- writes ---------------------------------------------------------------

    def submit(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> Future[T]:
        """Queue `fn` for the writer; its future resolves after COMMIT."""
        if self._closing:
            raise ShuttingDown("the server is shutting down")
        work = _Work(fn, Future())
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            raise Overloaded("write queue is full; retry later") from None
        return work.future

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T], timeout: float | None = None) -> T:
        """Run `fn(con)` in a transaction on the writer thread and wait for the commit."""
        if threading.current_thread() is self._thread:
            return fn(self._con)  # a write fn calling write(): already in the transaction
        future = self.submit(fn)
        return future.result(timeout)

    def queue_depth(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop_after = False
            while len(group) < self._group_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                group.append(item)
            self._commit_group([w for w in group if isinstance(w, _Work)])
            if stop_after:
                return

    def _commit_group(self, group: list[_Work]) -> None:
        results: list[Any] = []
        try:
            self._con.begin()
            for run in _runs(group):
                results.extend(_call(run, self._con))
            self._con.commit()
        except Exception as exc:  # noqa: BLE001 - handed to the caller through its future
            self._rollback()
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            # One bad function must not take its neighbours down: run each alone.
            for work in group:
                self._commit_group([work])
            return
        for work, result in zip(group, results, strict=True):
            work.future.set_result(result)

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # nothing to roll back
            self._con.rollback()

    def _checkpoint_loop(self) -> None:
        """Checkpoint whenever the WAL passes CHECKPOINT_WAL_BYTES, off the writer thread."""
        wal = Path(self.path + ".wal")
        cur = self._con.cursor()
        try:
            while not self._checkpoints.wait(CHECKPOINT_POLL_SECONDS):
                try:
                    size = wal.stat().st_size
                except OSError:
                    continue  # no WAL: nothing written since the last checkpoint
                if size < CHECKPOINT_WAL_BYTES:
                    continue
                try:
                    cur.execute("CHECKPOINT")
                except duckdb.Error as exc:  # e.g. a conflicting transaction: try at the next poll
                    log.debug("background checkpoint deferred: %s", exc)
        finally:
            cur.close()

    # -- reads ----------------------------------------------------------------

    def query(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        memory_budget: int | None = None,
    ) -> pa.Table:
        """Run a read on a cursor of its own (DuckDB MVCC: it sees committed data), stopped
        past `timeout` seconds or past `memory_budget` bytes of added working memory."""
        cur = self._con.cursor()
        try:
            return run_bounded(cur, sql, params, ReadBounds(timeout, memory_budget))
        finally:
            cur.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    # -- shutdown -------------------------------------------------------------

    def close(self, timeout: float = 60.0) -> None:
        """Stop taking writes, drain and commit what is queued, checkpoint, close."""
        if self._closing:
            return
        self._closing = True
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    log.error("writer queue did not drain in %.0fs", timeout)
                    break
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            log.warning("checkpoint at close failed: %s", exc)
        self._con.close()


def _warm_up_arrow(con: duckdb.DuckDBPyConnection) -> None:
    """Pay Arrow's one-off costs at start, not on the first acknowledged request.

    pyarrow imports pandas lazily on the first timestamp array (~0.75 s here), and
    DuckDB's first scan of a registered Arrow table has a start-up cost of its own.
    """
    table = pa.table({"t": pa.array([0], pa.timestamp("us"))})
    con.register("_warm_up", table)
    con.execute("SELECT count(*) FROM _warm_up").fetchall()
    con.unregister("_warm_up")


def connect(path: str, *, read_only: bool, memory_limit: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the file sandboxed (SANDBOX) and locked, with `memory_limit` bytes for the whole
    database (None: DuckDB's default, 80% of RAM), turning DuckDB's lock error into one that
    says what to do."""
    if read_only and path != ":memory:" and not Path(path).exists():
        raise StoreLocked(f"database file {path!r} does not exist yet; run `outcrop serve` or ingest first")
    config: dict[str, Any] = dict(SANDBOX)
    if memory_limit is not None:
        config["memory_limit"] = f"{int(memory_limit)}B"
    if not read_only:
        config["checkpoint_threshold"] = CHECKPOINT_THRESHOLD
    try:
        con = duckdb.connect(path, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLocked(
                f"database file {path!r} is held by another process ({_holder(str(exc))}). "
                "Stop that process, or point this one at another file with --db; while "
                "`outcrop serve` runs, use the CLI commands, which go through its API."
            ) from None
        raise
    if con.sql("SELECT current_setting('lock_configuration')").fetchall() != [(True,)]:
        _lock(con)  # else a database this process has open already, set up by its first connection
    if read_only and path != ":memory:":
        try:
            check_macros(con, path)
        except StoreLocked:
            con.close()
            raise
    return con


def _lock(con: duckdb.DuckDBPyConnection) -> None:
    # GLOBAL: cursors are connections of their own and take the database's default.
    # TimeZone belongs to the icu extension, so it cannot go in `config`.
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    con.execute("SET lock_configuration = true")


def _holder(message: str) -> str:
    match = re.search(r"PID (\d+)", message)
    return f"PID {match.group(1)}" if match else "see DuckDB's message: " + message.splitlines()[0]


def migration_files() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            raise RuntimeError(f"migration file name {path.name!r} must look like 0001_name.sql")
        found.append((int(match.group(1)), path))
    numbers = [n for n, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {numbers}")
    return found


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply, in number order, each migration not applied yet, each in its own transaction;
    then create or replace the macros and views (sql/macros/, sql/views/), which are not
    migrations. Returns the numbers applied."""
    applied = _migrate(con)
    install_macros(con)
    return applied


def _migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    con.execute(load_sql("store/create_schema_migrations.sql"))
    rows = con.execute(load_sql("store/applied_migrations.sql")).fetchall()
    done = {int(r[0]) for r in rows}
    applied = []
    for number, path in migration_files():
        if number in done:
            continue
        con.begin()
        try:
            con.execute(path.read_text())
            con.execute(load_sql("store/record_migration.sql"), [number, path.name, utcnow()])
            con.commit()
        except duckdb.Error:
            con.rollback()
            raise
        applied.append(number)
        log.info("applied migration %s", path.name)
    return applied


