"""Invocation-log lines → stored calls, for every source; and the local-files source.

`LogReader` is shared by the S3, CloudWatch Logs and file sources: it decodes a line,
fetches an S3 body when the record needs it, parses, resolves the inference profile, and
commits a batch together with the source's progress in one transaction, so a crash
between the two can neither lose nor double a record. Each reader serves one run and
carries its budget (`RunBudget`): sources stop between lines or files once it is spent.

A transaction has a fixed cost of tens of milliseconds (DuckDB plans each of the merge's
statements anew), larger than the work for a file of a few dozen records, and Bedrock
writes many such files. So inside `combined_writes` a file read whole in one batch waits
(`hold`) and commits with the next ones, up to BATCH_LINES lines a transaction; every
file's progress still commits in the transaction of its records.

Error rows keep an excerpt only of lines that are invocation-log records (broken ones);
for any other line, which may be any file's text, they keep the reason and the length.

With the native module built, lines read as bytes are not parsed one by one: they queue
(`queue_line`) and are decoded together into an Arrow batch (`decode/invocation_native`),
normalised over whole columns (`normalize/bedrock_columns`); only the lines the native
decoder defers take the path above, so a bad line gets the same error row as before.
The budget, progress and batching still count every line as it is read.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import duckdb
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from outcrop.collector.decode import invocation_native
from outcrop.collector.merge import store_bedrock_calls, store_bedrock_table
from outcrop.collector.normalize.bedrock import (
    MalformedRecord,
    output_body_location,
    parse_record,
    with_output_body,
)
from outcrop.collector.normalize.bedrock_columns import calls_frame, latest_per_request, normalize_rows
from outcrop.collector.profiles import ProfileResolver, record_resolutions
from outcrop.collector.progress import OnProgress, ProgressTracker
from outcrop.collector.receivers.budget import RunBudget
from outcrop.collector.receivers.local_files import log_files, open_regular, skip_file
from outcrop.core.records import LlmCall
from outcrop.core.settings import DEFAULT_MAX_TOKENS_PER_CALL, AttributionSettings
from outcrop.core.sql import load_sql
from outcrop.core.store.writer import Store

log = logging.getLogger(__name__)

BATCH_LINES = 5_000
# Bedrock moves bodies over 100 KB to S3, so real lines are small; a longer line is
# damage, and reading it whole would be unbounded memory.
MAX_LINE_BYTES = 8 * 1024 * 1024
# Lines queued for one native decode: at most BATCH_LINES, and decoded as soon as they
# pass this many bytes, so the queue never holds much more than one longest line.
NATIVE_CHUNK_BYTES = MAX_LINE_BYTES
# A gzip body up to NATIVE_GZIP_BYTES is inflated natively in one piece, to at most
# NATIVE_INFLATED_BYTES (Bedrock's files are far smaller); a larger one is read line by
# line by GzipFile, as without the module.
NATIVE_GZIP_BYTES = 16 * 1024 * 1024
NATIVE_INFLATED_BYTES = 64 * 1024 * 1024
EXCERPT_CHARS = 200
# A JSON object with one of these is a (possibly broken) invocation-log record.
RECORD_KEYS = ("schemaType", "requestId", "modelId")

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
    excerpt: str | None


@dataclass(slots=True)
class Batch:
    calls: list[LlmCall] = field(default_factory=list)
    uris: list[str] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0
    call_lines: list[int] = field(default_factory=list)  # the line of each of `calls`
    # Natively decoded rows of status ok, with their line numbers and location: normalised
    # when written, all parts of a transaction at once (the normaliser's cost is per call,
    # not per row, and Bedrock writes many small files). Then the lines queued for the
    # next native decode: (number, bytes).
    native: list[tuple[pa.RecordBatch, list[int], str]] = field(default_factory=list)
    queued: list[tuple[int, bytes]] = field(default_factory=list)
    queued_bytes: int = 0

    @property
    def records(self) -> int:
        return len(self.calls) + sum(int(rows.num_rows) for rows, _, _ in self.native)


class LogReader:
    """Decode → parse → resolve → commit, for one source kind (`bedrock_s3`, …)."""

    def __init__(
        self,
        source: str,
        keys: AttributionSettings,
        resolver: ProfileResolver,
        fetch_body: BodyFetcher | None = None,
        budget: RunBudget | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL,
    ) -> None:
        self.source = source
        self._keys = keys
        self._resolver = resolver
        self._fetch_body = fetch_body
        self.budget = budget or RunBudget()
        self._max_tokens = max_tokens  # ingest.max_tokens_per_call: above it a line is malformed
        self.native: Any = (invocation_native.decoder(keys, max_tokens, MAX_LINE_BYTES)
                            if invocation_native.AVAILABLE else None)
        self.tracker: ProgressTracker | None = None  # set by a run someone watches
        self._combining = False
        self._held: list[tuple[Batch, Progress]] = []
        self._held_lines = 0
        self._held_for: tuple[Store, datetime] | None = None

    def add_line(self, batch: Batch, raw: bytes | str, location: str, line: int) -> None:
        batch.lines += 1
        self.budget.bytes += len(raw)
        self._add_raw(batch, raw, location, line)

    def _add_raw(self, batch: Batch, raw: bytes | str, location: str, line: int) -> None:
        if not raw.strip():
            return
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            # Not JSON at all, so perhaps not a log: its text never goes into the database.
            size = len(raw.rstrip(b"\r\n")) if isinstance(raw, bytes) else len(raw.rstrip("\r\n"))
            self.add_error(batch, location, line, f"not JSON ({size} bytes): {exc}")
            return
        self._add_parsed(batch, obj, raw, location, line)

    def queue_line(self, batch: Batch, raw: bytes, location: str, line: int) -> None:
        """Count a line as read now; decode it with the others queued at `settle`, which
        runs here once the queue passes NATIVE_CHUNK_BYTES."""
        batch.lines += 1
        self.budget.bytes += len(raw)
        batch.queued.append((line, raw))
        batch.queued_bytes += len(raw)
        if batch.queued_bytes >= NATIVE_CHUNK_BYTES:
            self.settle(batch, location)

    def settle(self, batch: Batch, location: str) -> None:
        """Decode the queued lines natively: the rows decided there wait in `batch.native`,
        the deferred lines take the per-line path now."""
        if not batch.queued:
            return
        queued, batch.queued, batch.queued_bytes = batch.queued, [], 0
        rows = invocation_native.decode_lines(self.native, b"".join(raw for _, raw in queued))
        ok = pc.equal(rows.column("status"), "ok")
        if pc.all(ok).as_py():
            batch.native.append((rows, [n for n, _ in queued], location))
            return
        if pc.any(ok).as_py():
            lines = [queued[i][0] for i in pc.indices_nonzero(ok).to_pylist()]
            batch.native.append((rows.filter(ok), lines, location))
        status = rows.column("status")
        for i in pc.indices_nonzero(pc.invert(ok)).to_pylist():
            if status[i].as_py() != "blank":  # deferred, or too_long: longer than a line may be
                line, raw = queued[i]
                self._add_raw(batch, raw, location, line)

    def calls_frame(self, parts: list[tuple[Batch, Progress]]) -> pl.DataFrame | None:
        """Every part's calls in reading order (bedrock_columns.CALL_COLUMNS, `part`, `line`):
        the native rows normalised in one pass, the per-record calls beside them; None
        when no part was decoded natively."""
        native = [(i, rows, lines, where) for i, (batch, _) in enumerate(parts)
                  for rows, lines, where in batch.native]
        if not native:
            return None
        table = pa.Table.from_batches([rows for _, rows, _, _ in native])
        frames = [normalize_rows(
            table, [n for _, _, lines, _ in native for n in lines],
            [where for _, rows, _, where in native for _ in range(rows.num_rows)],
            self._keys, self._resolver.apply,
        ).with_columns(part=pl.Series([i for i, rows, _, _ in native for _ in range(rows.num_rows)],
                                      dtype=pl.Int32))]
        frames += [calls_frame(batch.calls, batch.uris, batch.call_lines).with_columns(part=pl.lit(i, pl.Int32))
                   for i, (batch, _) in enumerate(parts) if batch.calls]
        combined = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
        return combined.sort("part", "line", maintain_order=True)

    def add_decoded(self, batch: Batch, obj: Any, location: str, line: int) -> None:
        batch.lines += 1
        self._add_parsed(batch, obj, None, location, line)

    def _add_parsed(self, batch: Batch, obj: Any, raw: bytes | str | None, location: str,
                    line: int) -> None:
        try:
            self.add_record(batch, obj, location, line)
        except MalformedRecord as exc:
            excerpt = None
            if isinstance(obj, dict) and any(key in obj for key in RECORD_KEYS):
                excerpt = orjson.dumps(obj) if raw is None else raw
            self.add_error(batch, location, line, str(exc), excerpt)

    def add_record(self, batch: Batch, obj: Any, location: str, line: int) -> None:
        call = parse_record(self._with_body(obj, location, line), self._keys, self._max_tokens)
        if call.inference_profile is not None or call.model is None:
            self._resolver.apply(call)
        batch.calls.append(call)
        batch.uris.append(f"{location}:{line}")
        batch.call_lines.append(line)

    def add_error(self, batch: Batch, location: str, line: int, reason: str,
                  excerpt: bytes | str | None = None) -> None:
        """One malformed line; `excerpt` only when the line is an invocation-log record."""
        text = excerpt.decode("utf-8", "replace") if isinstance(excerpt, bytes) else excerpt
        log.warning("%s:%d: skipped malformed invocation-log line: %s", location, line, reason)
        batch.errors.append(LineError(location, line, reason[:500], text[:EXCERPT_CHARS] if text else None))

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
        """Store the batch and the source's progress in one transaction, together with
        the batches held before it (so everything commits in the order it was read)."""
        if self._held_for != (store, now):
            self.flush()
        return self._write(store, now, [*self._take_held(), (batch, progress)])

    @contextmanager
    def combined_writes(self) -> Iterator[None]:
        """Within: `hold` keeps small files' batches back to commit several together.
        On leaving, even by an exception (the files held were read whole), what is held
        is committed."""
        self._combining = True
        try:
            yield
        finally:
            self._combining = False
            self.flush()

    def hold(self, store: Store, batch: Batch, now: datetime, progress: Progress) -> None:
        """Commit this batch with the next ones, while the held lines stay within
        BATCH_LINES; outside `combined_writes`, commit it now."""
        if self._held_for != (store, now) or self._held_lines + batch.lines > BATCH_LINES:
            self.flush()
        if not self._combining:
            self.commit(store, batch, now, progress)
            return
        self._held.append((batch, progress))
        self._held_lines += batch.lines
        self._held_for = (store, now)
        if self._held_lines >= BATCH_LINES:
            self.flush()

    def flush(self) -> None:
        """Commit what is held, if anything."""
        if self._held_for is not None:
            store, now = self._held_for
            self._write(store, now, self._take_held())

    def _take_held(self) -> list[tuple[Batch, Progress]]:
        held, self._held, self._held_lines, self._held_for = self._held, [], 0, None
        return held

    def _write(self, store: Store, now: datetime, parts: list[tuple[Batch, Progress]]) -> int:
        """One transaction: every part's records and errors, then each part's progress."""
        if not parts:
            return 0
        source = self.source
        calls = [call for batch, _ in parts for call in batch.calls]
        uris = [uri for batch, _ in parts for uri in batch.uris]
        errors = [error for batch, _ in parts for error in batch.errors]
        frame = self.calls_frame(parts)  # before take_fresh: it resolves profiles
        table = None if frame is None else latest_per_request(frame).to_arrow(
            compat_level=pl.CompatLevel.oldest())
        records = sum(batch.records for batch, _ in parts)
        fresh = self._resolver.take_fresh()

        def write(con: duckdb.DuckDBPyConnection) -> int:
            stored = 0
            if table is not None:
                stored = store_bedrock_table(con, table, now)
            elif calls:
                stored = store_bedrock_calls(con, calls, uris, now)
            record_line_errors(con, source, errors, now)
            record_resolutions(con, fresh, now)
            for _, progress in parts:
                progress(con)
            return stored

        stored = store.write(write)
        if self.tracker is not None:
            self.tracker.batch_done(records, len(errors))
        return stored


def record_line_errors(
    con: duckdb.DuckDBPyConnection, source: str, errors: list[LineError], now: datetime
) -> None:
    if not errors:
        return
    con.executemany(
        load_sql("sources/record_line_error.sql"),
        [[e.location, e.line, source, e.reason, e.excerpt, now] for e in errors],
    )
    where = sorted({e.location for e in errors})
    con.execute(load_sql("sources/record_line_rejections.sql"), [now, source, len(errors), ", ".join(where)[:1000]])


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
    first: int = 0,
) -> dict[str, int]:
    """Read numbered lines (bytes, or already-decoded records) after line `first` in
    batches; `progress(last_line, done, batch)` makes each batch's bookkeeping write.
    Once the reader's budget is spent it stops after the current line, not done.
    An object read in one batch is held (`LogReader.hold`), a larger one's last batch
    commits at once, as its earlier batches did."""
    totals = {"lines": 0, "records": 0, "errors": 0}
    batch, last, done, split = Batch(), first, True, False
    native = reader.native is not None
    for number, raw in lines:
        last = number
        if native and isinstance(raw, bytes):
            reader.queue_line(batch, raw, location, number)
        else:
            reader.settle(batch, location)  # keeps the errors in line order
            if raw is None:
                reader.budget.bytes += MAX_LINE_BYTES
                reader.add_error(batch, location, number, "line too long")
            elif isinstance(raw, bytes | str):
                reader.add_line(batch, raw, location, number)
            else:
                reader.add_decoded(batch, raw, location, number)
        if batch.lines >= BATCH_LINES:
            reader.settle(batch, location)
            _flush(reader, store, batch, now, progress(last, False, batch), totals)
            batch, split = Batch(), True
        # Checked after the line, never before it: the stream is then positioned after
        # `last`, which is where the next run starts.
        if reader.budget.spent():
            done = False
            break
    reader.settle(batch, location)
    _flush(reader, store, batch, now, progress(last, done, batch), totals, hold=not split)
    return totals


def _flush(reader: LogReader, store: Store, batch: Batch, now: datetime, progress: Progress,
           totals: dict[str, int], hold: bool = False) -> None:
    if hold:
        reader.hold(store, batch, now, progress)
    else:
        reader.commit(store, batch, now, progress)
    totals["lines"] += batch.lines
    totals["records"] += batch.records
    totals["errors"] += len(batch.errors)


# -- object progress (shared with the S3 source) ---------------------------------------

@dataclass(frozen=True, slots=True)
class ObjectState:
    size: int | None
    mtime_ns: int | None
    etag: str | None
    byte_offset: int
    line_offset: int
    complete: bool


def object_state(store: Store, uri: str) -> ObjectState | None:
    rows = store.query(load_sql("sources/log_object_state.sql"), [uri]).to_pylist()
    return ObjectState(**rows[0]) if rows else None


def object_progress(uri: str, size: int | None, mtime_ns: int | None, etag: str | None,
                    now: datetime, byte_offset: Callable[[], int] = lambda: 0,
                    immutable: bool = True) -> ProgressFactory:
    """Progress writes for one object: lines consumed, and whether it is finished."""
    def factory(last: int, done: bool, batch: Batch) -> Progress:
        offset = byte_offset()  # read now: the stream is positioned after line `last`

        def write(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(load_sql("sources/upsert_log_object.sql"),
                        [uri, size, mtime_ns, etag, offset, last, batch.records,
                         len(batch.errors), done and immutable, now])
        return write
    return factory


# -- local files -------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def ingest_path(reader: LogReader, store: Store, root: Path, now: datetime,
                on_progress: OnProgress | None = None) -> dict[str, int]:
    """Every log file under `root` not yet (fully) read; growing files continue. The walk
    and the reads stop once the reader's budget is spent. `on_progress` is told the
    files, records and bytes done after each file and each batch."""
    totals = {"files": 0, "lines": 0, "records": 0, "errors": 0}
    if on_progress is not None:
        reader.tracker = ProgressTracker(on_progress, _sizes(root.resolve()))
    with reader.combined_writes():
        for path in log_files(root.resolve(), reader.budget):
            done = ingest_file(reader, store, path, now)
            if reader.tracker is not None:
                reader.tracker.file_done(path)
            if done is not None:
                totals["files"] += 1
                for key, value in done.items():
                    totals[key] += value
    return totals


def _sizes(root: Path) -> dict[Path, int]:
    """The on-disk size of each log file the walk will reach; a throwaway budget, so
    the counting walk neither stops the run nor counts its skips twice."""
    sizes: dict[Path, int] = {}
    for path in log_files(root, RunBudget()):
        try:
            sizes[path] = path.stat(follow_symlinks=False).st_size
        except OSError:  # gone since the walk: the read will skip it and say why
            sizes[path] = 0
    return sizes


def ingest_file(reader: LogReader, store: Store, path: Path, now: datetime
                ) -> dict[str, int] | None:
    """Read what is new in one file; None when nothing changed since the last read, when
    the file is skipped, or when the run had to stop first."""
    stream = open_regular(path, reader.budget)
    if stream is None:
        return None
    with stream:
        if reader.tracker is not None:
            reader.tracker.reading(stream.tell)
        return _ingest_open(reader, store, path, stream, now)


def _ingest_open(reader: LogReader, store: Store, path: Path, stream: IO[bytes],
                 now: datetime) -> dict[str, int] | None:
    uri, info = str(path), os.fstat(stream.fileno())
    state = object_state(store, uri)
    same = state is not None and state.size == info.st_size and state.mtime_ns == info.st_mtime_ns
    if state is not None and same and (state.complete or state.byte_offset >= info.st_size):
        return None
    gzipped = path.name.endswith(".gz")
    if gzipped and not reader.budget.fits(info.st_size):
        skip_file(reader.budget, uri, f"larger than ingest.max_file_bytes ({info.st_size} bytes)")
        return None
    if not reader.budget.take_file():
        return None
    skip = state.line_offset if state is not None and same else 0
    progress = object_progress(uri, info.st_size, info.st_mtime_ns, None, now)
    if gzipped:
        return _ingest_gzip(reader, store, uri, stream, skip, now, progress, info.st_size)
    document = _document(stream, info) if path.name.endswith(".json") else None
    if document is None:
        return _ingest_growing(reader, store, uri, stream, info, state, now)
    reader.budget.bytes += info.st_size
    items = ((n, item) for n, item in enumerate(document, start=1) if n > skip)
    return ingest_lines(reader, store, uri, items, now, progress, first=skip)


def gzip_lines(reader: LogReader, stream: IO[bytes], size: int | None) -> gzip.GzipFile | io.BytesIO:
    """The decompressed lines of a gzip body: inflated natively in one piece when the
    module is built and the body is small enough, else read as it goes by GzipFile, which
    also reads a body the native inflater refuses, so damage is worded as before."""
    if reader.native is None or size is None or size > NATIVE_GZIP_BYTES:
        return gzip.GzipFile(fileobj=stream)
    body = stream.read(NATIVE_GZIP_BYTES + 1)
    if len(body) > NATIVE_GZIP_BYTES:  # larger than when it was listed
        return gzip.GzipFile(fileobj=io.BufferedReader(_Chained(body, stream)))
    plain = invocation_native.inflate(reader.native, body, NATIVE_INFLATED_BYTES)
    return io.BytesIO(plain) if plain is not None else gzip.GzipFile(fileobj=io.BytesIO(body))


class _Chained(io.RawIOBase):
    """Bytes already read, then the rest of the stream they came from."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _ingest_gzip(reader: LogReader, store: Store, uri: str, stream: IO[bytes], skip: int,
                 now: datetime, progress: ProgressFactory, size: int) -> dict[str, int]:
    """An immutable gzip file, resumed after its first `skip` lines."""
    try:
        with gzip_lines(reader, stream, size) as lines:
            return ingest_lines(reader, store, uri, read_lines(lines, skip), now, progress, first=skip)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # A damaged archive: keep what was read, record it, and leave it until it changes,
        # rather than failing the whole folder on every run.
        log.warning("%s: unreadable gzip: %s", uri, exc)
        broken = Batch()
        reader.add_error(broken, uri, 0, f"unreadable gzip: {exc}")
        reader.commit(store, broken, now, progress(0, True, broken))
        return {"lines": 0, "records": 0, "errors": 1}


def _ingest_growing(reader: LogReader, store: Store, uri: str, stream: IO[bytes],
                    info: os.stat_result, state: ObjectState | None, now: datetime) -> dict[str, int]:
    """Plain JSON-lines files may be appended to: continue from the stored byte offset,
    unless the file shrank (rotated or rewritten), then read it again from the start."""
    grew = state is not None and info.st_size >= (state.size or 0)
    start_line = 0
    if grew and state is not None:
        stream.seek(state.byte_offset)
        start_line = state.line_offset
    numbered = ((start_line + n, raw) for n, raw in read_lines(stream, whole_lines_only=True))
    progress = object_progress(uri, info.st_size, info.st_mtime_ns, None, now,
                               byte_offset=stream.tell, immutable=False)
    return ingest_lines(reader, store, uri, numbered, now, progress, first=start_line)


def _document(stream: IO[bytes], info: os.stat_result) -> list[Any] | None:
    """The records of a `.json` file holding one pretty-printed record or an array; None,
    with the stream back at its start, when it holds JSON lines or is too large."""
    if info.st_size > MAX_DOCUMENT_BYTES:
        return None
    try:
        value = orjson.loads(stream.read(MAX_DOCUMENT_BYTES + 1))
    except orjson.JSONDecodeError:
        stream.seek(0)
        return None
    return value if isinstance(value, list) else [value]
