"""`outcrop jobs run [NAME…|--all]`: run jobs now, through the server or on the file."""

from __future__ import annotations

import argparse
import sys

import pyarrow as pa

from outcrop.analytics.jobs import EVERY_JOB, JOBS, SCHEDULED
from outcrop.cli.access import add_db_argument, cli_settings, with_store
from outcrop.cli.formatting import FORMATS, format_table
from outcrop.cli.progress import spinner, wanted


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    p = jobs_sub.add_parser("run", help="run jobs now")
    p.add_argument("names", nargs="*", help=f"job names from {', '.join(JOBS)} (default: the scheduled "
                   f"ones, {', '.join(SCHEDULED)})")
    p.add_argument("--all", action="store_true", help=f"run every job: {', '.join(EVERY_JOB)}")
    add_db_argument(p)
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from outcrop.analytics.jobs import run_jobs
    from outcrop.core.client import call
    from outcrop.core.clock import utcnow

    settings = cli_settings(args)
    # Explicit names, so a server that owns the file runs the same list
    names = list(EVERY_JOB) if args.all else list(args.names) or None
    with spinner(f"running {', '.join(names or SCHEDULED)}", wanted(args.format)):
        results = with_store(
            args.db, settings,
            lambda url: call(url, "/v1/admin/jobs", {"names": names}, token=settings.server.admin_token),
            lambda store: run_jobs(store, settings, names, utcnow()),
        )
    sys.stdout.write(format_table(pa.Table.from_pylist(results), args.format))
    return 0 if all(r.get("status") == "ok" for r in results) else 1
