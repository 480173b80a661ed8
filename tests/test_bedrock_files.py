"""Local invocation-log files: formats, restarts, growing files, malformed lines."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from collector.settings import ProfilesSettings, Settings
from collector.sources import ingest_once
from collector.store import Store

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
    first = ingest_once(store, settings(), str(tmp_path / "logs"), NOW)
    store.close()
    assert first == {"files": 2, "lines": 3, "records": 3, "errors": 0}

    store = Store.open(db)  # a restart: progress comes from the file, not from memory
    again = ingest_once(store, settings(), str(tmp_path / "logs"), NOW)
    assert again == {"files": 0, "lines": 0, "records": 0, "errors": 0}
    assert stored_ids(store) == ["r1", "r2", "r3"]
    store.close()


def test_growing_file_continues_after_its_last_whole_line(tmp_path: Path, db: str) -> None:
    path = tmp_path / "live.jsonl"
    half = json.dumps(record("r3")).encode()
    path.write_bytes(jsonl([record("r1"), record("r2")]) + half[:40])  # writer mid-line
    store = Store.open(db)
    assert ingest_once(store, settings(), str(path), NOW)["records"] == 2
    store.close()

    path.write_bytes(jsonl([record("r1"), record("r2")]) + half + b"\n" + jsonl([record("r4")]))
    store = Store.open(db)
    second = ingest_once(store, settings(), str(path), NOW)
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
    totals = ingest_once(store, settings(), str(path), NOW)
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
    totals = ingest_once(store, settings(), str(tmp_path), NOW)
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
    assert ingest_once(store, settings(), str(tmp_path), NOW)["records"] == 3
    assert ingest_once(store, settings(), str(tmp_path), NOW)["records"] == 0
    assert stored_ids(store) == ["p1", "p2", "p3"]
    store.close()


def test_samples_folder_ingests_both_samples(db: str) -> None:
    store = Store.open(db)
    totals = ingest_once(store, settings(), str(SAMPLES), NOW)
    assert totals["records"] == 2 and totals["errors"] == 0
    store.close()
