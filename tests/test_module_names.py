"""Names that say what they hold: the rollup read tiling, the one-shot log read, and the
trace-wide attribution resolver each live under a name a newcomer can guess."""

from __future__ import annotations

import importlib
import inspect
import json
from datetime import datetime
from pathlib import Path

from outcrop.analytics import windows
from outcrop.collector import merge, sources
from outcrop.core.settings import ProfilesSettings, Settings
from outcrop.core.store.writer import Store

T0 = datetime(2026, 11, 20, 13, 59, 30)


def test_a_read_range_is_tiled_into_day_hour_and_minute_pieces() -> None:
    tiling = windows.split_range(T0, datetime(2026, 11, 22, 0, 30), days_until=None)
    assert isinstance(tiling, windows.TiledRange)
    assert not hasattr(windows, "Span")  # a tracing code base: "span" means an OTLP span
    assert tiling.m1 == (datetime(2026, 11, 20, 13, 59), datetime(2026, 11, 20, 14, 0))
    assert tiling.d == (datetime(2026, 11, 21), datetime(2026, 11, 22))
    assert tiling.params()["m2_hi"] == datetime(2026, 11, 22, 0, 30)


def test_one_bedrock_log_source_is_read_now_by_read_log_source_once(tmp_path: Path) -> None:
    record = {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": "2026-11-20T14:00:00Z", "accountId": "111122223333",
        "region": "us-east-1", "requestId": "r-1", "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputTokenCount": 100}, "output": {"outputTokenCount": 7},
    }
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n")
    store = Store.open(str(tmp_path / "outcrop.duckdb"))
    try:
        settings = Settings(profiles=ProfilesSettings(resolve_with_api=False))
        report = sources.read_log_source_once(store, settings, str(tmp_path), T0)
        totals = store.query("SELECT sum(input_tokens) + sum(output_tokens) FROM llm_calls")
    finally:
        store.close()
    assert report == {"files": 1, "lines": 1, "records": 1, "errors": 0}
    assert totals.column(0)[0].as_py() == 107
    assert not hasattr(sources, "ingest_once")


def test_trace_wide_attribution_lives_in_its_own_module() -> None:
    inheritance = importlib.import_module("outcrop.collector.inheritance")
    assert inheritance.resolve_attribution.__module__ == "outcrop.collector.inheritance"
    # merge joins spans and logs and calls the resolver; it no longer defines it
    assert "def resolve_attribution" not in inspect.getsource(merge)
