"""Bedrock invocation logs delivered to S3, read incrementally.

Layout: `<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/*.json.gz`
(gzip JSON lines). Each log root (account, region) keeps an hour watermark in
`watermarks`; a poll lists with StartAfter = one hour before it, so history is never
listed again and late files of the previous hour are still found. Objects already read
are in `bedrock_log_objects`; an object's progress and its rows commit together, small
objects several to a transaction, in key order (`LogReader.combined_writes`).
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import duckdb
import orjson

from outcrop.collector.receivers.bedrock_files import (
    Batch,
    LogReader,
    ObjectState,
    Progress,
    ProgressFactory,
    gzip_lines,
    ingest_lines,
    object_progress,
    read_lines,
)
from outcrop.core.aws import AwsClients, classify_error
from outcrop.core.sql import load_sql
from outcrop.core.store import watermarks
from outcrop.core.store.writer import Store

log = logging.getLogger(__name__)

LOGS_FOLDER = "BedrockModelInvocationLogs"
PERMISSION_CHECK = "amazon-bedrock-logs-permission-check"
MAX_BODY_BYTES = 64 * 1024 * 1024
_HOUR = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/")
_HOUR_FORMAT = "%Y/%m/%d/%H"


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


def log_roots(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Key prefixes `…/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/` under
    `prefix`, found by delimiter listings (one per account), never by listing logs."""
    base, _, rest = prefix.partition("AWSLogs/")
    if base and not base.endswith("/") and not rest:
        base += "/"
    parts = [p for p in rest.split("/") if p][:3]
    levels = [base + "AWSLogs/" + "".join(p + "/" for p in parts)]
    for depth in range(len(parts), 3):
        if depth == 1:
            levels = [p + LOGS_FOLDER + "/" for p in levels]
        else:
            levels = [child for p in levels for child in _children(s3, bucket, p)]
    return levels


def _children(s3: Any, bucket: str, prefix: str) -> list[str]:
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    ):
        found.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return found


def new_log_keys(s3: Any, bucket: str, root: str, watermark: str | None) -> list[dict[str, Any]]:
    """Log objects under `root` from the hour before `watermark` on, in key order."""
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": root}
    if watermark:
        previous = datetime.strptime(watermark, _HOUR_FORMAT) - timedelta(hours=1)
        params["StartAfter"] = root + previous.strftime(_HOUR_FORMAT) + "/"
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(**params):
        for item in page.get("Contents", []):
            relative = item["Key"][len(root):]
            if not _HOUR.match(relative):
                # Hour folders sort before any lettered folder (such as data/), so the
                # logs are all behind us: stop rather than page through bodies.
                if relative[:1].isalpha():
                    return found
                continue
            if _is_log(relative):
                found.append(item)
    return found


def _is_log(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return (
        "/data/" not in "/" + relative
        and name != PERMISSION_CHECK
        and name.endswith((".json.gz", ".json"))
    )


def hour_of(root: str, key: str) -> str | None:
    match = _HOUR.match(key[len(root):])
    return "/".join(match.groups()) if match else None


def ingest_s3(reader: LogReader, store: Store, clients: AwsClients, uri: str,
              now: datetime) -> dict[str, int]:
    """One poll of an `s3://bucket/prefix` source."""
    s3 = clients.client("s3")
    bucket, prefix = split_uri(uri)
    totals = {"objects": 0, "lines": 0, "records": 0, "errors": 0}
    try:
        roots = log_roots(s3, bucket, prefix)
    except Exception as exc:
        raise classify_error(exc, f"s3://{bucket}/{prefix}") from exc
    with reader.combined_writes():
        for root in roots:
            _ingest_root(reader, store, s3, bucket, root, now, totals)
    return totals


def _ingest_root(reader: LogReader, store: Store, s3: Any, bucket: str, root: str,
                 now: datetime, totals: dict[str, int]) -> None:
    name = f"bedrock_s3:s3://{bucket}/{root}"
    try:
        listed = new_log_keys(s3, bucket, root, watermarks.get(store, name))
    except Exception as exc:
        raise classify_error(exc, f"s3://{bucket}/{root}") from exc
    states = _states(store, [f"s3://{bucket}/{item['Key']}" for item in listed])
    for item in listed:
        uri = f"s3://{bucket}/{item['Key']}"
        state = states.get(uri)
        etag = str(item.get("ETag", "")).strip('"') or None
        if state is not None and state.complete and state.etag == etag:
            continue
        if not reader.budget.take_file():  # the run's bounds: the next run continues here
            return
        skip = state.line_offset if state is not None and state.etag == etag else 0
        progress = _with_watermark(
            object_progress(uri, int(item.get("Size", 0)), None, etag, now),
            name, hour_of(root, item["Key"]), now,
        )
        done = _ingest_object(reader, store, s3, bucket, item["Key"], int(item.get("Size", 0)), skip,
                              now, progress)
        totals["objects"] += 1
        for key, value in done.items():
            totals[key] += value


def _ingest_object(reader: LogReader, store: Store, s3: Any, bucket: str, key: str, size: int,
                   skip: int, now: datetime, progress: ProgressFactory) -> dict[str, int]:
    uri = f"s3://{bucket}/{key}"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as exc:
        raise classify_error(exc, uri) from exc
    with body:
        try:
            stream = gzip_lines(reader, body, size) if key.endswith(".gz") else body
            return ingest_lines(reader, store, uri, read_lines(stream, skip), now, progress)
        except (OSError, EOFError) as exc:
            # A damaged archive: keep what was read, record it, and do not retry forever.
            log.warning("%s: unreadable gzip: %s", uri, exc)
            broken = Batch()
            reader.add_error(broken, uri, 0, f"unreadable object: {exc}", b"")
            reader.commit(store, broken, now, progress(0, True, broken))
            return {"lines": 0, "records": 0, "errors": 1}


def _with_watermark(inner: ProgressFactory, name: str, hour: str | None,
                    now: datetime) -> ProgressFactory:
    """The hour watermark moves in the same transaction that finishes an object."""
    def factory(last: int, done: bool, batch: Batch) -> Progress:
        write = inner(last, done, batch)

        def both(con: duckdb.DuckDBPyConnection) -> None:
            write(con)
            if done and hour is not None:
                watermarks.advance(con, name, hour, now)  # 'YYYY/MM/DD/HH' sorts as time
        return both
    return factory




def _states(store: Store, uris: list[str]) -> dict[str, ObjectState]:
    if not uris:
        return {}
    rows = store.query(load_sql("sources/log_object_states.sql"), [uris]).to_pylist()
    return {row.pop("uri"): ObjectState(**row) for row in rows}


def fetch_body(clients: AwsClients, uri: str) -> Any:
    """A body Bedrock moved to S3: JSON, or JSON lines (stream chunks) → list."""
    bucket, key = split_uri(uri)
    try:
        answer = clients.client("s3").get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        raise classify_error(exc, uri) from exc
    with answer["Body"] as body:
        data = body.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise ValueError(f"{uri}: body larger than {MAX_BODY_BYTES} bytes")
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def _gunzip(data: bytes) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        out = stream.read(MAX_BODY_BYTES + 1)
    if len(out) > MAX_BODY_BYTES:
        raise ValueError(f"decompressed body larger than {MAX_BODY_BYTES} bytes")
    return out

