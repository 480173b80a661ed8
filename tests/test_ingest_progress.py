"""A local ingest tells its caller how far it is: files, records and on-disk bytes."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.progress import Progress
from outcrop.collector.receivers import bedrock_files
from outcrop.collector.sources import read_log_source_once
from outcrop.core.settings import ProfilesSettings, Settings
from outcrop.core.store.writer import Store

NOW = datetime(2026, 11, 20, 15, 0, 0)


def record(request_id: str) -> dict[str, Any]:
    return {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": "2026-11-20T14:00:00Z", "accountId": "111122223333",
        "region": "us-east-1", "requestId": request_id, "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputTokenCount": 100},
        "output": {"outputTokenCount": 10,
                   "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 300}}},
    }


def lines(prefix: str, n: int) -> bytes:
    return b"".join(json.dumps(record(f"{prefix}-{i}")).encode() + b"\n" for i in range(n))


def settings() -> Settings:
    return Settings(profiles=ProfilesSettings(resolve_with_api=False))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    (root / "2026" / "11").mkdir(parents=True)
    (root / "a.jsonl").write_bytes(lines("a", 3))
    (root / "2026" / "11" / "b.json.gz").write_bytes(gzip.compress(lines("b", 4)))
    (root / "2026" / "11" / "c.jsonl").write_bytes(lines("c", 5) + b"not json\n")
    (root / "notes.txt").write_text("not a log")  # not counted: not a log by name
    return root


def test_local_ingest_reports_every_file_records_and_bytes(folder: Path, store: Store) -> None:
    seen: list[Progress] = []
    report = read_log_source_once(store, settings(), str(folder), NOW, on_progress=seen.append)
    assert report["records"] == 12
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.name != "notes.txt" and p.is_file())
    assert seen[0] == Progress(0, 3, 0, 0, 0, on_disk)  # the totals before the first read
    assert seen[-1] == Progress(3, 3, 12, 1, on_disk, on_disk)
    assert [p.files_done for p in seen] == sorted(p.files_done for p in seen)
    assert [p.bytes_done for p in seen] == sorted(p.bytes_done for p in seen)


def test_a_large_file_reports_within_the_file(tmp_path: Path, store: Store,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bedrock_files, "BATCH_LINES", 10)
    big = tmp_path / "big.jsonl"
    big.write_bytes(lines("big", 35))
    seen: list[Progress] = []
    read_log_source_once(store, settings(), str(big), NOW, on_progress=seen.append)
    within = [p for p in seen if p.files_done == 0 and p.records]
    assert [p.records for p in within] == [10, 20, 30, 35]
    assert 0 < within[0].bytes_done < big.stat().st_size
    assert seen[-1] == Progress(1, 1, 35, 0, big.stat().st_size, big.stat().st_size)


def test_a_second_run_counts_unchanged_files_as_done(folder: Path, store: Store) -> None:
    read_log_source_once(store, settings(), str(folder), NOW)
    seen: list[Progress] = []
    report = read_log_source_once(store, settings(), str(folder), NOW, on_progress=seen.append)
    assert report["records"] == 0
    assert (seen[-1].files_done, seen[-1].files_total, seen[-1].records) == (3, 3, 0)
    assert seen[-1].bytes_done == seen[-1].bytes_total
