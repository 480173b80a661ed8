"""`outcrop sql`: one read-only statement, through the server or on the file."""

from __future__ import annotations

import argparse
import sys

import pyarrow as pa

from outcrop.cli.access import cli_settings
from outcrop.cli.formatting import FORMATS, format_table
from outcrop.core.settings import Settings
from outcrop.core.store.readonly import cut

HELP = "run one read-only SQL statement"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("statement", help="a single SELECT statement")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--limit", type=int, help="at most this many rows")


def run(args: argparse.Namespace) -> int:
    from outcrop.core.client import query_table, running_server

    settings = cli_settings(args)
    max_rows = args.limit or settings.server.query_max_rows
    url = running_server(args.db)
    if url is not None:
        table, truncated = query_table(url, args.statement, max_rows, settings.server.admin_token)
    else:
        table, truncated = cut(_sql_on_file(args.db, args.statement, max_rows, settings), max_rows)
    sys.stdout.write(format_table(table, args.format))
    if truncated:
        print(f"(output cut at {max_rows} rows)", file=sys.stderr)
    return 0


def _sql_on_file(db: str, statement: str, max_rows: int, settings: Settings) -> pa.Table:
    """`outcrop sql` with no server: the same checks and bounds as the server's /v1/sql."""
    from outcrop.core.store.read_limits import ReadBounds, run_bounded
    from outcrop.core.store.readonly import check_read_only, limited
    from outcrop.core.store.writer import connect

    cfg = settings.server
    con = connect(db, read_only=True, memory_limit=cfg.memory_limit)
    try:
        check_read_only(statement, con)
        bounds = ReadBounds(cfg.query_timeout_seconds, cfg.query_memory_limit)
        return run_bounded(con, limited(statement, max_rows), None, bounds)
    finally:
        con.close()
