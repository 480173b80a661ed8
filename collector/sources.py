"""Bedrock invocation-log sources and the CloudWatch metrics poller, behind one entry point.

`ingest_once` reads one source now (the CLI's `outcrop ingest`); `configured_sources`
hands the scheduler one poll job per configured source. All jobs of a process share one
set of AWS clients and one profile resolver, so its cache serves every source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from collector.aws import AwsClients
from collector.errors import SourceNotFound
from collector.profiles import ProfileResolver
from collector.receivers.bedrock_cloudwatch import ingest_log_group
from collector.receivers.bedrock_files import LogReader, ingest_path
from collector.receivers.bedrock_s3 import fetch_body, ingest_s3
from collector.receivers.cloudwatch_metrics import poll_metrics
from collector.settings import CloudWatchLogsSource, Settings
from collector.store import Store

CLOUDWATCH_SCHEME = "cloudwatch-logs://"
DEFAULT_STREAM = CloudWatchLogsSource.model_fields["log_stream"].default

PollFn = Callable[[Store, datetime], dict[str, int]]
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

    def reader(self, source: str) -> LogReader:
        def body(uri: str) -> Any:
            return fetch_body(self.clients, uri)
        return LogReader(source, self.settings.attribution, self.resolver, body,
                         max_tokens=self.settings.ingest.max_tokens_per_call)


def ingest_once(store: Store, settings: Settings, source: str, now: datetime, *,
                context: SourceContext | None = None) -> dict[str, int]:
    """Read what is new in one source: `s3://bucket/prefix`, `cloudwatch-logs://GROUP`
    (stream from config, else Bedrock's default; `GROUP?stream=NAME` to choose), or a
    local file or folder. Raises collector.aws.AwsError, classified, on AWS failures."""
    ctx = context or SourceContext.build(settings)
    if source.startswith("s3://"):
        return ingest_s3(ctx.reader("bedrock_s3"), store, ctx.clients, source, now)
    if source.startswith(CLOUDWATCH_SCHEME):
        group, stream = parse_cloudwatch(source, settings)
        return ingest_log_group(ctx.reader("bedrock_cloudwatch"), store, ctx.clients,
                                group, stream, now)
    path = Path(source)
    if not path.exists():
        raise SourceNotFound(f"no such file or folder: {source} (sources are s3://bucket/prefix, "
                             "cloudwatch-logs://GROUP, or a local path)")
    return ingest_path(ctx.reader("bedrock_files"), store, path, now)


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


def _s3_job(ctx: SourceContext, uri: str) -> PollFn:
    reader = ctx.reader("bedrock_s3")
    return lambda store, now: ingest_s3(reader, store, ctx.clients, uri, now)


def _cwl_job(ctx: SourceContext, group: str, stream: str) -> PollFn:
    reader = ctx.reader("bedrock_cloudwatch")
    return lambda store, now: ingest_log_group(reader, store, ctx.clients, group, stream, now)


def _files_job(ctx: SourceContext, path: Path) -> PollFn:
    reader = ctx.reader("bedrock_files")

    def poll(store: Store, now: datetime) -> dict[str, int]:
        # A configured folder that does not exist yet is not an error: nothing to read.
        return ingest_path(reader, store, path, now) if path.exists() else {"files": 0}
    return poll
