"""Invocation-log lines → stored calls, for every source; and the local-files source.

`LogReader` is shared by the S3, CloudWatch Logs and file sources: it decodes a line,
fetches an S3 body when the record needs it, parses, resolves the inference profile, and
commits a batch together with the source's progress in one transaction, so a crash
between the two can neither lose nor double a record.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import duckdb
import orjson

from collector.merge import store_bedrock_calls
from collector.normalize.bedrock import (
    MalformedRecord,
    output_body_location,
    parse_record,
    with_output_body,
)
from collector.profiles import ProfileResolver, record_resolutions
from collector.records import LlmCall
from collector.settings import DEFAULT_MAX_TOKENS_PER_CALL, AttributionSettings
from collector.store import Store

log = logging.getLogger(__name__)

BATCH_LINES = 5_000
# Bedrock moves bodies over 100 KB to S3, so real lines are small; a longer line is
# damage, and reading it whole would be unbounded memory.
MAX_LINE_BYTES = 8 * 1024 * 1024
LOG_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")

Progress = Callable[[duckdb.DuckDBPyConnection], None]
BodyFetcher = Callable[[str], Any]


class LineStream(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...


@dataclass(frozen=True, slots=True)
class LineError:
    location: str
    line: int
    reason: str
    excerpt: str


@dataclass(slots=True)
class Batch:
    calls: list[LlmCall] = field(default_factory=list)
    uris: list[str] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0


class LogReader:
    """Decode → parse → resolve → commit, for one source kind (`bedrock_s3`, …)."""

    def __init__(
        self,
        source: str,
        keys: AttributionSettings,
        resolver: ProfileResolver,
        fetch_body: BodyFetcher | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL,
    ) -> None:
        self.source = source
        self._keys = keys
        self._resolver = resolver
        self._fetch_body = fetch_body
        self._max_tokens = max_tokens  # ingest.max_tokens_per_call: above it a line is malformed

    def add_line(self, batch: Batch, raw: bytes | str, location: str, line: int) -> None:
        batch.lines += 1
        if not raw.strip():
            return
        try:
            obj = orjson.loads(raw)
            self.add_record(batch, obj, location, line)
        except (orjson.JSONDecodeError, MalformedRecord) as exc:
            self.add_error(batch, location, line, str(exc), raw)

    def add_decoded(self, batch: Batch, obj: Any, location: str, line: int) -> None:
        batch.lines += 1
        try:
            self.add_record(batch, obj, location, line)
        except MalformedRecord as exc:
            self.add_error(batch, location, line, str(exc), orjson.dumps(obj))

    def add_record(self, batch: Batch, obj: Any, location: str, line: int) -> None:
        call = parse_record(self._with_body(obj, location, line), self._keys, self._max_tokens)
        if call.inference_profile is not None or call.model is None:
            self._resolver.apply(call)
        batch.calls.append(call)
        batch.uris.append(f"{location}:{line}")

    def add_error(self, batch: Batch, location: str, line: int, reason: str,
                  raw: bytes | str) -> None:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        log.warning("%s:%d: skipped malformed invocation-log line: %s", location, line, reason)
        batch.errors.append(LineError(location, line, reason[:500], text[:200]))

    def _with_body(self, obj: Any, location: str, line: int) -> Any:
        where = output_body_location(obj) if isinstance(obj, dict) else None
        if where is None or self._fetch_body is None:
            return obj
        try:
            return with_output_body(obj, self._fetch_body(where))
        except Exception as exc:  # noqa: BLE001 - the record is still worth storing
            log.warning("%s:%d: output body %s not read: %s", location, line, where, exc)
            return obj

    def commit(self, store: Store, batch: Batch, now: datetime, progress: Progress) -> int:
        """Store the batch and the source's progress in one transaction."""
        fresh = self._resolver.take_fresh()
        source = self.source

        def write(con: duckdb.DuckDBPyConnection) -> int:
            stored = 0
            if batch.calls:
                stored = store_bedrock_calls(con, batch.calls, batch.uris, now)
            record_line_errors(con, source, batch.errors, now)
            record_resolutions(con, fresh, now)
            progress(con)
            return stored

        return store.write(write)


_INSERT_ERROR = (
    "INSERT INTO ingest_errors (location, line, source, reason, excerpt, seen_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (location, line) DO NOTHING"
)
_INSERT_REJECTION = (
    "INSERT INTO ingest_rejections (rejected_at, source, reason, count, detail) "
    "VALUES (?, ?, 'malformed_line', ?, ?)"
)


def record_line_errors(
    con: duckdb.DuckDBPyConnection, source: str, errors: list[LineError], now: datetime
) -> None:
    if not errors:
        return
    con.executemany(
        _INSERT_ERROR, [[e.location, e.line, source, e.reason, e.excerpt, now] for e in errors]
    )
    where = sorted({e.location for e in errors})
    con.execute(_INSERT_REJECTION, [now, source, len(errors), ", ".join(where)[:1000]])


def read_lines(
    stream: LineStream, skip: int = 0, whole_lines_only: bool = False
) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) from 1; None for a line longer than MAX_LINE_BYTES.

    `whole_lines_only` leaves an unterminated last line (a writer mid-line) unread and
    the stream positioned before it, so `tell()` is where the next poll starts.
    """
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        too_long = len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n")
        if whole_lines_only and not too_long and not raw.endswith(b"\n"):
            stream.seek(-len(raw), os.SEEK_CUR)
            return
        number += 1
        while too_long and raw and not raw.endswith(b"\n"):
            raw = stream.readline(MAX_LINE_BYTES + 1)  # drain the rest of that line
        if number > skip:
            yield number, None if too_long else raw


ProgressFactory = Callable[[int, bool, Batch], Progress]


def ingest_lines(
    reader: LogReader,
    store: Store,
    location: str,
    lines: Iterator[tuple[int, Any]],
    now: datetime,
    progress: ProgressFactory,
) -> dict[str, int]:
    """Read numbered lines (bytes, or already-decoded records) in batches;
    `progress(last_line, done, batch)` makes each batch's bookkeeping write."""
    totals = {"lines": 0, "records": 0, "errors": 0}
    batch, last = Batch(), 0
    for number, raw in lines:
        last = number
        if raw is None:
            reader.add_error(batch, location, number, "line too long", b"")
        elif isinstance(raw, bytes | str):
            reader.add_line(batch, raw, location, number)
        else:
            reader.add_decoded(batch, raw, location, number)
        if batch.lines >= BATCH_LINES:
            _flush(reader, store, batch, now, progress(last, False, batch), totals)
            batch = Batch()
    _flush(reader, store, batch, now, progress(last, True, batch), totals)
    return totals


def _flush(reader: LogReader, store: Store, batch: Batch, now: datetime, progress: Progress,
           totals: dict[str, int]) -> None:
    reader.commit(store, batch, now, progress)
    totals["lines"] += batch.lines
    totals["records"] += len(batch.calls)
    totals["errors"] += len(batch.errors)


def open_log(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]  # GzipFile is binary IO
    return path.open("rb")


def log_files(root: Path) -> list[Path]:
    """The log files under `root` (or `root` itself), in name order, so hours go in order."""
    if root.is_file():
        return [root]
    found = [
        Path(dirpath) / name
        for dirpath, _dirs, names in os.walk(root)
        for name in names
        if name.endswith(LOG_SUFFIXES)
    ]
    return sorted(found)


# -- object progress (shared with the S3 source) ---------------------------------------

_UPSERT_OBJECT = """
INSERT INTO bedrock_log_objects AS o
    (uri, size, mtime_ns, etag, byte_offset, line_offset, records, errors, complete, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (uri) DO UPDATE SET
    size = excluded.size, mtime_ns = excluded.mtime_ns, etag = excluded.etag,
    byte_offset = excluded.byte_offset, line_offset = excluded.line_offset,
    records = o.records + excluded.records, errors = o.errors + excluded.errors,
    complete = excluded.complete, updated_at = excluded.updated_at
"""


@dataclass(frozen=True, slots=True)
class ObjectState:
    size: int | None
    mtime_ns: int | None
    etag: str | None
    byte_offset: int
    line_offset: int
    complete: bool


def object_state(store: Store, uri: str) -> ObjectState | None:
    rows = store.query(
        "SELECT size, mtime_ns, etag, byte_offset, line_offset, complete "
        "FROM bedrock_log_objects WHERE uri = ?", [uri]
    ).to_pylist()
    return ObjectState(**rows[0]) if rows else None


def object_progress(uri: str, size: int | None, mtime_ns: int | None, etag: str | None,
                    now: datetime, byte_offset: Callable[[], int] = lambda: 0,
                    immutable: bool = True) -> ProgressFactory:
    """Progress writes for one object: lines consumed, and whether it is finished."""
    def factory(last: int, done: bool, batch: Batch) -> Progress:
        offset = byte_offset()  # read now: the stream is positioned after line `last`

        def write(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(_UPSERT_OBJECT, [uri, size, mtime_ns, etag, offset, last,
                                         len(batch.calls), len(batch.errors),
                                         done and immutable, now])
        return write
    return factory


# -- local files -------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def ingest_path(reader: LogReader, store: Store, root: Path, now: datetime) -> dict[str, int]:
    """Every log file under `root` not yet (fully) read; growing files continue."""
    totals = {"files": 0, "lines": 0, "records": 0, "errors": 0}
    for path in log_files(root):
        done = ingest_file(reader, store, path, now)
        if done is not None:
            totals["files"] += 1
            for key, value in done.items():
                totals[key] += value
    return totals


def ingest_file(reader: LogReader, store: Store, path: Path, now: datetime
                ) -> dict[str, int] | None:
    """Read what is new in one file; None when nothing changed since the last read."""
    uri = str(path.resolve())
    stat = path.stat()
    state = object_state(store, uri)
    same = state is not None and state.size == stat.st_size and state.mtime_ns == stat.st_mtime_ns
    if state is not None and same and (state.complete or state.byte_offset >= stat.st_size):
        return None
    if path.name.endswith(".gz") or (path.name.endswith(".json") and _is_document(path, stat)):
        skip = state.line_offset if state is not None and same else 0
        with open_log(path) as stream:
            lines = _document(stream) if not path.name.endswith(".gz") else read_lines(stream, skip)
            progress = object_progress(uri, stat.st_size, stat.st_mtime_ns, None, now)
            return ingest_lines(reader, store, uri, lines, now, progress)
    return _ingest_growing(reader, store, path, uri, state, now)


def _ingest_growing(reader: LogReader, store: Store, path: Path, uri: str,
                    state: ObjectState | None, now: datetime) -> dict[str, int]:
    """Plain JSON-lines files may be appended to: continue from the stored byte offset,
    unless the file shrank (rotated or rewritten), then read it again from the start."""
    stat = path.stat()
    grew = state is not None and stat.st_size >= (state.size or 0)
    with path.open("rb") as stream:
        start_line = 0
        if grew and state is not None:
            stream.seek(state.byte_offset)
            start_line = state.line_offset
        numbered = ((start_line + n, raw) for n, raw in read_lines(stream, whole_lines_only=True))
        progress = object_progress(uri, stat.st_size, stat.st_mtime_ns, None, now,
                                   byte_offset=stream.tell, immutable=False)
        return ingest_lines(reader, store, uri, numbered, now, progress)


def _is_document(path: Path, stat: os.stat_result) -> bool:
    """A `.json` file holding one pretty-printed record or an array, not JSON lines."""
    if stat.st_size > MAX_DOCUMENT_BYTES:
        return False
    try:
        orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return False
    return True


def _document(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    value = orjson.loads(stream.read())
    items = value if isinstance(value, list) else [value]
    yield from enumerate(items, start=1)
