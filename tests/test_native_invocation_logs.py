"""The native invocation-log path (outcrop_native's InvocationDecoder + the column-wise
normaliser) against the per-record reference (orjson + `parse_record`): every golden case
and sample, and generated lines — valid, odd types, duplicate keys, truncated, huge,
gzip — give identical calls, identical ingest_errors rows, and the same lines and bytes
counted; stored through both paths, the tables are identical.

Skipped when the module is not built, except in CI with cargo on PATH (as
test_native_decoder.py).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcrop.collector.decode import invocation_native
from outcrop.collector.normalize.bedrock_columns import calls_frame
from outcrop.collector.profiles import ProfileResolver
from outcrop.collector.receivers.bedrock_files import Batch, LogReader, ingest_lines, object_progress
from outcrop.core.settings import AttributionSettings, InferenceProfile, ProfilesSettings
from outcrop.core.store.writer import Store

if not invocation_native.AVAILABLE:
    if os.environ.get("CI") == "true" and shutil.which("cargo"):
        pytest.fail("outcrop_native is not importable although cargo is on PATH: scripts/setup.sh "
                    "must build it", pytrace=False)
    pytest.skip("outcrop_native is not built: the per-record path is the one in use",
                allow_module_level=True)

BEDROCK = Path(__file__).parent / "testdata" / "bedrock"
GOLDEN = sorted(p for p in (BEDROCK / "cases").glob("*.json") if ".expected" not in p.name) + sorted(
    (BEDROCK / "samples").glob("*.json"))
LOCATION = "s3://logs/AWSLogs/2026/11/20/part.json.gz"
APP_PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123"
KEYS = AttributionSettings(identity_tenants={
    "arn:aws:sts::111122223333:assumed-role/app-1/session": "exact-tenant",
    "arn:aws:sts::111122223333:assumed-role/*": "role-tenant",
})
PROFILES = ProfilesSettings(resolve_with_api=False, map={
    "abc123": InferenceProfile(model="anthropic.claude-3-5-haiku-20241022-v1:0", tenant="profiled",
                             workflow="from-profile"),
})
NOW = datetime(2026, 11, 21)


def compact(path: Path) -> bytes:
    return orjson.dumps(json.loads(path.read_text())) + b"\n"


def run(lines: list[bytes], native: bool, keys: AttributionSettings = KEYS,
        max_tokens: int = 1_000_000) -> dict[str, Any]:
    """One batch of lines through one path: its calls, errors and what it counted."""
    reader = LogReader("bedrock_s3", keys, ProfileResolver(PROFILES, keys, None), max_tokens=max_tokens)
    if not native:
        reader.native = None
    batch = Batch()
    for number, raw in enumerate(lines, start=1):
        if native:
            reader.queue_line(batch, raw, LOCATION, number)
        else:
            reader.add_line(batch, raw, LOCATION, number)
    if native:
        reader.settle(batch, LOCATION)
        frame = reader.calls_frame([(batch, lambda con: None)])
        frames = ([frame.drop("part")] if frame is not None
                  else [calls_frame(batch.calls, batch.uris, batch.call_lines)] if batch.calls else [])
    else:
        numbers = [int(uri.rsplit(":", 1)[1]) for uri in batch.uris]
        frames = [calls_frame(batch.calls, batch.uris, numbers)] if batch.calls else []
    # ts compared as microseconds: generated times may lie outside Python's datetime range
    calls = (pl.concat(frames, how="vertical_relaxed").with_columns(pl.col("ts").cast(pl.Int64)).to_dicts()
             if frames else [])
    return {"calls": calls, "errors": [asdict(e) for e in batch.errors], "lines": batch.lines,
            "bytes": reader.budget.bytes, "resolutions": sorted(map(str, reader._resolver.take_fresh()))}


def assert_same(lines: list[bytes], **kwargs: Any) -> dict[str, Any]:
    reference = run(lines, native=False, **kwargs)
    assert run(lines, native=True, **kwargs) == reference
    return reference


def test_every_golden_record_gives_the_same_call() -> None:
    got = assert_same([compact(p) for p in GOLDEN])
    assert len(got["calls"]) == len(GOLDEN) and got["errors"] == []


def test_the_converse_sample_gives_the_readme_values_natively() -> None:
    (call,) = run([compact(BEDROCK / "samples" / "bedrock-invocation-converse.json")], native=True)["calls"]
    assert (call["input_tokens"], call["cache_read_tokens"], call["output_tokens"]) == (1000, 3000, 200)
    assert (call["ttlt_ms"], call["ttft_ms"], call["streaming"]) == (1850.0, None, False)
    assert (call["tenant"], call["route"], call["workflow"]) == ("acme", "fast", "support-chat")
    assert call["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert call["source_uri"] == f"{LOCATION}:1"


def test_a_streamed_record_gets_ttft_and_otps_and_a_profile_its_tenant() -> None:
    record = {"requestId": "s1", "timestamp": "2026-11-20T10:00:00.25+01:00", "modelId": APP_PROFILE,
              "operation": "InvokeModelWithResponseStream",
              "identity": {"arn": "arn:aws:sts::111122223333:assumed-role/app-9/session"},
              "output": {"outputTokenCount": 200, "outputBodyJson": [
                  {"delta": {"stop_reason": "end_turn"}},
                  {"amazon-bedrock-invocationMetrics": {"invocationLatency": 2300, "firstByteLatency": 300}}]}}
    got = assert_same([orjson.dumps(record)])
    (call,) = got["calls"]
    # 200 tokens over the 2.0 s after the first token; the identity map names the tenant first
    assert (call["ttft_ms"], call["ttlt_ms"], call["otps"]) == (300.0, 2300.0, 100.0)
    assert (call["tenant"], call["workflow"]) == ("role-tenant", "from-profile")
    assert call["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert call["ts"] == (datetime(2026, 11, 20, 9, 0, 0, 250000) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def test_bad_lines_get_the_same_errors_and_blank_lines_none() -> None:
    good = compact(BEDROCK / "samples" / "bedrock-invocation-stream.json")
    lines = [b"not json at all\n", b"  \r\n", b'{"requestId": "x"}\n', b"[1, 2]\n",
             b'{"schemaType": "Other", "requestId": "y", "timestamp": 1}\n', good,
             b'{"requestId": "t", "timestamp": "2026-11-20T10:00:00Z", "input": {"inputTokenCount": -5}}\n',
             b'{"requestId": "u", "timestamp": "2026-13-20T10:00:00Z"}\n', b'{"requestId": "v", "timestamp"']
    got = assert_same(lines)
    assert [e["line"] for e in got["errors"]] == [1, 3, 4, 5, 7, 8, 9]
    assert len(got["calls"]) == 1 and got["lines"] == 9


def test_a_token_count_above_the_bound_is_an_error_in_both() -> None:
    line = b'{"requestId": "big", "timestamp": 0, "output": {"outputTokenCount": 5001}}\n'
    got = assert_same([line], max_tokens=5000)
    assert got["calls"] == [] and "output.outputTokenCount" in got["errors"][0]["reason"]


def test_duplicate_keys_keep_the_last_value_in_both() -> None:
    line = (b'{"requestId": "a", "timestamp": 0, "requestMetadata": {"tenant": "first", "tenant": "last"},'
            b' "region": "eu-west-1", "requestId": "b"}\n')
    (call,) = assert_same([line])["calls"]
    assert (call["request_id"], call["tenant"], call["region"]) == ("b", "last", "eu-west-1")


def test_a_request_id_read_twice_is_stored_once_with_its_last_line(tmp_path: Path) -> None:
    first = b'{"requestId": "r", "timestamp": 0, "output": {"outputTokenCount": 1}}\n'
    odd = b'{"requestId": "r", "timestamp": 0, "region": 7, "output": {"outputTokenCount": 2}}\n'  # deferred
    last = b'{"requestId": "r", "timestamp": 0, "output": {"outputTokenCount": 3}}\n'
    for lines, tokens in (([first, odd], 2), ([odd, last], 3), ([first, odd, last], 3)):
        native, reference = stored(tmp_path / f"n{tokens}{len(lines)}", lines, True), stored(
            tmp_path / f"p{tokens}{len(lines)}", lines, False)
        assert native == reference
        assert [r["output_tokens"] for r in native["bedrock_invocations"]] == [tokens]


def stored(folder: Path, lines: list[bytes], native: bool) -> dict[str, list[dict[str, Any]]]:
    """The tables after one ingest of these lines through one path."""
    folder.mkdir()
    store = Store.open(str(folder / "db.duckdb"))
    try:
        reader = LogReader("bedrock_s3", KEYS, ProfileResolver(PROFILES, KEYS, None))
        if not native:
            reader.native = None
        progress = object_progress(LOCATION, None, None, "etag", NOW)
        ingest_lines(reader, store, LOCATION, enumerate(lines, start=1), NOW, progress)
        return {table: store.query(f"SELECT * EXCLUDE ({skip}) FROM {table} ORDER BY ALL").to_pylist()
                for table, skip in (("bedrock_invocations", "ingested_at"), ("llm_calls", "ingested_at"),
                                    ("ingest_errors", "seen_at"), ("bedrock_log_objects", "updated_at"))}
    finally:
        store.close()


def test_a_mixed_file_is_stored_the_same_through_both_paths(tmp_path: Path) -> None:
    lines = [compact(p) for p in GOLDEN] + [b"{broken\n", b'{"requestId": "n", "timestamp": "x"}\n']
    native = stored(tmp_path / "native", lines, True)
    assert native == stored(tmp_path / "python", lines, False)
    assert len(native["bedrock_invocations"]) == len(GOLDEN) and len(native["ingest_errors"]) == 2


def test_gzip_is_inflated_natively_within_the_bound() -> None:
    plain = b"".join(compact(p) for p in GOLDEN)
    native = invocation_native.decoder(KEYS, 1_000_000, 1 << 20)
    whole = invocation_native.decode_gzip(native, gzip.compress(plain), len(plain))
    assert whole is not None and whole.equals(invocation_native.decode_lines(native, plain))
    assert invocation_native.decode_gzip(native, gzip.compress(plain), len(plain) - 1) is None
    assert invocation_native.decode_gzip(native, gzip.compress(plain)[:-9], len(plain)) is None
    two = gzip.compress(plain[:100]) + gzip.compress(plain[100:])  # members, as `cat a.gz b.gz`
    joined = invocation_native.decode_gzip(native, two, len(plain))
    assert joined is not None and joined.column("status").to_pylist() == whole.column("status").to_pylist()


# -- generated records -------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.integers(0, 5000),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from(["", "12", " 7", "3.5", "1e3", "ThrottlingException", "a#b#Throttled", "end_turn",
                     "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123+05:30", "2026-02-30T00:00:00",
                     "2026-11-20T10:00:00.1234567Z", "2026-11-20 10:00:00", "s3://bucket/body.json",
                     "us.anthropic.claude-3-5-haiku-20241022-v1:0", APP_PROFILE, "error",
                     "arn:aws:sts::111122223333:assumed-role/app-1/session"]),
)
# Times the reference can store: epoch milliseconds far past year 2262 overflow its
# nanosecond integers in both paths alike (the write fails), so they are not generated.
TIMES = st.one_of(st.integers(-10**12, 10**13), st.floats(-1e12, 1e13), st.none(), st.booleans(),
                  st.text(max_size=12), st.sampled_from(["2026-11-20T10:00:00Z", "2026-11-20T10:00:00.5-08:00",
                                                         "0001-01-01T00:00:00+01:00", "2026-11-20T10:00"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=6)
TOP = ["schemaType", "requestId", "timestamp", "operation", "region", "inferenceRegion", "accountId",
       "errorCode", "modelId"]
CHUNK_KEYS = ["amazon-bedrock-invocationMetrics", "metadata", "metrics", "delta", "messageStop",
              "stopReason", "stop_reason", "finish_reason", "completionReason", "finishReason", "choices",
              "results", "type", "error", "__type", "errorCode", "throttlingException",
              "modelStreamErrorException", "validationException"]
INNER = ["invocationLatency", "firstByteLatency", "latencyMs", "stop_reason", "stopReason", "type",
         "metrics", "finish_reason"]


def keyed(keys: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))


INNER_OBJECTS = keyed(INNER, st.one_of(SCALARS, keyed(INNER, SCALARS)))
CHUNK = keyed(CHUNK_KEYS, st.one_of(SCALARS, INNER_OBJECTS, st.lists(INNER_OBJECTS, max_size=2)))
# Mostly what Bedrock writes, so most records are decided natively; now and then anything.
TEXT = st.one_of(*[st.text(min_size=1, max_size=8)] * 4, SCALARS)
RECORDS = st.fixed_dictionaries(
    {"requestId": TEXT,
     "timestamp": st.one_of(st.integers(0, 2 * 10**12), st.sampled_from(["2026-11-20T10:00:00.5Z"]), TIMES)},
    optional={
        "schemaType": st.one_of(st.just("ModelInvocationLog"), st.just("ModelInvocationLog"), SCALARS),
        **{key: TEXT for key in TOP[3:]},
        "identity": st.one_of(keyed(["arn"], TEXT), SCALARS),
        "input": st.one_of(keyed(["inputTokenCount", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"],
                                 st.one_of(st.integers(0, 3000), SCALARS)), VALUES),
        "output": st.one_of(st.fixed_dictionaries({}, optional={
            "outputTokenCount": st.one_of(st.integers(0, 3000), SCALARS),
            "outputBodyJson": st.one_of(st.lists(st.one_of(CHUNK, SCALARS), max_size=4), CHUNK, VALUES),
            "outputBodyS3Path": SCALARS}), VALUES),
        "requestMetadata": st.one_of(keyed(["tenant", "tenant_id", "route", "workflow", "user_id", "x"], TEXT),
                                     VALUES),
        "inputBodyJson": VALUES,
    },
)


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """One line: a generated record, sometimes damaged as real files are."""
    # stdlib json: it writes integers past 64 bits, which orjson refuses to
    text = json.dumps(draw(RECORDS), ensure_ascii=False, separators=(",", ":")).encode()
    how = draw(st.sampled_from(["whole"] * 6 + ["truncated", "duplicate", "escaped", "crlf",
                                "huge", "bytes"]))
    if how == "truncated":
        text = text[:draw(st.integers(0, len(text)))]
    elif how == "duplicate":
        text = text[:-1] + b',"requestId":"dup","output":{"outputTokenCount":4}}'
    elif how == "escaped":
        text = text.replace(b'"requestId"', b'"request\\u0049d"').replace(b"a", b"\\u00e9", 1)
    elif how == "crlf":
        text += b"\r"
    elif how == "huge":
        text = text[:-1] + b',"inputBodyJson":"' + b"x" * 200_000 + b'","output":{"outputTokenCount":1e400}}'
    elif how == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([b"\xff", b"\\ud800", b"\x01", b"\t", b"\x0c"])) + text[at:]
    return text + b"\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines(), min_size=1, max_size=6))
def test_generated_lines_give_the_same_calls_and_errors(generated: list[bytes]) -> None:
    assert_same(generated)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines(), min_size=1, max_size=6))
def test_generated_gzip_bodies_decode_as_their_lines(generated: list[bytes]) -> None:
    plain = b"".join(generated)
    native = invocation_native.decoder(KEYS, 1_000_000, 1 << 20)
    inflated = invocation_native.decode_gzip(native, gzip.compress(plain), len(plain))
    assert inflated is not None
    assert pa.Table.from_batches([inflated]).equals(
        pa.Table.from_batches([invocation_native.decode_lines(native, plain)]))


# Records with a request id and a time, so the body, token and attribution rules are what
# differs; the other fields as above.
VALID = st.tuples(RECORDS, st.text(min_size=1, max_size=8), st.integers(0, 2 * 10**12)).map(
    lambda t: {**t[0], "schemaType": "ModelInvocationLog", "requestId": t[1], "timestamp": t[2]})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALID, min_size=1, max_size=6))
def test_generated_records_give_the_same_calls(records: list[dict[str, Any]]) -> None:
    assert_same([json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records])


def test_the_native_queue_is_decoded_once_it_holds_a_longest_line() -> None:
    from outcrop.collector.receivers.bedrock_files import NATIVE_CHUNK_BYTES

    reader = LogReader("bedrock_s3", KEYS, ProfileResolver(PROFILES, KEYS, None))
    batch = Batch()
    padding = b"x" * (NATIVE_CHUNK_BYTES // 2)
    for number in (1, 2, 3):
        line = b'{"requestId": "q%d", "timestamp": 0, "inputBodyJson": "%s"}\n' % (number, padding)
        reader.queue_line(batch, line, LOCATION, number)
    # the second line passed the bound: two decoded, the third still queued
    assert ([n for n, _ in batch.queued], sum(rows.num_rows for rows, _, _ in batch.native)) == ([3], 2)
    assert batch.lines == 3


def ingested_file(folder: Path, name: str, data: bytes, native: bool) -> dict[str, Any]:
    """One local file read through one path (`ingest_file`), and the tables after it."""
    from outcrop.collector.receivers.bedrock_files import ingest_file

    folder.mkdir()
    (folder / name).write_bytes(data)
    store = Store.open(str(folder / "db.duckdb"))
    try:
        reader = LogReader("bedrock_files", KEYS, ProfileResolver(PROFILES, KEYS, None))
        if not native:
            reader.native = None
        with reader.combined_writes():
            totals = ingest_file(reader, store, folder / name, NOW)
        tables = {table: store.query(f"SELECT * EXCLUDE ({skip}) FROM {table} ORDER BY ALL").to_pylist()
                  for table, skip in (("bedrock_invocations", "ingested_at, source_uri"),
                                      ("ingest_errors", "seen_at, location"),
                                      ("bedrock_log_objects", "updated_at, uri, mtime_ns"))}
        return {"totals": totals, **tables}
    finally:
        store.close()


def test_a_gzip_file_inflated_natively_is_stored_as_gzip_reads_it(tmp_path: Path) -> None:
    plain = b"".join(compact(p) for p in GOLDEN) + b"{broken\n" + b"\n" + b'{"requestId": "last", "timestamp": 5}'
    native = ingested_file(tmp_path / "n", "a.json.gz", gzip.compress(plain), True)
    assert native == ingested_file(tmp_path / "p", "a.json.gz", gzip.compress(plain), False)
    assert native["totals"] == {"lines": len(GOLDEN) + 3, "records": len(GOLDEN) + 1, "errors": 1}


def test_a_damaged_gzip_file_gets_the_reference_error(tmp_path: Path) -> None:
    damaged = gzip.compress(b"".join(compact(p) for p in GOLDEN))[:-30]
    native = ingested_file(tmp_path / "n", "a.json.gz", damaged, True)
    assert native == ingested_file(tmp_path / "p", "a.json.gz", damaged, False)
    assert native["ingest_errors"][0]["reason"].startswith("unreadable gzip: ")


def test_a_gzip_body_past_the_native_bound_is_read_as_it_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from outcrop.collector.receivers import bedrock_files

    plain = b"".join(compact(p) for p in GOLDEN)
    reader = LogReader("bedrock_s3", KEYS, ProfileResolver(PROFILES, KEYS, None))
    monkeypatch.setattr(bedrock_files, "NATIVE_GZIP_BYTES", 64)
    body = gzip.compress(plain)
    # listed as small but larger when read: the bytes read first and the rest, by GzipFile
    with bedrock_files.gzip_lines(reader, io.BytesIO(body), size=10) as lines:
        assert isinstance(lines, gzip.GzipFile) and lines.read() == plain
    with bedrock_files.gzip_lines(reader, io.BytesIO(body), size=len(body)) as lines:
        assert isinstance(lines, gzip.GzipFile) and lines.read() == plain
    monkeypatch.setattr(bedrock_files, "NATIVE_GZIP_BYTES", len(body))
    with bedrock_files.gzip_lines(reader, io.BytesIO(body), size=len(body)) as lines:
        assert isinstance(lines, io.BytesIO) and lines.read() == plain


def test_progress_counts_the_records_read_as_the_per_record_path_does(tmp_path: Path) -> None:
    from outcrop.collector.receivers.bedrock_files import ingest_path

    first = b'{"requestId": "r", "timestamp": 0}\n'
    lines = [first, first, b"{broken\n", *(compact(p) for p in GOLDEN)]
    reports = {}
    for native in (True, False):
        folder = tmp_path / str(native)
        (folder / "logs").mkdir(parents=True)
        (folder / "logs" / "a.jsonl").write_bytes(b"".join(lines))
        store = Store.open(str(folder / "db.duckdb"))
        reader = LogReader("bedrock_files", KEYS, ProfileResolver(PROFILES, KEYS, None))
        if not native:
            reader.native = None
        seen: list[Any] = []
        try:
            ingest_path(reader, store, folder / "logs", NOW, on_progress=seen.append)
        finally:
            store.close()
        reports[native] = [(p.files_done, p.records, p.errors) for p in seen]
    assert reports[True] == reports[False]
    assert reports[True][-1] == (1, len(GOLDEN) + 2, 1)  # a request id read twice counts twice, as before
