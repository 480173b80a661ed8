"""The `outcrop` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from outcrop.cli.formatting import FORMATS, format_table
from outcrop.cli.report import add_report_arguments
from outcrop.core.errors import OutcropError
from outcrop.core.runtime import tune_gc
from outcrop.core.settings import DEFAULT_DB, ConfigError, Settings, load_settings

log = logging.getLogger("outcrop")


def _db_default() -> str:
    return os.environ.get("OUTCROP_DB", DEFAULT_DB)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings()


def cmd_serve(args: argparse.Namespace) -> int:
    from outcrop.server import serve

    overrides = {k: v for k, v in (("host", args.host), ("http_port", args.http_port),
                                    ("grpc_port", args.grpc_port), ("api_port", args.api_port))
                 if v is not None}
    settings = _settings(args)
    if overrides:
        server = settings.server.model_copy(update=overrides)
        settings = settings.model_copy(update={"server": server})
    serve(settings, args.db, on_ready=lambda s: print(
        f"outcrop serving {args.db}: OTLP/HTTP {s.settings.server.host}:{s.ports.http}, "
        f"OTLP/gRPC :{s.ports.grpc}, API :{s.ports.api}", flush=True))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from outcrop.core.client import query_table, running_server

    settings = _settings(args)
    max_rows = args.limit or settings.server.query_max_rows
    url = running_server(args.db)
    if url is not None:
        table, truncated = query_table(url, args.statement, max_rows, settings.server.admin_token)
    else:
        table = _sql_on_file(args.db, args.statement, max_rows, settings)
        truncated = table.num_rows > max_rows
    sys.stdout.write(format_table(table.slice(0, max_rows), args.format))
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


def cmd_ingest(args: argparse.Namespace) -> int:
    """Through the server (which reads only allowed sources), or, with none running, on
    the file as the invoking user, who may read what they can; both within the bounds."""
    from outcrop.collector.sources import absolute_source, ingest_once
    from outcrop.core.client import call
    from outcrop.core.clock import utcnow

    settings = _settings(args)
    tune_gc()
    source = absolute_source(args.source)  # the server's working directory is not ours
    report = with_store(
        args.db, settings,
        lambda url: call(url, "/v1/admin/ingest", {"source": source},
                         token=settings.server.admin_token, timeout=settings.ingest.max_seconds + 60),
        lambda store: ingest_once(store, settings, source, utcnow()),
    )
    sys.stdout.write(format_table(pa.Table.from_pylist([report]), args.format))
    if report.get("stopped"):
        print(f"outcrop: stopped early ({report['stopped']}); what was read is stored, "
              "run the same command again to continue", file=sys.stderr)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from outcrop.analytics.jobs import run_jobs
    from outcrop.core.client import call
    from outcrop.core.clock import utcnow

    settings = _settings(args)
    names = None if args.all or not args.names else list(args.names)
    results = with_store(
        args.db, settings,
        lambda url: call(url, "/v1/admin/jobs", {"names": names}, token=settings.server.admin_token),
        lambda store: run_jobs(store, settings, names, utcnow()),
    )
    sys.stdout.write(format_table(pa.Table.from_pylist(results), args.format))
    return 0 if all(r.get("status") == "ok" for r in results) else 1


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


def cmd_report(args: argparse.Namespace) -> int:
    from outcrop.cli.report import run_report_command

    code: int = run_report_command(args, query_runner(args.db, _settings(args)))
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from outcrop.demo.runner import run_demo

    code: int = run_demo(args, _settings(args))
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="outcrop", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", default=_db_default(), help="DuckDB file (default ./outcrop.duckdb or $OUTCROP_DB)")
        p.set_defaults(func=fn)
        return p

    p = add("serve", cmd_serve, "run the collector, pollers, jobs and read API on one database")
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, help="OTLP/HTTP port (default 4318)")
    p.add_argument("--grpc-port", type=int, help="OTLP/gRPC port (default 4317)")
    p.add_argument("--api-port", type=int, help="read API port (default 4320)")

    p = add("sql", cmd_sql, "run one read-only SQL statement")
    p.add_argument("statement", help="a single SELECT statement")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--limit", type=int, help="at most this many rows")

    p = add("ingest", cmd_ingest, "ingest Bedrock invocation logs once from s3://…, cloudwatch-logs://… or a path")
    p.add_argument("source")
    p.add_argument("--format", choices=FORMATS, default="table")

    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    p = jobs_sub.add_parser("run", help="run jobs now")
    p.add_argument("names", nargs="*", help="job names (default: all)")
    p.add_argument("--all", action="store_true", help="run every job")
    p.add_argument("--db", default=_db_default())
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_jobs)

    p = add("report", cmd_report, "usage, latency, cost and capacity tables")
    add_report_arguments(p)

    p = add("demo", cmd_demo, "start a server, send a realistic demo workload, run jobs, summarise")
    p.add_argument("--history-days", type=float, default=3.0)
    p.add_argument("--exit", action="store_true", help="stop the server after the summary")
    p.add_argument("--fresh", action="store_true", help="delete the database and demo logs first")
    p.add_argument("--http-port", type=int, default=4318)
    p.add_argument("--grpc-port", type=int, default=4317)
    p.add_argument("--api-port", type=int, default=4320)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"outcrop: configuration error: {exc}", file=sys.stderr)
        return 2
    except (OutcropError, duckdb.Error) as exc:
        print(f"outcrop: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
