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


def query_runner(db: str, settings: Settings) -> Callable[[str, dict[str, Any]], pa.Table]:
    """A named-query runner: through the server when one runs, else read-only on the file."""
    from outcrop.core.client import call, running_server

    url = running_server(db)
    limit = settings.server.query_max_rows
    if url is not None:
        def remote(name: str, params: dict[str, Any]) -> pa.Table:
            table: pa.Table = call(url, f"/v1/queries/{name}", {"params": params, "limit": limit},
                                   arrow=True, token=settings.server.api_token)
            return table
        return remote

    from outcrop.analytics.queries import run_query
    from outcrop.core.store.writer import connect

    def local(name: str, params: dict[str, Any]) -> pa.Table:
        con = connect(db, read_only=True)
        try:
            return run_query(con, name, params, limit)
        finally:
            con.close()
    return local
