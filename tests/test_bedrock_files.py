"""Local invocation-log files: formats, restarts, growing files, malformed lines."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.sources import read_log_source_once
from outcrop.core.settings import ProfilesSettings, Settings
from outcrop.core.store.writer import Store

NOW = datetime(2026, 11, 20, 15, 0, 0)
SAMPLES = Path(__file__).parent / "testdata" / "bedrock" / "samples"


def record(request_id: str, *, minute: int = 0, output_tokens: int = 10) -> dict[str, Any]:
    return {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": f"2026-11-20T14:{minute:02d}:00Z", "accountId": "111122223333",
        "region": "us-east-1", "requestId": request_id, "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputTokenCount": 100},
        "output": {"outputTokenCount": output_tokens,
                   "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 300}}},
    }


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def settings() -> Settings:
    return Settings(profiles=ProfilesSettings(resolve_with_api=False))


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "outcrop.duckdb")


def stored_ids(store: Store) -> list[str]:
    rows = store.query("SELECT request_id FROM bedrock_invocations ORDER BY 1").to_pylist()
    return [r["request_id"] for r in rows]


def test_gzip_and_plain_files_in_a_folder_are_read_once_across_restarts(
    tmp_path: Path, db: str
) -> None:
    logs = tmp_path / "logs" / "2026" / "11" / "20" / "14"
    logs.mkdir(parents=True)
    (logs / "a.json.gz").write_bytes(gzip.compress(jsonl([record("r1"), record("r2")])))
    (logs / "b.jsonl").write_bytes(jsonl([record("r3")]))
    (logs / "ignored.txt").write_text("not a log")
    store = Store.open(db)
    first = read_log_source_once(store, settings(), str(tmp_path / "logs"), NOW)
    store.close()
    assert first == {"files": 2, "lines": 3, "records": 3, "errors": 0}

    store = Store.open(db)  # a restart: progress comes from the file, not from memory
    again = read_log_source_once(store, settings(), str(tmp_path / "logs"), NOW)
    assert again == {"files": 0, "lines": 0, "records": 0, "errors": 0}
    assert stored_ids(store) == ["r1", "r2", "r3"]
    store.close()


def test_growing_file_continues_after_its_last_whole_line(tmp_path: Path, db: str) -> None:
    path = tmp_path / "live.jsonl"
    half = json.dumps(record("r3")).encode()
    path.write_bytes(jsonl([record("r1"), record("r2")]) + half[:40])  # writer mid-line
    store = Store.open(db)
    assert read_log_source_once(store, settings(), str(path), NOW)["records"] == 2
    store.close()

    path.write_bytes(jsonl([record("r1"), record("r2")]) + half + b"\n" + jsonl([record("r4")]))
    store = Store.open(db)
    second = read_log_source_once(store, settings(), str(path), NOW)
    assert second == {"files": 1, "lines": 2, "records": 2, "errors": 0}
    assert stored_ids(store) == ["r1", "r2", "r3", "r4"]
    uris = store.query(
        "SELECT source_uri FROM bedrock_invocations WHERE request_id = 'r4'"
    ).to_pylist()
    assert uris == [{"source_uri": f"{path.resolve()}:4"}]
    store.close()


def test_malformed_lines_are_skipped_counted_and_located(tmp_path: Path, db: str) -> None:
    path = tmp_path / "mixed.json.gz"
    lines = [
        json.dumps(record("good-1")).encode(),
        b'{"requestId": "broken", "timestamp": ',  # truncated JSON
        json.dumps({**record("x"), "requestId": None}).encode(),  # no requestId
        json.dumps({**record("bad-ts"), "timestamp": "yesterday"}).encode(),
        b"",  # blank lines are not errors
        json.dumps(record("good-2")).encode(),
    ]
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(path), NOW)
    assert totals == {"files": 1, "lines": 6, "records": 2, "errors": 3}
    assert stored_ids(store) == ["good-1", "good-2"]
    errors = store.query(
        "SELECT location, line, source, reason FROM ingest_errors ORDER BY line"
    ).to_pylist()
    where = str(path.resolve())
    assert [(e["location"], e["line"], e["source"]) for e in errors] == [
        (where, 2, "bedrock_files"), (where, 3, "bedrock_files"), (where, 4, "bedrock_files"),
    ]
    assert "requestId" in errors[1]["reason"] and "ISO 8601" in errors[2]["reason"]
    rejected = store.query(
        'SELECT source, reason, count FROM ingest_rejections'
    ).to_pylist()
    assert rejected == [{"source": "bedrock_files", "reason": "malformed_line", "count": 3}]
    store.close()


def test_same_record_in_two_files_is_stored_once(tmp_path: Path, db: str) -> None:
    (tmp_path / "one.jsonl").write_bytes(jsonl([record("dup", output_tokens=10)]))
    (tmp_path / "two.jsonl").write_bytes(jsonl([record("dup", output_tokens=10), record("r2")]))
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(tmp_path), NOW)
    assert totals["records"] == 3
    rows = store.query(
        "SELECT call_id, source, output_tokens FROM llm_calls ORDER BY 1"
    ).to_pylist()
    assert rows == [
        {"call_id": "dup", "source": "bedrock_log", "output_tokens": 10},
        {"call_id": "r2", "source": "bedrock_log", "output_tokens": 10},
    ]
    store.close()


def test_pretty_printed_json_document_and_array_files(tmp_path: Path, db: str) -> None:
    (tmp_path / "one.json").write_text(json.dumps(record("p1"), indent=2))
    (tmp_path / "many.json").write_text(json.dumps([record("p2"), record("p3")], indent=2))
    store = Store.open(db)
    assert read_log_source_once(store, settings(), str(tmp_path), NOW)["records"] == 3
    assert read_log_source_once(store, settings(), str(tmp_path), NOW)["records"] == 0
    assert stored_ids(store) == ["p1", "p2", "p3"]
    store.close()


def test_samples_folder_ingests_both_samples(db: str) -> None:
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(SAMPLES), NOW)
    assert totals["records"] == 2 and totals["errors"] == 0
    store.close()


# -- what a run may read, and how much ----------------------------------------------------

PASSWD = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def bounded(**limits: Any) -> Settings:
    return Settings(profiles=ProfilesSettings(resolve_with_api=False), ingest=limits)


def object_rows(store: Store) -> list[dict[str, Any]]:
    return store.query(
        "SELECT uri, line_offset, records, complete FROM bedrock_log_objects ORDER BY uri"
    ).to_pylist()


def test_non_json_lines_leave_no_excerpt_only_their_length(tmp_path: Path, db: str) -> None:
    (tmp_path / "passwd.jsonl").write_bytes(PASSWD)
    (tmp_path / "package.json").write_text(json.dumps({"name": "left-pad", "token": "s3cr3t"}))
    (tmp_path / "bedrock.jsonl").write_bytes(jsonl([{**record("x"), "requestId": None}]))
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(tmp_path), NOW)
    assert totals["errors"] == 4
    rows = store.query(
        "SELECT location, line, reason, excerpt FROM ingest_errors ORDER BY location, line"
    ).to_pylist()
    store.close()
    by_file = {(Path(r["location"]).name, r["line"]): r for r in rows}
    passwd = by_file[("passwd.jsonl", 1)]
    assert passwd["excerpt"] is None
    assert "not JSON" in passwd["reason"] and "31 bytes" in passwd["reason"]
    assert not any("root:" in str(r["reason"]) + str(r["excerpt"]) for r in rows)
    assert by_file[("package.json", 1)]["excerpt"] is None  # JSON, but not an invocation log
    assert "s3cr3t" not in str(rows)
    bedrock = by_file[("bedrock.jsonl", 1)]  # a malformed Bedrock record keeps its excerpt
    assert bedrock["excerpt"].startswith('{"schemaType": "ModelInvocationLog"')
    assert "requestId" in bedrock["reason"]


def test_fifos_and_sockets_named_like_logs_are_skipped_not_opened(tmp_path: Path, db: str) -> None:
    import os
    import socket
    import threading

    (tmp_path / "good.jsonl").write_bytes(jsonl([record("r1")]))
    os.mkfifo(tmp_path / "pipe.jsonl")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.json"))
    result: dict[str, Any] = {}
    store = Store.open(db)
    reader = threading.Thread(
        target=lambda: result.update(read_log_source_once(store, settings(), str(tmp_path), NOW)), daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # unblock the reader so the test can end
        os.close(os.open(tmp_path / "pipe.jsonl", os.O_WRONLY))
        reader.join(20)
    sock.close()
    store.close()
    assert result == {"files": 1, "lines": 1, "records": 1, "errors": 0, "skipped": 2}


def test_max_files_stops_the_run_and_the_next_run_continues(tmp_path: Path, db: str) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.jsonl").write_bytes(jsonl([record(f"r-{name}")]))
    store = Store.open(db)
    first = read_log_source_once(store, bounded(max_files=2), str(tmp_path), NOW)
    assert first == {"files": 2, "lines": 2, "records": 2, "errors": 0, "stopped": "max_files"}
    second = read_log_source_once(store, bounded(max_files=2), str(tmp_path), NOW)
    assert second == {"files": 1, "lines": 1, "records": 1, "errors": 0}
    assert stored_ids(store) == ["r-a", "r-b", "r-c"]
    store.close()


def test_max_bytes_stops_mid_file_and_the_next_run_resumes_at_the_next_line(
    tmp_path: Path, db: str
) -> None:
    path = tmp_path / "live.jsonl"
    path.write_bytes(jsonl([record(f"r{i}") for i in range(10)]))
    line_bytes = len(json.dumps(record("r0"))) + 1
    store = Store.open(db)
    limits = bounded(max_bytes=3 * line_bytes)
    first = read_log_source_once(store, limits, str(path), NOW)
    assert first == {"files": 1, "lines": 3, "records": 3, "errors": 0, "stopped": "max_bytes"}
    runs = [read_log_source_once(store, limits, str(path), NOW) for _ in range(3)]
    assert [r["records"] for r in runs] == [3, 3, 1]
    assert stored_ids(store) == sorted(f"r{i}" for i in range(10))
    assert object_rows(store) == [{"uri": str(path.resolve()), "line_offset": 10, "records": 10,
                                   "complete": False}]
    store.close()


def test_max_seconds_stops_a_gzip_file_which_is_resumed_not_reread(tmp_path: Path, db: str) -> None:
    from outcrop.collector.sources import read_log_source_once as ingest_with_clock

    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(jsonl([record(f"r{i:02d}") for i in range(30)])))
    ticks = iter(range(1_000_000))  # a clock that moves one second each time it is read
    store = Store.open(db)
    first = ingest_with_clock(store, bounded(max_seconds=10), str(path), NOW,
                              clock=lambda: float(next(ticks)))
    assert first["stopped"] == "max_seconds"
    assert 0 < first["records"] < 30
    assert object_rows(store)[0]["complete"] is False
    rest = read_log_source_once(store, bounded(), str(path), NOW)
    assert "stopped" not in rest
    assert first["records"] + rest["records"] == 30  # nothing read twice
    assert stored_ids(store) == [f"r{i:02d}" for i in range(30)]
    assert object_rows(store)[0] == {"uri": str(path.resolve()), "line_offset": 30, "records": 30,
                                     "complete": True}
    store.close()


def test_gzip_files_larger_than_max_file_bytes_are_skipped(tmp_path: Path, db: str) -> None:
    (tmp_path / "small.json.gz").write_bytes(gzip.compress(jsonl([record("r1")])))
    big = gzip.compress(jsonl([record(f"b{i}") for i in range(200)]))
    (tmp_path / "big.json.gz").write_bytes(big)
    store = Store.open(db)
    totals = read_log_source_once(store, bounded(max_file_bytes=len(big) - 1), str(tmp_path), NOW)
    assert totals == {"files": 1, "lines": 1, "records": 1, "errors": 0, "skipped": 1}
    assert stored_ids(store) == ["r1"]
    store.close()


def test_a_walk_stops_when_the_run_is_cancelled(tmp_path: Path, db: str) -> None:
    import threading

    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_bytes(jsonl([record(f"r-{name}")]))
    cancel = threading.Event()
    cancel.set()
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(tmp_path), NOW, cancel=cancel)
    assert totals == {"files": 0, "lines": 0, "records": 0, "errors": 0, "stopped": "cancelled"}
    assert object_rows(store) == []
    store.close()


def test_a_damaged_gzip_file_is_recorded_and_the_rest_of_the_folder_read(tmp_path: Path, db: str) -> None:
    (tmp_path / "a-broken.json.gz").write_bytes(gzip.compress(jsonl([record("lost")]))[:-12])
    (tmp_path / "b-good.jsonl").write_bytes(jsonl([record("kept")]))
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(tmp_path), NOW)
    assert (totals["files"], totals["records"], totals["errors"]) == (2, 1, 1)
    assert stored_ids(store) == ["kept"]
    [error] = store.query("SELECT reason, excerpt FROM ingest_errors").to_pylist()
    assert error["reason"].startswith("unreadable gzip") and error["excerpt"] is None
    store.close()
