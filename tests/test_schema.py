"""The migrated schema equals the documented one (docs/schema.md), and the columns other parts rely on exist."""

from __future__ import annotations

import re
from pathlib import Path

from outcrop.core.store.writer import apply_migrations, connect

DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"

# the llm_calls contract other parts build on (docs/CONTRACTS.md)
CONTRACT_LLM_CALLS = [
    "call_id",
    "source",
    "ts",
    "trace_id",
    "span_id",
    "request_id",
    "tenant",
    "route",
    "workflow",
    "feature",
    "user_id",
    "prompt_version",
    "environment",
    "operation",
    "provider",
    "request_model",
    "response_model",
    "model",
    "region",
    "inference_profile",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "streaming",
    "ttft_ms",
    "ttlt_ms",
    "otps",
    "status",
    "error_type",
    "finish_reason",
]
CONTRACT_SPANS = [
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "service_name",
    "start_time",
    "end_time",
    "duration_ms",
    "status_code",
    "status_message",
    "attributes",
    "resource_attributes",
    "events",
    "tenant",
    "route",
    "workflow",
]


def _documented() -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^## (\w+)$", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
            continue
        row = re.match(r"^\| (\w+) \| ([^|]+?) \|", line)
        if current and row and row.group(1) != "column":
            tables[current].append((row.group(1), row.group(2)))
    return tables


def _migrated() -> dict[str, list[tuple[str, str]]]:
    con = connect(":memory:", read_only=False)
    apply_migrations(con)
    tables = {}
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
    ).fetchall():
        tables[table] = [
            tuple(r)
            for r in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
    con.close()
    return tables


def test_migrated_schema_equals_documented_schema() -> None:
    assert _migrated() == _documented()


def test_design_columns_exist() -> None:
    migrated = _migrated()
    assert [c for c in CONTRACT_LLM_CALLS if c not in dict(migrated["llm_calls"])] == []
    assert [c for c in CONTRACT_SPANS if c not in dict(migrated["spans"])] == []
    for grain in ("rollup_1m", "rollup_1h", "rollup_1d"):
        assert [name for name, _ in migrated[grain]][:6] == ["bucket", "tenant", "route", "workflow", "model", "region"]
