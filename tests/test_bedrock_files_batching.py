"""Many small log files share a transaction, and keep every guarantee of one file each.

A folder or S3 poll holds each file read whole in one batch back and commits it with
the next ones, at most BATCH_LINES lines a transaction (here set to 5). Each file's
progress row still commits in the transaction of its records, so a failed commit loses
no file and doubles none.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.receivers import bedrock_files
from outcrop.collector.sources import SourceContext, read_log_source_once
from outcrop.core.settings import AwsSettings, ProfilesSettings, Settings
from outcrop.core.store import watermarks
from outcrop.core.store.writer import Store
from tests.conftest_aws import REGION, aws_env, boto, endpoints, moto_url  # noqa: F401

NOW = datetime(2026, 11, 20, 15, 0, 0)
BUCKET = "bedrock-logs"
ROOT = "team-a/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/"


def record(request_id: str, *, tenant: str | None = None, output_tokens: int = 10,
           hour: int = 14) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": f"2026-11-20T{hour:02d}:00:00Z", "accountId": "111122223333",
        "region": "us-east-1", "requestId": request_id, "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputTokenCount": 100},
        "output": {"outputTokenCount": output_tokens,
                   "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 300}}},
    }
    if tenant is not None:
        rec["requestMetadata"] = {"tenant": tenant}
    return rec


def gz(*lines: dict[str, Any] | bytes) -> bytes:
    raw = b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)
    return gzip.compress(raw)


def settings() -> Settings:
    return Settings(profiles=ProfilesSettings(resolve_with_api=False))


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bedrock_files, "BATCH_LINES", 5)


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "outcrop.duckdb")


def four_files(folder: Path) -> None:
    """a, b, c, d with two records each: a+b fit in 5 lines, c would make 6."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in "abcd":
        (folder / f"{name}.json.gz").write_bytes(gz(record(f"{name}1"), record(f"{name}2")))


def counting_writes(store: Store, monkeypatch: pytest.MonkeyPatch,
                    fail_on: int | None = None) -> list[int]:
    """Replace store.write by one that counts calls (and raises on call `fail_on`)."""
    seen: list[int] = []
    real: Callable[..., Any] = store.write

    def write(fn: Callable[..., Any], timeout: float | None = None) -> Any:
        seen.append(len(seen) + 1)
        if seen[-1] == fail_on:
            raise RuntimeError("the process died before this commit")
        return real(fn, timeout)

    monkeypatch.setattr(store, "write", write)
    return seen


def objects(store: Store) -> dict[str, tuple[int, int, int, bool]]:
    rows = store.query("SELECT uri, line_offset, records, errors, complete "
                       "FROM bedrock_log_objects ORDER BY uri").to_pylist()
    return {Path(r["uri"]).name: (r["line_offset"], r["records"], r["errors"], r["complete"])
            for r in rows}


def ids(store: Store, table: str = "bedrock_invocations") -> list[str]:
    return [r["request_id"] for r in
            store.query(f"SELECT request_id FROM {table} ORDER BY 1").to_pylist()]


def test_small_files_share_a_transaction_of_at_most_batch_lines(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    four_files(tmp_path / "logs")
    store = Store.open(db)
    writes = counting_writes(store, monkeypatch)
    totals = read_log_source_once(store, settings(), str(tmp_path / "logs"), NOW)
    assert totals == {"files": 4, "lines": 8, "records": 8, "errors": 0}
    assert writes == [1, 2]  # a+b (4 lines), then c+d (4 lines): never 6 in one
    assert objects(store) == {f"{n}.json.gz": (2, 2, 0, True) for n in "abcd"}
    assert ids(store) == ["a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2"]
    assert ids(store, "llm_calls") == ids(store)
    store.close()


def test_a_failed_combined_commit_loses_no_file_and_the_rerun_doubles_none(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    four_files(tmp_path / "logs")
    store = Store.open(db)
    counting_writes(store, monkeypatch, fail_on=2)
    with pytest.raises(RuntimeError, match="died"):
        read_log_source_once(store, settings(), str(tmp_path / "logs"), NOW)
    assert objects(store) == {"a.json.gz": (2, 2, 0, True), "b.json.gz": (2, 2, 0, True)}
    assert ids(store) == ["a1", "a2", "b1", "b2"]  # c and d: neither rows nor progress
    store.close()

    store = Store.open(db)  # a restart reads what was not committed, once
    again = read_log_source_once(store, settings(), str(tmp_path / "logs"), NOW)
    assert again == {"files": 2, "lines": 4, "records": 4, "errors": 0}
    assert objects(store) == {f"{n}.json.gz": (2, 2, 0, True) for n in "abcd"}
    assert ids(store, "llm_calls") == ["a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2"]
    store.close()


def test_files_held_when_a_later_file_fails_are_committed(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    four_files(tmp_path / "logs")
    real = bedrock_files.ingest_file

    def fail_on_c(reader: Any, store: Store, path: Path, now: datetime) -> Any:
        if path.name == "c.json.gz":
            raise OSError("disk went away")
        return real(reader, store, path, now)

    monkeypatch.setattr(bedrock_files, "ingest_file", fail_on_c)
    store = Store.open(db)
    with pytest.raises(OSError, match="disk"):
        read_log_source_once(store, settings(), str(tmp_path / "logs"), NOW)
    assert objects(store) == {"a.json.gz": (2, 2, 0, True), "b.json.gz": (2, 2, 0, True)}
    assert ids(store) == ["a1", "a2", "b1", "b2"]
    store.close()


def test_a_bad_line_in_one_file_keeps_the_good_lines_of_every_file(tmp_path: Path, db: str) -> None:
    (tmp_path / "a.json.gz").write_bytes(gz(record("a1"), b"not json"))
    (tmp_path / "b.json.gz").write_bytes(gz(record("b1"), b'{"requestId": "b2", "modelId": 7}'))
    store = Store.open(db)
    totals = read_log_source_once(store, settings(), str(tmp_path), NOW)
    assert totals == {"files": 2, "lines": 4, "records": 2, "errors": 2}
    assert ids(store) == ["a1", "b1"]
    errors = store.query("SELECT location, line, excerpt IS NOT NULL AS kept "
                         "FROM ingest_errors ORDER BY 1, 2").to_pylist()
    assert [(Path(e["location"]).name, e["line"], e["kept"]) for e in errors] == [
        ("a.json.gz", 2, False), ("b.json.gz", 2, True)]
    assert objects(store) == {"a.json.gz": (2, 1, 1, True), "b.json.gz": (2, 1, 1, True)}
    store.close()


def test_a_retried_delivery_in_the_same_transaction_is_counted_once(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.json.gz").write_bytes(gz(record("r1", output_tokens=10)))
    (tmp_path / "b.json.gz").write_bytes(gz(record("r1", output_tokens=20), record("r2")))
    store = Store.open(db)
    writes = counting_writes(store, monkeypatch)
    read_log_source_once(store, settings(), str(tmp_path), NOW)
    assert writes == [1]
    rows = store.query("SELECT call_id, output_tokens FROM llm_calls ORDER BY 1").to_pylist()
    assert rows == [{"call_id": "r1", "output_tokens": 20}, {"call_id": "r2", "output_tokens": 10}]
    store.close()


def test_tenants_of_files_in_one_transaction_stay_their_own(tmp_path: Path, db: str) -> None:
    (tmp_path / "a.json.gz").write_bytes(gz(record("a1", tenant="acme")))
    (tmp_path / "b.json.gz").write_bytes(gz(record("b1", tenant="globex"), record("b2")))
    store = Store.open(db)
    read_log_source_once(store, settings(), str(tmp_path), NOW)
    rows = store.query("SELECT call_id, tenant FROM llm_calls ORDER BY 1").to_pylist()
    assert [(r["call_id"], r["tenant"]) for r in rows] == [
        ("a1", "acme"), ("b1", "globex"), ("b2", "unattributed")]
    store.close()


def test_a_large_file_after_small_ones_commits_them_first_in_its_first_batch(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.json.gz").write_bytes(gz(record("a1"), record("a2")))
    (tmp_path / "b-big.json.gz").write_bytes(gz(*(record(f"b{i}") for i in range(7))))
    store = Store.open(db)
    writes = counting_writes(store, monkeypatch, fail_on=2)
    with pytest.raises(RuntimeError):
        read_log_source_once(store, settings(), str(tmp_path), NOW)
    # Write 1 held a and the big file's first 5 lines; its last 2 lines failed.
    assert writes == [1, 2]
    assert objects(store) == {"a.json.gz": (2, 2, 0, True), "b-big.json.gz": (5, 5, 0, False)}
    store.close()

    store = Store.open(db)
    again = read_log_source_once(store, settings(), str(tmp_path), NOW)
    assert again == {"files": 1, "lines": 2, "records": 2, "errors": 0}
    assert objects(store)["b-big.json.gz"] == (7, 7, 0, True)
    store.close()


@pytest.fixture()
def s3(aws_env: str) -> Any:  # noqa: F811 - pytest fixture injection
    client = boto("s3", aws_env)
    client.create_bucket(Bucket=BUCKET)
    return client


def test_small_s3_objects_share_a_transaction_and_move_the_hour_watermark(
    s3: Any, aws_env: str, db: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    for hour, name in ((9, "a"), (10, "b"), (11, "c")):
        s3.put_object(Bucket=BUCKET, Key=f"{ROOT}2026/11/20/{hour:02d}/{name}.json.gz",
                      Body=gz(record(f"h{hour}-1", hour=hour), record(f"h{hour}-2", hour=hour)))
    config = Settings(aws=AwsSettings(region=REGION, endpoints=endpoints(aws_env)),
                      profiles=ProfilesSettings(resolve_with_api=False))
    store = Store.open(db)
    writes = counting_writes(store, monkeypatch)
    totals = read_log_source_once(store, config, f"s3://{BUCKET}/team-a", NOW,
                                  context=SourceContext.build(config))
    assert totals == {"objects": 3, "lines": 6, "records": 6, "errors": 0}
    assert writes == [1, 2]  # hours 09+10 (4 lines), then 11
    name = f"bedrock_s3:s3://{BUCKET}/{ROOT}"
    assert watermarks.get(store, name) == "2026/11/20/11"
    assert objects(store) == {f"{n}.json.gz": (2, 2, 0, True) for n in "abc"}
    assert ids(store) == ["h10-1", "h10-2", "h11-1", "h11-2", "h9-1", "h9-2"]
    store.close()
