"""`outcrop ingest SOURCE`: Bedrock invocation logs once, through the server or on the file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from outcrop.cli.access import cli_settings, with_store
from outcrop.cli.formatting import FORMATS, format_table
from outcrop.cli.progress import file_bar, spinner, wanted
from outcrop.core.runtime import tune_gc

if TYPE_CHECKING:
    from outcrop.core.settings import Settings
    from outcrop.core.store.writer import Store

HELP = "ingest Bedrock invocation logs once from s3://…, cloudwatch-logs://… or a path"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source")
    parser.add_argument("--format", choices=FORMATS, default="table")


def run(args: argparse.Namespace) -> int:
    """Through the server (which reads only allowed sources), or, with none running, on
    the file as the invoking user, who may read what they can; both within the bounds."""
    from outcrop.collector.sources import absolute_source

    settings = cli_settings(args)
    tune_gc()
    source = absolute_source(args.source)  # the server's working directory is not ours
    show = wanted(args.format)
    report = with_store(args.db, settings,
                        lambda url: _through_server(url, settings, source, show),
                        lambda store: _on_the_file(store, settings, source, show))
    sys.stdout.write(format_table(pa.Table.from_pylist([report]), args.format))
    if report.get("stopped"):
        print(f"outcrop: stopped early ({report['stopped']}); what was read is stored, "
              "run the same command again to continue", file=sys.stderr)
    return 0


def _through_server(url: str, settings: Settings, source: str, show: bool) -> Any:
    """The server reports nothing until it is done: all there is to show is the wait."""
    from outcrop.core.client import call

    with spinner(f"ingesting {source}", show):
        return call(url, "/v1/admin/ingest", {"source": source},
                    token=settings.server.admin_token, timeout=settings.ingest.max_seconds + 60)


def _on_the_file(store: Store, settings: Settings, source: str, show: bool) -> Any:
    """A local folder reports files, records and bytes as it goes; S3 and CloudWatch Logs
    list as they read, so there is no total to count against: the spinner again."""
    from outcrop.collector.sources import is_local, read_log_source_once
    from outcrop.core.clock import utcnow

    if not is_local(source):
        with spinner(f"ingesting {source}", show):
            return read_log_source_once(store, settings, source, utcnow())
    with file_bar("ingesting", show) as on_progress:  # the path: the user just typed it
        return read_log_source_once(store, settings, source, utcnow(), on_progress=on_progress)
