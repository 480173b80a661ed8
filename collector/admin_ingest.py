"""Admin ingest: which sources it may read, one run at a time, stopped when its caller leaves.

`POST /v1/admin/ingest` (and so `outcrop ingest` while a server runs) reads with the
server's identity: its files and its AWS credentials. So it reads only what the operator
named in the configuration: the configured sources, and what lies under the roots in
`ingest.allowed_paths`, `ingest.allowed_s3_prefixes` and `ingest.allowed_log_groups`.
Local paths are resolved, symlinks followed, before the check, so `allowed/../../etc` and
a symlink out of a root are refused; a path outside every root is refused whether or not
it exists, so the answer tells nothing about the rest of the filesystem.

A run is bounded like every ingest run (`ingest.max_*`), and one admin run at a time may
be in progress, so concurrent calls cannot multiply those bounds. The run goes on in its
own thread while the caller's thread watches the connection: when the caller goes away
the run is cancelled, and it commits what it read so far, which the next run continues.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from outcrop.collector.receivers.bedrock_s3 import split_uri
from outcrop.collector.sources import CLOUDWATCH_SCHEME, Report, read_log_source_once
from outcrop.core.errors import BadSource, IngestBusy, SourceRefused
from outcrop.core.settings import Settings
from outcrop.core.store.writer import Store

# How often the caller's connection is looked at while a run goes on.
WATCH_SECONDS = 0.5

_one_at_a_time = threading.Lock()


def run_admin_ingest(store: Store, settings: Settings, source: str, now: datetime,
                     caller_gone: Callable[[], bool]) -> Report:
    """Ingest an allowed `source` once; cancelled when `caller_gone()` turns true.
    Raises SourceRefused (403) for a source the settings do not allow and IngestBusy
    (409) while another admin ingest runs."""
    admitted = admit_source(settings, source)
    if not _one_at_a_time.acquire(blocking=False):
        raise IngestBusy("an admin ingest is already running: try again when it has finished")
    try:
        cancel = threading.Event()
        with ThreadPoolExecutor(1, thread_name_prefix="admin-ingest") as pool:
            run = pool.submit(read_log_source_once, store, settings, admitted, now, cancel=cancel)
            while True:
                try:
                    return run.result(timeout=WATCH_SECONDS)
                except TimeoutError:
                    if not cancel.is_set() and caller_gone():
                        cancel.set()
    finally:
        _one_at_a_time.release()


def admit_source(settings: Settings, source: str) -> str:
    """The source to read if an admin call may ingest it (a local path comes back
    resolved); raises SourceRefused naming the setting that would allow it."""
    if source.startswith("s3://"):
        _admit_s3(settings, source)
        return source
    if source.startswith(CLOUDWATCH_SCHEME):
        _admit_log_group(settings, source)
        return source
    return str(_admit_path(settings, source))


def _admit_path(settings: Settings, source: str) -> Path:
    try:
        resolved = Path(source).resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop
        raise BadSource(f"{source!r} is not a usable path: {exc}") from None
    configured = (*settings.ingest.allowed_paths, *(files.path for files in settings.sources.files))
    if any(resolved.is_relative_to(Path(root).resolve()) for root in configured):
        return resolved
    raise SourceRefused(
        f"{source} is outside the folders admin ingest may read: add it, or a folder above it, "
        "to ingest.allowed_paths (or configure it in sources.files)")


def _admit_s3(settings: Settings, source: str) -> None:
    bucket, prefix = split_uri(source)
    configured = (*settings.ingest.allowed_s3_prefixes, *(s3.uri for s3 in settings.sources.s3))
    for allowed in configured:
        allowed_bucket, allowed_prefix = split_uri(allowed)
        if bucket == allowed_bucket and _under(prefix, allowed_prefix):
            return
    raise SourceRefused(
        f"{source} is outside the S3 locations admin ingest may read: add it, or a prefix above "
        "it, to ingest.allowed_s3_prefixes (or configure it in sources.s3)")


def _under(prefix: str, root: str) -> bool:
    """Whether key prefix `prefix` lies in folder `root` ('' is the whole bucket): a root
    `logs` holds `logs/AWSLogs/…` but not `logs-private/…`."""
    root = root.rstrip("/")
    return not root or prefix.rstrip("/") == root or prefix.startswith(root + "/")


def _admit_log_group(settings: Settings, source: str) -> None:
    group = source.removeprefix(CLOUDWATCH_SCHEME).partition("?stream=")[0]
    configured = (*settings.ingest.allowed_log_groups,
                  *(cwl.log_group for cwl in settings.sources.cloudwatch_logs))
    if group in configured:
        return
    raise SourceRefused(
        f"{source} is not a log group admin ingest may read: add {group} to "
        "ingest.allowed_log_groups (or configure it in sources.cloudwatch_logs)")
