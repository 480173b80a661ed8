"""Bedrock invocation-log sources and the CloudWatch metrics poller, behind one entry point.

`read_log_source_once` reads one Bedrock log source now (the CLI's `outcrop ingest`, admin
ingest); `configured_sources` hands the scheduler one poll job per configured source.
All jobs of a process share one set of AWS clients and one profile resolver, so its
cache serves every source.

Every run, one-shot or poll, is bounded by `ingest.max_files`, `max_bytes`, `max_seconds`
and `max_file_bytes`, and may be cancelled; a run that stops early commits what it read
and says why in its result (`"stopped": "max_bytes"`), and the next run continues.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from outcrop.collector.profiles import ProfileResolver
from outcrop.collector.progress import OnProgress
from outcrop.collector.receivers.bedrock_cloudwatch import ingest_log_group
from outcrop.collector.receivers.bedrock_files import LogReader, ingest_path
from outcrop.collector.receivers.bedrock_s3 import fetch_body, ingest_s3
from outcrop.collector.receivers.budget import Clock, RunBudget
from outcrop.collector.receivers.cloudwatch_metrics import poll_metrics
from outcrop.core.aws import AwsClients
from outcrop.core.errors import SourceNotFound
from outcrop.core.settings import CloudWatchLogsSource, Settings
from outcrop.core.store.writer import Store

CLOUDWATCH_SCHEME = "cloudwatch-logs://"
DEFAULT_STREAM = CloudWatchLogsSource.model_fields["log_stream"].default

Report = dict[str, int | str]
PollFn = Callable[[Store, datetime], Mapping[str, int | str]]
PollJob = tuple[str, float, PollFn]


@dataclass(frozen=True)
class SourceContext:
    """What every source needs beyond the store: settings, AWS clients, the resolver."""

    settings: Settings
    clients: AwsClients
    resolver: ProfileResolver

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients | None = None) -> SourceContext:
        clients = clients or AwsClients(settings.aws)
        resolver = ProfileResolver(settings.profiles, settings.attribution, clients)
        return cls(settings, clients, resolver)

    def reader(self, source: str, budget: RunBudget | None = None) -> LogReader:
        """A reader for one run, within `budget` (the settings' bounds by default)."""
        def body(uri: str) -> Any:
            return fetch_body(self.clients, uri)
        budget = budget or RunBudget.from_settings(self.settings.ingest)
        return LogReader(source, self.settings.attribution, self.resolver, body, budget,
                         max_tokens=self.settings.ingest.max_tokens_per_call)


def read_log_source_once(store: Store, settings: Settings, source: str, now: datetime, *,
                context: SourceContext | None = None, cancel: threading.Event | None = None,
                clock: Clock = time.monotonic, on_progress: OnProgress | None = None) -> Report:
    """Read what is new in one source: `s3://bucket/prefix`, `cloudwatch-logs://GROUP`
    (stream from config, else Bedrock's default; `GROUP?stream=NAME` to choose), or a
    local file or folder, until done, out of budget, or `cancel` is set. A local read
    tells `on_progress` how far it is (S3 and CloudWatch do not). Raises
    outcrop.core.aws.AwsError, classified, on AWS failures."""
    ctx = context or SourceContext.build(settings)
    budget = RunBudget.from_settings(settings.ingest, cancel, clock)
    report: Report = {**_ingest(ctx, store, source, now, budget, on_progress)}
    if budget.skipped:
        report["skipped"] = budget.skipped
    if budget.stopped is not None:
        report["stopped"] = budget.stopped
    return report


def _ingest(ctx: SourceContext, store: Store, source: str, now: datetime,
            budget: RunBudget, on_progress: OnProgress | None) -> dict[str, int]:
    if source.startswith("s3://"):
        return ingest_s3(ctx.reader("bedrock_s3", budget), store, ctx.clients, source, now)
    if source.startswith(CLOUDWATCH_SCHEME):
        group, stream = parse_cloudwatch(source, ctx.settings)
        return ingest_log_group(ctx.reader("bedrock_cloudwatch", budget), store, ctx.clients,
                                group, stream, now)
    path = Path(source)
    if not _exists(path):
        raise SourceNotFound(f"no such file or folder: {source} (sources are s3://bucket/prefix, "
                             "cloudwatch-logs://GROUP, or a local path)")
    return ingest_path(ctx.reader("bedrock_files", budget), store, path, now, on_progress)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except ValueError:  # a NUL byte: no file has that name
        return False


def absolute_source(source: str) -> str:
    """`source` as a server in another working directory reads it: local paths absolute."""
    return os.path.abspath(source) if is_local(source) else source


def is_local(source: str) -> bool:
    """Whether `source` names a local file or folder rather than S3 or CloudWatch Logs."""
    return not source.startswith(("s3://", CLOUDWATCH_SCHEME))


def parse_cloudwatch(source: str, settings: Settings) -> tuple[str, str]:
    group, _, query = source.removeprefix(CLOUDWATCH_SCHEME).partition("?stream=")
    if query:
        return group, query
    for configured in settings.sources.cloudwatch_logs:
        if configured.log_group == group:
            return group, configured.log_stream
    return group, str(DEFAULT_STREAM)


def configured_sources(settings: Settings, *,
                       context: SourceContext | None = None) -> list[PollJob]:
    """(name, interval_seconds, fn(store, now)) for each configured source."""
    ctx = context or SourceContext.build(settings)
    sources = settings.sources
    jobs: list[PollJob] = []
    for s3 in sources.s3:
        jobs.append((f"bedrock_s3:{s3.uri}", s3.poll_seconds, _s3_job(ctx, s3.uri)))
    for cwl in sources.cloudwatch_logs:
        jobs.append((f"bedrock_cwl:{cwl.log_group}", cwl.poll_seconds,
                     _cwl_job(ctx, cwl.log_group, cwl.log_stream)))
    for files in sources.files:
        jobs.append((f"bedrock_files:{files.path}", files.poll_seconds,
                     _files_job(ctx, Path(files.path))))
    metrics = sources.cloudwatch_metrics
    if metrics.enabled:
        jobs.append(("cloudwatch_metrics", metrics.poll_seconds,
                     lambda store, now: poll_metrics(store, ctx.clients, metrics, now)))
    return jobs


# Each poll is one run with its own reader and budget: bounded work, the next poll continues.

def _s3_job(ctx: SourceContext, uri: str) -> PollFn:
    return lambda store, now: ingest_s3(ctx.reader("bedrock_s3"), store, ctx.clients, uri, now)


def _cwl_job(ctx: SourceContext, group: str, stream: str) -> PollFn:
    return lambda store, now: ingest_log_group(ctx.reader("bedrock_cloudwatch"), store, ctx.clients,
                                               group, stream, now)


def _files_job(ctx: SourceContext, path: Path) -> PollFn:
    def poll(store: Store, now: datetime) -> dict[str, int]:
        # A configured folder that does not exist yet is not an error: nothing to read.
        if not path.exists():
            return {"files": 0}
        return ingest_path(ctx.reader("bedrock_files"), store, path, now)
    return poll
