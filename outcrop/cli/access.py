"""What every data command shares: which database file, the settings, and the two ways
to reach the data (the server that owns the file, or the file itself when none runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from outcrop.core.settings import Settings, load_settings

DB_HELP = "DuckDB file (default: $OUTCROP_DB, then `db` in outcrop.toml, then ./outcrop.duckdb)"


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    # No default here: the flag wins only when given, so the configuration can decide.
    parser.add_argument("--db", default=None, help=DB_HELP)


def cli_settings(args: argparse.Namespace) -> Settings:
    """The settings, with `args.db` resolved: --db, then $OUTCROP_DB, then `db` in
    outcrop.toml, then the default (the settings already rank the last three)."""
    settings = load_settings()
    if getattr(args, "db", None) is None:
        args.db = settings.db
    elif args.db != settings.db:
        settings = settings.model_copy(update={"db": args.db})
    return settings


def with_store(db: str, settings: Settings, remote: Callable[[str], Any],
               local: Callable[[Any], Any]) -> Any:
    """Run through the server that owns `db`, or open the file when none runs."""
    from outcrop.core.client import running_server
    from outcrop.core.store.writer import Store

    url = running_server(db)
    if url is not None:
        return remote(url)
    store = Store.open(db)
    try:
        return local(store)
    finally:
        store.close()


class QueryRunner:
    """Runs named queries through the server when one owns `db`, else read-only on the
    file, cut at server.query_max_rows by the one truncation rule; `truncated` says
    whether the last answer had more rows."""

    def __init__(self, db: str, settings: Settings) -> None:
        from outcrop.core.client import running_server

        self.db = db
        self.settings = settings
        self.limit = settings.server.query_max_rows
        self.url = running_server(db)
        self.truncated = False

    def __call__(self, name: str, params: dict[str, Any]) -> pa.Table:
        if self.url is not None:
            from outcrop.core.client import query_named

            table, self.truncated = query_named(self.url, name, params, self.limit,
                                                self.settings.server.api_token)
            return table
        from outcrop.analytics.queries import run_query
        from outcrop.core.store.readonly import cut
        from outcrop.core.store.writer import connect

        con = connect(self.db, read_only=True)
        try:
            table, self.truncated = cut(run_query(con, name, params, self.limit + 1), self.limit)
        finally:
            con.close()
        return table


def query_runner(db: str, settings: Settings) -> QueryRunner:
    """A named-query runner: through the server when one runs, else read-only on the file."""
    return QueryRunner(db, settings)
