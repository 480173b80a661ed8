"""`outcrop demo`: a server, a realistic demo workload, jobs, and a summary."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from outcrop.cli.access import cli_settings
from outcrop.core.errors import OutcropError

HELP = "start a server, send a realistic demo workload, run jobs, summarise"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history-days", type=float, default=15.0,
                        help="days of history to backfill (15: two whole weeks give the forecast its weekly pattern)")
    parser.add_argument("--traces-per-hour", type=int, default=24, help="average traced requests per hour")
    parser.add_argument("--now", type=_time, default=None,
                        help="ISO 8601 UTC time the demo takes for now (default: the real time); "
                             "the workload ends then and jobs and alerts run as of then")
    parser.add_argument("--exit", action="store_true", help="stop the server after the summary")
    parser.add_argument("--fresh", action="store_true", help="delete the database and demo logs first")
    parser.add_argument("--http-port", type=int, default=4318)
    parser.add_argument("--grpc-port", type=int, default=4317)
    parser.add_argument("--api-port", type=int, default=4320)
    parser.add_argument("--dashboard-port", type=int, default=8501,
                        help="port of the dashboard started after the summary (not with --exit)")
    parser.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")


def _time(text: str) -> datetime:
    from outcrop.analytics.queries import parse_time

    try:
        return parse_time(text, "--now").replace(tzinfo=UTC)
    except OutcropError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    try:
        from outcrop.demo.runner import run_demo
    except ModuleNotFoundError as exc:  # the OTel SDK and exporter are the `demo` extra
        if not (exc.name or "").startswith("opentelemetry"):
            raise
        raise OutcropError(f"outcrop demo needs the OpenTelemetry SDK and OTLP exporter ({exc.name} is "
                           "missing): pip install 'outcrop[demo]'") from None

    settings = cli_settings(args)
    code: int = run_demo(args, settings)
    return code
