"""Invocation logs in S3, against a real moto server reached through boto3 endpoint URLs."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.receivers import bedrock_files
from outcrop.collector.sources import SourceContext, read_log_source_once
from outcrop.core.aws import AwsError
from outcrop.core.settings import AwsSettings, ProfilesSettings, Settings
from outcrop.core.store.writer import Store
from tests.conftest_aws import REGION, aws_env, boto, endpoints, moto_url  # noqa: F401

NOW = datetime(2026, 11, 20, 15, 0, 0)
BUCKET = "bedrock-logs"
ROOT = "team-a/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/"
SOURCE = f"s3://{BUCKET}/team-a"


def record(request_id: str, hour: int = 14, **output: Any) -> dict[str, Any]:
    body = {"stopReason": "end_turn", "metrics": {"latencyMs": 250}}
    return {
        "schemaType": "ModelInvocationLog", "timestamp": f"2026-11-20T{hour:02d}:10:00Z",
        "accountId": "111122223333", "region": "us-east-1", "requestId": request_id,
        "operation": "Converse", "modelId": "us.amazon.nova-pro-v1:0",
        "input": {"inputTokenCount": "120"},  # numbers may arrive as strings
        "output": {"outputTokenCount": 30, "outputBodyJson": body, **output},
    }


def put_log(s3: Any, hour: int, name: str, lines: list[Any]) -> str:
    key = f"{ROOT}2026/11/20/{hour:02d}/{name}.json.gz"
    raw = b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(raw))
    return key


class Calls:
    """S3 requests the code under test made, seen through botocore's event hooks."""

    def __init__(self, context: SourceContext) -> None:
        self.listed: list[dict[str, Any]] = []
        self.got: list[str] = []
        client = context.clients.client("s3")
        client.meta.events.register("provide-client-params.s3.ListObjectsV2", self._list)
        client.meta.events.register("provide-client-params.s3.GetObject", self._get)

    def _list(self, params: dict[str, Any], **_: Any) -> None:
        self.listed.append(dict(params))

    def _get(self, params: dict[str, Any], **_: Any) -> None:
        self.got.append(params["Key"])


@pytest.fixture()
def s3(aws_env: str) -> Any:  # noqa: F811 - pytest fixture injection
    client = boto("s3", aws_env)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture()
def settings(aws_env: str) -> Settings:  # noqa: F811
    return Settings(
        aws=AwsSettings(region=REGION, endpoints=endpoints(aws_env)),
        profiles=ProfilesSettings(resolve_with_api=False),
    )


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "outcrop.duckdb")


def poll(db: str, settings: Settings) -> tuple[dict[str, int], Calls, list[str]]:
    """One poll by a freshly started process: new store, new clients, new caches."""
    context = SourceContext.build(settings)
    calls = Calls(context)
    store = Store.open(db)
    try:
        totals = read_log_source_once(store, settings, SOURCE, NOW, context=context)
        ids = store.query("SELECT request_id FROM bedrock_invocations ORDER BY 1").to_pylist()
    finally:
        store.close()
    return totals, calls, [r["request_id"] for r in ids]


def test_polling_is_incremental_across_hours_and_restarts(s3: Any, db: str,
                                                          settings: Settings) -> None:
    put_log(s3, 9, "a", [record("h09-1"), record("h09-2")])
    put_log(s3, 10, "a", [record("h10-1")])
    put_log(s3, 11, "a", [record("h11-1")])
    s3.put_object(Bucket=BUCKET, Key=ROOT.rsplit("us-east-1/", 1)[0]
                  + "amazon-bedrock-logs-permission-check", Body=b"")
    s3.put_object(Bucket=BUCKET, Key=f"{ROOT}2026/11/20/11/data/body.json.gz", Body=b"{}")

    totals, calls, ids = poll(db, settings)
    assert totals == {"objects": 3, "lines": 4, "records": 4, "errors": 0}
    assert ids == ["h09-1", "h09-2", "h10-1", "h11-1"]
    assert "StartAfter" not in calls.listed[-1]  # the first poll lists everything

    put_log(s3, 11, "b", [record("h11-late")])  # a straggler in the watermark hour
    put_log(s3, 12, "a", [record("h12-1")])
    totals, calls, ids = poll(db, settings)
    assert totals == {"objects": 2, "lines": 2, "records": 2, "errors": 0}
    assert ids == ["h09-1", "h09-2", "h10-1", "h11-1", "h11-late", "h12-1"]
    log_listings = [p for p in calls.listed if "Delimiter" not in p]
    # Only the hour before the watermark (11) onwards is listed again, never hour 09.
    assert [p.get("StartAfter") for p in log_listings] == [f"{ROOT}2026/11/20/10/"]
    assert sorted(calls.got) == [f"{ROOT}2026/11/20/11/b.json.gz",
                                 f"{ROOT}2026/11/20/12/a.json.gz"]

    totals, calls, _ids = poll(db, settings)  # nothing new: nothing read
    assert totals["objects"] == 0 and calls.got == []
    assert [p.get("StartAfter") for p in calls.listed if "Delimiter" not in p] == [
        f"{ROOT}2026/11/20/11/"
    ]


def test_crash_in_the_middle_of_an_object_resumes_without_doubling(
    s3: Any, db: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_log(s3, 14, "big", [record(f"r{i}") for i in range(5)])
    monkeypatch.setattr(bedrock_files, "BATCH_LINES", 2)
    commits = {"n": 0}
    real = bedrock_files.LogReader.commit

    def crash_on_second(self: Any, *args: Any) -> int:
        commits["n"] += 1
        if commits["n"] == 2:
            raise RuntimeError("process killed")
        return real(self, *args)

    monkeypatch.setattr(bedrock_files.LogReader, "commit", crash_on_second)
    with pytest.raises(RuntimeError):
        poll(db, settings)
    monkeypatch.setattr(bedrock_files.LogReader, "commit", real)
    totals, _calls, ids = poll(db, settings)
    assert totals["lines"] == 3  # lines 3..5 only; 1..2 committed before the crash
    assert ids == [f"r{i}" for i in range(5)]


def test_body_in_s3_is_fetched_only_when_the_record_needs_it(s3: Any, db: str,
                                                             settings: Settings) -> None:
    body_key = f"{ROOT}2026/11/20/14/data/abc_output.json.gz"
    s3.put_object(Bucket=BUCKET, Key=body_key, Body=gzip.compress(json.dumps(
        {"stopReason": "max_tokens", "metrics": {"latencyMs": 4321}}).encode()))
    moved = record("moved")
    del moved["output"]["outputBodyJson"]
    moved["output"]["outputBodyS3Path"] = f"s3://{BUCKET}/{body_key}"
    log_key = put_log(s3, 14, "a", [moved, record("inline")])

    _totals, calls, _ids = poll(db, settings)
    assert sorted(calls.got) == sorted([log_key, body_key])
    store = Store.open(db)
    rows = store.query("SELECT request_id, finish_reason, ttlt_ms, input_tokens "
                       "FROM bedrock_invocations ORDER BY 1").to_pylist()
    store.close()
    assert rows == [
        {"request_id": "inline", "finish_reason": "end_turn", "ttlt_ms": 250.0,
         "input_tokens": 120},
        {"request_id": "moved", "finish_reason": "max_tokens", "ttlt_ms": 4321.0,
         "input_tokens": 120},
    ]


def test_same_record_delivered_in_two_objects_is_one_row(s3: Any, db: str,
                                                         settings: Settings) -> None:
    put_log(s3, 14, "a", [record("dup"), record("one")])
    put_log(s3, 14, "b", [record("dup")])
    totals, _calls, ids = poll(db, settings)
    assert totals["records"] == 3 and ids == ["dup", "one"]
    store = Store.open(db)
    calls = store.query("SELECT call_id, source FROM llm_calls ORDER BY 1").to_pylist()
    store.close()
    assert calls == [{"call_id": "dup", "source": "bedrock_log"},
                     {"call_id": "one", "source": "bedrock_log"}]


def test_malformed_lines_in_an_object_are_recorded_with_object_and_line(
    s3: Any, db: str, settings: Settings
) -> None:
    key = put_log(s3, 14, "a", [record("ok-1"), b"{not json", b"[1, 2]", record("ok-2")])
    totals, _calls, ids = poll(db, settings)
    assert totals == {"objects": 1, "lines": 4, "records": 2, "errors": 2}
    assert ids == ["ok-1", "ok-2"]
    store = Store.open(db)
    errors = store.query("SELECT location, line, source FROM ingest_errors ORDER BY line")
    store.close()
    assert errors.to_pylist() == [
        {"location": f"s3://{BUCKET}/{key}", "line": 2, "source": "bedrock_s3"},
        {"location": f"s3://{BUCKET}/{key}", "line": 3, "source": "bedrock_s3"},
    ]


def test_missing_bucket_is_a_permanent_error_naming_it(aws_env: str, db: str,  # noqa: F811
                                                       settings: Settings) -> None:
    store = Store.open(db)
    try:
        with pytest.raises(AwsError) as raised:
            read_log_source_once(store, settings, "s3://no-such-bucket/logs", NOW)
    finally:
        store.close()
    assert raised.value.retryable is False
    assert raised.value.code == "NoSuchBucket"
    assert "s3://no-such-bucket/" in str(raised.value)
