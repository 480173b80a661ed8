"""`outcrop ingest SOURCE`: Bedrock invocation logs once, through the server or on the file."""

from __future__ import annotations

import argparse
import sys

import pyarrow as pa

from outcrop.cli.access import cli_settings, with_store
from outcrop.cli.formatting import FORMATS, format_table
from outcrop.cli.progress import spinner, wanted
from outcrop.core.runtime import tune_gc

HELP = "ingest Bedrock invocation logs once from s3://…, cloudwatch-logs://… or a path"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source")
    parser.add_argument("--format", choices=FORMATS, default="table")


def run(args: argparse.Namespace) -> int:
    """Through the server (which reads only allowed sources), or, with none running, on
    the file as the invoking user, who may read what they can; both within the bounds."""
    from outcrop.collector.sources import absolute_source, read_log_source_once
    from outcrop.core.client import call
    from outcrop.core.clock import utcnow

    settings = cli_settings(args)
    tune_gc()
    source = absolute_source(args.source)  # the server's working directory is not ours
    with spinner(f"ingesting {source}", wanted(args.format)):
        report = with_store(
            args.db, settings,
            lambda url: call(url, "/v1/admin/ingest", {"source": source},
                             token=settings.server.admin_token, timeout=settings.ingest.max_seconds + 60),
            lambda store: read_log_source_once(store, settings, source, utcnow()),
        )
    sys.stdout.write(format_table(pa.Table.from_pylist([report]), args.format))
    if report.get("stopped"):
        print(f"outcrop: stopped early ({report['stopped']}); what was read is stored, "
              "run the same command again to continue", file=sys.stderr)
    return 0
