"""Invocation logs in CloudWatch Logs and AWS/Bedrock metrics, against a real moto server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.receivers import bedrock_cloudwatch
from outcrop.collector.sources import configured_sources, read_log_source_once
from outcrop.core.aws import AwsError
from outcrop.core.settings import (
    AwsSettings,
    CloudWatchMetricsSource,
    ProfilesSettings,
    Settings,
    SourcesSettings,
)
from outcrop.core.store.writer import Store
from tests.conftest_aws import REGION, aws_env, boto, endpoints, moto_url  # noqa: F401

GROUP = "/bedrock/invocations"
STREAM = "aws/bedrock/modelinvocations"
# CloudWatch Logs (and moto) refuse events older than 14 days by the wall clock, so the
# log events are stamped an hour before the real now, not on a fixed date.
_BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
BASE_MS = int(_BASE.timestamp() * 1000)
NOW = (_BASE + timedelta(hours=1)).replace(tzinfo=None)


def event(request_id: str, ms: int) -> dict[str, Any]:
    message = {
        "schemaType": "ModelInvocationLog", "timestamp": _BASE.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "requestId": request_id, "operation": "ConverseStream", "region": "us-east-1",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputTokenCount": 10}, "output": {"outputTokenCount": 5},
    }
    return {"timestamp": BASE_MS + ms, "message": json.dumps(message)}


@pytest.fixture()
def settings(aws_env: str) -> Settings:  # noqa: F811 - pytest fixture injection
    return Settings(
        aws=AwsSettings(region=REGION, endpoints=endpoints(aws_env)),
        profiles=ProfilesSettings(resolve_with_api=False),
    )


@pytest.fixture()
def logs(aws_env: str) -> Any:  # noqa: F811
    client = boto("logs", aws_env)
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    return client


def poll(db: str, settings: Settings) -> tuple[dict[str, int], list[str]]:
    store = Store.open(db)
    try:
        totals = read_log_source_once(store, settings, f"cloudwatch-logs://{GROUP}", NOW)
        rows = store.query("SELECT request_id FROM bedrock_invocations ORDER BY 1").to_pylist()
    finally:
        store.close()
    return totals, [r["request_id"] for r in rows]


def test_log_events_are_paged_and_restarts_neither_repeat_nor_skip(
    logs: Any, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bedrock_cloudwatch, "PAGE_EVENTS", 3)
    # Seven events, three of them in the same millisecond (the watermark must keep ids).
    first = [event(f"e{i}", ms) for i, ms in enumerate([0, 10, 20, 30, 40, 50, 50])]
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=first)
    db = str(tmp_path / "outcrop.duckdb")

    totals, ids = poll(db, settings)
    assert totals == {"pages": 3, "events": 7, "records": 7, "errors": 0}
    assert ids == [f"e{i}" for i in range(7)]

    # After a restart: one more event in the watermark's millisecond, and later ones.
    later = [event("e7", 50), event("e8", 60), event("e9", 70)]
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=later)
    totals, ids = poll(db, settings)
    assert totals["records"] == 3 and totals["events"] == 3
    assert ids == [f"e{i}" for i in range(10)]

    totals, _ids = poll(db, settings)
    assert totals["records"] == 0


def test_unknown_log_group_is_a_permanent_error_naming_it(aws_env: str,  # noqa: F811
                                                          settings: Settings,
                                                          tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "outcrop.duckdb"))
    try:
        with pytest.raises(AwsError) as raised:
            read_log_source_once(store, settings, "cloudwatch-logs://missing-group", NOW)
    finally:
        store.close()
    assert raised.value.retryable is False
    assert "cloudwatch-logs://missing-group/" in str(raised.value)


MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


def put_metrics(cloudwatch: Any, name: str, points: list[tuple[int, int, float]]) -> None:
    """points: (minute past 14:00, second, value)."""
    cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": MODEL}],
         "Timestamp": datetime(2026, 11, 20, 14, minute, second, tzinfo=UTC), "Value": value}
        for minute, second, value in points
    ])


def test_metrics_poll_writes_one_row_per_minute_and_is_idempotent(
    aws_env: str, tmp_path: Path  # noqa: F811
) -> None:
    cloudwatch = boto("cloudwatch", aws_env)
    put_metrics(cloudwatch, "Invocations", [(57, 5, 3), (57, 40, 2), (58, 1, 4)])
    put_metrics(cloudwatch, "InvocationThrottles", [(57, 10, 1)])
    put_metrics(cloudwatch, "InputTokenCount", [(57, 5, 1200), (57, 40, 800), (58, 1, 999)])
    put_metrics(cloudwatch, "OutputTokenCount", [(57, 5, 300), (58, 1, 100)])
    put_metrics(cloudwatch, "InvocationLatency", [(57, 5, 100), (57, 40, 300), (58, 1, 250)])
    put_metrics(cloudwatch, "InvocationLatency", [(59, 1, 999)])  # 14:59 is still open
    settings = Settings(
        aws=AwsSettings(region=REGION, endpoints=endpoints(aws_env)),
        sources=SourcesSettings(cloudwatch_metrics=CloudWatchMetricsSource(
            enabled=True, lookback_minutes=10)),
    )
    [(name, interval, job)] = configured_sources(settings)
    assert (name, interval) == ("cloudwatch_metrics", 300.0)
    store = Store.open(str(tmp_path / "outcrop.duckdb"))
    try:
        now = datetime(2026, 11, 20, 14, 59, 30)
        assert job(store, now) == {"models": 1, "rows": 2}  # model found by list_metrics
        assert job(store, now) == {"models": 1, "rows": 2}
        rows = store.query("SELECT * EXCLUDE (polled_at) FROM bedrock_metrics_1m ORDER BY ts")
    finally:
        store.close()
    common = {"region": "us-east-1", "model_id": MODEL, "invocation_client_errors": None,
              "invocation_server_errors": None, "time_to_first_token_ms": None,
              "estimated_tpm_quota_usage": None}
    assert rows.to_pylist() == [
        {**common, "ts": datetime(2026, 11, 20, 14, 57), "invocations": 5,
         "invocation_throttles": 1, "input_token_count": 2000, "output_token_count": 300,
         "invocation_latency_ms": 200.0},
        {**common, "ts": datetime(2026, 11, 20, 14, 58), "invocations": 4,
         "invocation_throttles": None, "input_token_count": 999, "output_token_count": 100,
         "invocation_latency_ms": 250.0},
    ]
