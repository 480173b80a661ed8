"""Hand-made traces for the trace and stage-latency queries: spans and their LLM calls.

Every number the tests expect is computed by hand from the rows below. Prices are stated
here (PRICED at $3 input, $15 output, $0.30 cache read, $3.75 cache write per million
tokens); UNPRICED has no price, so its calls cost NULL.

- trace A (acme, chat), starts T0+10m, 1,200 ms: retrieval 5-105 ms holding a query
  embedding 10-40 ms (100 input tokens = $0.0003), build_prompt 105-110 ms, a throttled chat
  attempt 110-500 ms, its retry 900-1,100 ms (1,000 input, 3,000 cache read, 200 output =
  $0.003 + $0.0009 + $0.003 = $0.0069), apply_guardrail 1,100-1,190 ms. Cost $0.0072.
- trace B (globex, search), starts T0+20m, 400 ms, root status error, one chat call
  10-390 ms on UNPRICED (cost NULL).
- trace C (acme, chat), starts T0+30m, 50 ms: one span whose parent (a remote caller) was
  never received, no calls.
- trace D (acme, chat) started at T0-30m, before the range; only a child falls inside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PriceOverride, PricingSettings

PRICED = "test.model-v1:0"
UNPRICED = "acme.secret-v9:0"
PRICING = PricingSettings(use_genai_prices=False, overrides=(PriceOverride(
    model=PRICED, input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.30,
    cache_write_per_mtok=3.75),))  # fmt: skip
RANGE = {"from": T0, "to": T0 + timedelta(hours=1)}
A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def sid(n: int) -> str:
    return f"{n:016x}"


def _span(trace: str, span: int, parent: int | None, name: str, start: datetime, ms: tuple[float, float],
          tenant: str = "acme", route: str = "chat", kind: str = "internal", status: str = "unset",
          parent_id: str | None = None) -> dict[str, Any]:
    begin, end = start + timedelta(milliseconds=ms[0]), start + timedelta(milliseconds=ms[1])
    return {"trace_id": trace, "span_id": sid(span), "parent_span_id": sid(parent) if parent else parent_id,
            "name": name, "kind": kind, "service_name": "api", "start_time": begin, "end_time": end,
            "duration_ms": ms[1] - ms[0], "status_code": status, "attributes": '{"k": "v"}',
            "events": "[]", "tenant": tenant, "route": route, "workflow": route, "received_at": T0}


def _call(trace: str, span: int, start: datetime, ms: tuple[float, float], **row: Any) -> dict[str, Any]:
    return {"call_id": trace + sid(span), "trace_id": trace, "span_id": sid(span),
            "ts": start + timedelta(milliseconds=ms[0]), "ttlt_ms": ms[1] - ms[0], "model": PRICED, **row}


def spans_and_calls() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    a, b, c, d = (T0 + timedelta(minutes=m) for m in (10, 20, 30, -30))
    spans = [
        _span(A, 1, None, "POST /api/chat", a, (0, 1200), kind="server"),
        _span(A, 2, 1, "retrieve documents", a, (5, 105)),
        _span(A, 3, 2, "embeddings amazon.titan-embed", a, (10, 40), kind="client"),
        _span(A, 4, 1, "build_prompt", a, (105, 110)),
        _span(A, 5, 1, "chat test.model", a, (110, 500), kind="client", status="error"),
        _span(A, 6, 1, "chat test.model", a, (900, 1100), kind="client"),
        _span(A, 7, 1, "apply_guardrail", a, (1100, 1190)),
        _span(B, 1, None, "POST /api/search", b, (0, 400), tenant="globex", route="search", kind="server",
              status="error"),
        _span(B, 2, 1, "chat secret", b, (10, 390), tenant="globex", route="search", kind="client"),
        _span(C, 1, None, "GET /api/health", c, (0, 50), kind="server", parent_id="e" * 16),
        _span(D, 1, None, "POST /api/chat", d, (0, 2_400_000), kind="server"),
        _span(D, 2, 1, "chat test.model", d, (2_100_000, 2_200_000), kind="client"),
    ]
    calls = [
        _call(A, 3, a, (10, 40), operation="embeddings", input_tokens=100, request_id="req-a3"),
        _call(A, 5, a, (110, 500), status="throttled", error_type="ThrottlingException", request_id="req-a5"),
        _call(A, 6, a, (900, 1100), input_tokens=1000, cache_read_tokens=3000, output_tokens=200,
              ttft_ms=80.0, request_id="req-a6"),
        _call(B, 2, b, (10, 390), model=UNPRICED, tenant="globex", route="search", workflow="search",
              input_tokens=10, output_tokens=10, request_id="req-b2"),
        _call(D, 2, d, (2_100_000, 2_200_000), input_tokens=5, output_tokens=5),
    ]
    return spans, calls


def insert_spans(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    cols = sorted({k for row in rows for k in row})
    table = pa.Table.from_pylist([{c: row.get(c) for c in cols} for row in rows])
    con.register("new_spans", table)
    names = ", ".join(cols)
    con.execute(f"INSERT INTO spans ({names}) SELECT {names} FROM new_spans")
    con.unregister("new_spans")


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """Write traces A-D into a migrated database and price them."""
    spans, calls = spans_and_calls()
    insert_spans(con, spans)
    insert_calls(con, calls, T0)
    run_rollups(con, PRICING, T0 + timedelta(days=1))


def trace_db() -> duckdb.DuckDBPyConnection:
    """A migrated in-memory database holding traces A-D, priced."""
    con = fresh_db()
    fill(con)
    return con
