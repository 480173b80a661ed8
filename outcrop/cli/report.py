"""`outcrop report`: usage, latency, cost and capacity tables, as text, CSV or JSON.

The report itself is `analytics.report.build_report`; this module parses the command
line and prints. `run_query_fn` runs the named queries on a local file or through a
running server's read API alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

import pyarrow as pa

from outcrop.analytics.queries import GROUP_KEYS, QueryError, parse_time
from outcrop.analytics.report import KINDS, RunQuery, build_report
from outcrop.cli.access import cli_settings, query_runner
from outcrop.cli.forecast import add_forecast_arguments, run_forecast_command
from outcrop.cli.formatting import FORMATS, format_table
from outcrop.core.clock import utcnow
from outcrop.core.settings import Settings

HELP = "usage, latency, cost and capacity tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    settings = cli_settings(args)
    if args.kind == "budgets":
        return run_budgets_command(args, query_runner(args.db, settings), settings)
    if args.kind == "forecast":
        return run_forecast_command(args, query_runner(args.db, settings), settings)
    return run_report_command(args, query_runner(args.db, settings), settings=settings)


def run_budgets_command(args: argparse.Namespace, run_query_fn: RunQuery, settings: Settings) -> int:
    """`outcrop report budgets [--at TIME]`: each budget's period as of --at (default: now)."""
    from outcrop.analytics.alerts.budgets import budget_rows

    try:
        at = parse_time(args.at, "--at") if args.at else utcnow()
        table = budget_rows(run_query_fn, settings.alerts.budgets, at)
    except (QueryError, ValueError) as exc:
        print(f"outcrop report: {exc}", file=sys.stderr)
        return 2
    print_report(table, args.fmt)
    return 0


def print_report(table: pa.Table, fmt: str, notes: Sequence[str] = ()) -> None:
    """The table on stdout, its notes (what is missing, what was left out) on stderr."""
    sys.stdout.write(format_table(table, fmt, human=True))
    for note in notes:
        print(f"outcrop report: {note}", file=sys.stderr)


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `outcrop report` (the caller adds --db and the like)."""
    parser.add_argument("kind", choices=(*KINDS, "budgets", "forecast"), help="which report")
    parser.add_argument("--at", help="budgets, forecast: ISO 8601 UTC time to report as of (default: now)")
    parser.add_argument("--from", dest="start", help="start, ISO 8601 UTC (default: 24h ago)")
    parser.add_argument("--to", dest="end", help="end, ISO 8601 UTC (default: now)")
    parser.add_argument("--by", default="", help=f"comma-separated group keys from {','.join(GROUP_KEYS)}")
    parser.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE",
        help="filter on a group key; repeat for more keys or values",
    )  # fmt: skip
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="table")
    add_forecast_arguments(parser)


def _parse_when(text: str | None, default: datetime, name: str) -> datetime:
    return parse_time(text, name) if text else default


def _parse_where(items: Sequence[str]) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise QueryError(f"--where {item!r}: expected KEY=VALUE")
        where.setdefault(key.strip(), []).append(value.strip())
    return where


def run_report_command(
    args: argparse.Namespace, run_query_fn: RunQuery, now: datetime | None = None, settings: Settings | None = None
) -> int:
    """Print the report; 0 on success, 2 on a bad argument (message on stderr)."""
    clock_now = now or utcnow()
    notes: list[str] = []
    try:
        end = _parse_when(args.end, clock_now, "to")
        start = _parse_when(args.start, end - timedelta(days=1), "from")
        by = [k.strip() for k in args.by.split(",") if k.strip()]
        table = build_report(run_query_fn, args.kind, start, end, by, _parse_where(args.where),
                             settings=settings, notes=notes)
    except (QueryError, ValueError) as exc:
        print(f"outcrop report: {exc}", file=sys.stderr)
        return 2
    print_report(table, args.fmt, notes)
    if getattr(run_query_fn, "truncated", False):  # the runner of outcrop.cli.access cuts at the row cap
        print(f"(output cut at {run_query_fn.limit} rows: server.query_max_rows)", file=sys.stderr)  # type: ignore[attr-defined]
    return 0
