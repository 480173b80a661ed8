"""Bedrock invocation logs delivered to CloudWatch Logs, one record per event.

Progress is a watermark per log group and stream: the newest event timestamp seen and
the ids of the events at exactly that timestamp (CloudWatch's startTime is inclusive at
millisecond grain, so several events can share it). Each page of events commits with
the watermark it advances to. Events that CloudWatch ingests with a timestamp older
than the watermark are not seen; Bedrock writes its events in near real time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import orjson

from outcrop.collector.receivers.bedrock_files import Batch, LogReader, Progress
from outcrop.core.aws import AwsClients, classify_error
from outcrop.core.store import watermarks
from outcrop.core.store.writer import Store

PAGE_EVENTS = 1_000
MAX_PAGES_PER_POLL = 1_000  # bounded work per poll; the next poll continues


@dataclass(slots=True)
class EventWatermark:
    ts_ms: int = 0
    ids: set[str] = field(default_factory=set)

    def seen(self, ts_ms: int, event_id: str) -> bool:
        return ts_ms < self.ts_ms or (ts_ms == self.ts_ms and event_id in self.ids)

    def advance(self, ts_ms: int, event_id: str) -> None:
        if ts_ms > self.ts_ms:
            self.ts_ms, self.ids = ts_ms, {event_id}
        elif ts_ms == self.ts_ms:
            self.ids.add(event_id)

    def dump(self) -> str:
        return orjson.dumps({"ts": self.ts_ms, "ids": sorted(self.ids)}).decode()

    @classmethod
    def load(cls, value: str | None) -> EventWatermark:
        if not value:
            return cls()
        data = orjson.loads(value)
        return cls(int(data["ts"]), set(data["ids"]))


def watermark_name(group: str, stream: str) -> str:
    return f"bedrock_cwl:{group}:{stream}"


def ingest_log_group(reader: LogReader, store: Store, clients: AwsClients, group: str,
                     stream: str, now: datetime) -> dict[str, int]:
    """One poll: every event after the stored watermark, page by page."""
    logs = clients.client("logs")
    name = watermark_name(group, stream)
    start = _load(store, name)
    current = EventWatermark(start.ts_ms, set(start.ids))
    params: dict[str, Any] = {"logGroupName": group, "logStreamNames": [stream],
                              "limit": PAGE_EVENTS}
    if start.ts_ms:
        params["startTime"] = start.ts_ms
    totals = {"pages": 0, "events": 0, "records": 0, "errors": 0}
    for _ in range(MAX_PAGES_PER_POLL):
        if reader.budget.spent():  # the run's bounds: each page committed its watermark
            break
        try:
            page = logs.filter_log_events(**params)
        except Exception as exc:
            raise classify_error(exc, f"cloudwatch-logs://{group}/{stream}") from exc
        batch = _page_batch(reader, group, stream, page.get("events", []), start, current)
        reader.commit(store, batch, now, _progress(name, current.dump(), now))
        totals["pages"] += 1
        totals["events"] += batch.lines
        totals["records"] += len(batch.calls)
        totals["errors"] += len(batch.errors)
        token = page.get("nextToken")
        if not token:
            break
        params["nextToken"] = token
    return totals


def _page_batch(reader: LogReader, group: str, stream: str, events: Sequence[dict[str, Any]],
                start: EventWatermark, current: EventWatermark) -> Batch:
    batch = Batch()
    for event in events:
        ts_ms, event_id = int(event["timestamp"]), str(event["eventId"])
        # Filter against the poll's starting watermark: a page may repeat the events
        # that share its first millisecond with the previous poll.
        if start.seen(ts_ms, event_id):
            continue
        location = f"cloudwatch-logs://{group}/{event.get('logStreamName', stream)}#{event_id}"
        reader.add_line(batch, str(event.get("message", "")), location, 1)
        current.advance(ts_ms, event_id)
    return batch


def _progress(name: str, value: str, now: datetime) -> Progress:
    def write(con: duckdb.DuckDBPyConnection) -> None:
        watermarks.set(con, name, value, now)
    return write


def _load(store: Store, name: str) -> EventWatermark:
    return EventWatermark.load(watermarks.get(store, name))
