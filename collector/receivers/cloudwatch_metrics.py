"""CloudWatch `AWS/Bedrock` metrics per model, one row per minute (bedrock_metrics_1m).

Invocation logs do not see requests rejected before invocation, so throttles and quota
usage come from here. Each poll re-reads the last `lookback_minutes`
at Period 60 and upserts, since CloudWatch fills recent minutes in late; running a poll
twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from outcrop.core.aws import AwsClients, classify_error
from outcrop.core.settings import CloudWatchMetricsSource
from outcrop.core.store.writer import Store

NAMESPACE = "AWS/Bedrock"
PERIOD_SECONDS = 60
MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit

# (column, CloudWatch metric name, statistic). Counts are sums over the minute;
# latencies are the minute's average (the only statistic that merges with a count).
METRICS: tuple[tuple[str, str, str], ...] = (
    ("invocations", "Invocations", "Sum"),
    ("invocation_throttles", "InvocationThrottles", "Sum"),
    ("invocation_client_errors", "InvocationClientErrors", "Sum"),
    ("invocation_server_errors", "InvocationServerErrors", "Sum"),
    ("input_token_count", "InputTokenCount", "Sum"),
    ("output_token_count", "OutputTokenCount", "Sum"),
    ("invocation_latency_ms", "InvocationLatency", "Average"),
    ("time_to_first_token_ms", "TimeToFirstToken", "Average"),
    ("estimated_tpm_quota_usage", "EstimatedTPMQuotaUsage", "Sum"),
)
_COLUMNS = [column for column, _name, _stat in METRICS]
_AVERAGES = {column for column, _name, stat in METRICS if stat == "Average"}

_UPSERT = f"""
INSERT INTO bedrock_metrics_1m AS m (ts, region, model_id, {", ".join(_COLUMNS)}, polled_at)
VALUES ({", ".join("?" for _ in range(len(_COLUMNS) + 4))})
ON CONFLICT (ts, region, model_id) DO UPDATE SET
    {", ".join(f"{c} = coalesce(excluded.{c}, m.{c})" for c in _COLUMNS)},
    polled_at = excluded.polled_at
"""  # noqa: S608 - column names are the constants above, values are bound


def poll_metrics(store: Store, clients: AwsClients, config: CloudWatchMetricsSource,
                 now: datetime) -> dict[str, int]:
    """One poll over the lookback window; returns minutes and models written."""
    cloudwatch = clients.client("cloudwatch")
    region = clients.region or "unknown"
    try:
        model_ids = list(config.model_ids) or discover_model_ids(cloudwatch)
        end = _minute(now)
        start = end - timedelta(minutes=config.lookback_minutes)
        cells = fetch_cells(cloudwatch, model_ids, start, end)
    except Exception as exc:
        raise classify_error(exc, f"cloudwatch {NAMESPACE} metrics in {region}") from exc
    rows = _rows(cells, region, _naive(now))
    if rows:
        store.write(lambda con: _upsert(con, rows))
    return {"models": len(model_ids), "rows": len(rows)}


def discover_model_ids(cloudwatch: Any) -> list[str]:
    """Every ModelId that has reported Invocations (dimension ModelId alone)."""
    found: set[str] = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(
        Namespace=NAMESPACE, MetricName="Invocations"
    ):
        for metric in page.get("Metrics", []):
            dims = metric.get("Dimensions", [])
            if len(dims) == 1 and dims[0].get("Name") == "ModelId":
                found.add(str(dims[0]["Value"]))
    return sorted(found)


Cells = dict[tuple[datetime, str], dict[str, float]]


def fetch_cells(cloudwatch: Any, model_ids: Sequence[str], start: datetime,
                end: datetime) -> Cells:
    """(minute, model) → {column: value}, from GetMetricData in chunks of 500 queries."""
    index: dict[str, tuple[str, str]] = {}
    queries: list[dict[str, Any]] = []
    for m, model_id in enumerate(model_ids):
        for c, (column, name, stat) in enumerate(METRICS):
            query_id = f"m{m}_{c}"
            index[query_id] = (model_id, column)
            queries.append(_query(query_id, model_id, name, stat))
    cells: Cells = {}
    for chunk in _chunks(queries, MAX_QUERIES_PER_CALL):
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=chunk, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        ):
            for result in page.get("MetricDataResults", []):
                model_id, column = index[result["Id"]]
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []),
                                     strict=False):
                    cells.setdefault((_naive(ts), model_id), {})[column] = float(value)
    return cells


def _query(query_id: str, model_id: str, name: str, stat: str) -> dict[str, Any]:
    metric = {"Namespace": NAMESPACE, "MetricName": name,
              "Dimensions": [{"Name": "ModelId", "Value": model_id}]}
    return {"Id": query_id, "ReturnData": True,
            "MetricStat": {"Metric": metric, "Period": PERIOD_SECONDS, "Stat": stat}}


def _rows(cells: Cells, region: str, polled_at: datetime) -> list[list[Any]]:
    rows = []
    for (ts, model_id), values in sorted(cells.items()):
        row: list[Any] = [ts, region, model_id]
        for column in _COLUMNS:
            value = values.get(column)
            row.append(value if value is None or column in _AVERAGES else round(value))
        row.append(polled_at)
        rows.append(row)
    return rows


def _upsert(con: duckdb.DuckDBPyConnection, rows: list[list[Any]]) -> int:
    con.executemany(_UPSERT, rows)
    return len(rows)


def _chunks(items: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _naive(ts: datetime) -> datetime:
    """Naive UTC, the form TIMESTAMP columns hold."""
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _minute(ts: datetime) -> datetime:
    return _naive(ts).replace(second=0, microsecond=0).replace(tzinfo=UTC)
