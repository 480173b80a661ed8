"""`outcrop report forecast`: each group's daily peaks forecast for the next days, with
their prediction interval and the quota where one is known.

The forecast is `analytics.forecast.forecast_table`, computed here from the named query
`daily_peaks`, which the runner reads on the local file or through the running server's
read API alike; the server's `POST /v1/reports/forecast` answers the same table for the
dashboard. Groups with too little history get a line on stderr saying so instead of rows.
"""

from __future__ import annotations

import argparse
import sys

from outcrop.analytics.forecast import (
    DEFAULT_HORIZON_DAYS,
    HISTORY_DAYS,
    LEVEL,
    MAX_REPORT_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    RunQuery,
    forecast_table,
)
from outcrop.analytics.queries import QueryError, parse_time
from outcrop.core.clock import utcnow
from outcrop.core.settings import Settings

DEFAULT_BY = "model,region"


def add_forecast_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments only `outcrop report forecast` takes (it shares --by, --where, --at)."""
    parser.add_argument("--horizon-days", type=int, default=DEFAULT_HORIZON_DAYS,
                        help=f"forecast: days ahead, {MIN_HORIZON_DAYS} to {MAX_REPORT_HORIZON_DAYS} "
                             f"(default {DEFAULT_HORIZON_DAYS})")
    parser.add_argument("--history-days", type=int, default=HISTORY_DAYS,
                        help=f"forecast: complete days before --at's day to fit (default {HISTORY_DAYS})")


def run_forecast_command(args: argparse.Namespace, run_query_fn: RunQuery, settings: Settings) -> int:
    """Print the forecast as of --at (default now); 0 on success, 2 on a bad argument."""
    from outcrop.cli.report import _parse_where, print_report  # the one --where rule, one output

    by = [k.strip() for k in (args.by or DEFAULT_BY).split(",") if k.strip()]
    try:
        at = parse_time(args.at, "--at") if args.at else utcnow()
        table, notes = forecast_table(run_query_fn, settings, by, _parse_where(args.where), at,
                                      args.horizon_days, args.history_days)
    except (QueryError, ValueError) as exc:
        print(f"outcrop report: {exc}", file=sys.stderr)
        return 2
    print_report(table, args.fmt, notes)
    if table.num_rows:
        print(f"(bounds: the {LEVEL}% prediction interval)", file=sys.stderr)
    return 0

