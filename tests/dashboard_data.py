"""The dashboard tests' data set and helpers (the fixtures are in tests/dashboard_fixtures.py).

The data set (DAY and the day before it, PREVIOUS): per call, `input_tokens` 1,000 and
no output; model A costs $1,000 per million input tokens ($1.00 a call), model B $500
($0.50 a call), the unpriced model has no price.

  DAY        acme/chat/support   A  4 calls ok, streamed, TTFT 100..400 ms, TTLT 1..4 s   $4.00
             globex/search/rag   B  3 calls: ok, error, throttled, TTLT 800 ms          $1.50
             unattributed/chat   A  1 call ok, TTLT 1 s                                 $1.00
             acme/chat/support   U  1 call ok (unpriced), TTLT 1 s                      —
  PREVIOUS   acme/chat/support   A  2 calls ok, TTLT 500 ms and 1.5 s                   $2.00
             globex/search/rag   B  1 call ok, TTLT 800 ms                              $0.50

DAY's acme calls belong to trace TRACE_ID (a root span and its four LLM spans), so
`/v1/traces/{TRACE_ID}` answers.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from outcrop.core.store.writer import Store
from tests.conftest import RunningServer
from tests.test_rollups_fixtures import insert_calls

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
# dashboard/app.py's own body, from a script outside dashboard/ (tests/dashboard_fixtures.py says why)
APP_SCRIPT = "from outcrop.dashboard.app import main\n\nmain()\n"
DAY = datetime(2026, 11, 18)
PREVIOUS = DAY - timedelta(days=1)
DAY_RANGE = {"from": "2026-11-18T00:00:00Z", "to": "2026-11-19T00:00:00Z"}
MODEL_A = "test.dashboard-model-a"
MODEL_B = "test.dashboard-model-b"
MODEL_UNPRICED = "test.dashboard-unpriced"
PRICING = {"use_genai_prices": False, "overrides": [
    {"model": MODEL_A, "input_per_mtok": 1000.0, "output_per_mtok": 0.0},
    {"model": MODEL_B, "input_per_mtok": 500.0, "output_per_mtok": 0.0},
]}
TRACE_ID = "d0" * 16
ROOT_SPAN = "a0" * 8
ERROR_MESSAGE = "the store is being repaired"


def _call(call_id: str, ts: datetime, **row: Any) -> dict[str, Any]:
    return {"call_id": call_id, "ts": ts, "input_tokens": 1000, "output_tokens": 0, "ttlt_ms": 1000.0, **row}


def data_calls() -> list[dict[str, Any]]:
    """The calls of the module docstring's table."""
    at = DAY + timedelta(hours=10)
    acme = [_call(f"{TRACE_ID}{i:016x}", at + timedelta(minutes=i), model=MODEL_A, trace_id=TRACE_ID,
                  span_id=f"{i:016x}", streaming=True, ttft_ms=100.0 * i, ttlt_ms=1000.0 * i)
            for i in range(1, 5)]
    globex = [_call(f"globex-{status}", at + timedelta(hours=2), tenant="globex", route="search", workflow="rag",
                    model=MODEL_B, status=status, ttlt_ms=800.0)
              for status in ("ok", "error", "throttled")]
    other = [_call("unattributed-1", at, tenant="unattributed", model=MODEL_A),
             _call("unpriced-1", at + timedelta(hours=1), model=MODEL_UNPRICED)]
    before = PREVIOUS + timedelta(hours=10)
    previous = [_call("prev-acme-1", before, model=MODEL_A, ttlt_ms=500.0),
                _call("prev-acme-2", before + timedelta(minutes=1), model=MODEL_A, ttlt_ms=1500.0),
                _call("prev-globex-1", before, tenant="globex", route="search", workflow="rag", model=MODEL_B,
                      ttlt_ms=800.0)]
    return acme + globex + other + previous


_SPAN_SQL = """
INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, service_name, start_time, end_time,
                   duration_ms, status_code, attributes, resource_attributes, events, own_tenant, own_route,
                   own_workflow, tenant, route, workflow, received_at)
VALUES (?, ?, ?, ?, ?, 'support-bot', ?, ?, ?, 'ok', ?, '{}', '[]', ?, ?, ?, 'acme', 'chat', 'support', ?)
"""


def _spans() -> list[tuple[Any, ...]]:
    """The root span of TRACE_ID and one client span per acme LLM call of DAY."""
    start = DAY + timedelta(hours=10)
    rows: list[tuple[Any, ...]] = [(TRACE_ID, ROOT_SPAN, None, "POST /chat", "server", start,
                                    start + timedelta(minutes=5), 300_000.0, '{"tenant.id": "acme"}',
                                    "acme", "chat", "support", start)]
    for i in range(1, 5):
        begin = start + timedelta(minutes=i)
        attrs = json.dumps({"gen_ai.request.model": MODEL_A, "gen_ai.usage.input_tokens": 1000})
        rows.append((TRACE_ID, f"{i:016x}", ROOT_SPAN, f"chat {MODEL_A}", "client", begin,
                     begin + timedelta(milliseconds=1000 * i), 1000.0 * i, attrs, None, None, None, start))
    return rows


def write_data_set(store: Store, calls: list[dict[str, Any]] | None = None) -> None:
    """Write the calls (the docstring's data set by default) and their spans into a server's store."""
    rows = data_calls() if calls is None else calls
    store.write(lambda con: insert_calls(con, rows, DAY + timedelta(days=1)))
    if calls is None:
        store.write(lambda con: con.executemany(_SPAN_SQL, _spans()))


def run_rollups(server: RunningServer) -> None:
    """The rollups job, through the admin API as `outcrop jobs run` does."""
    answer = requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=120)
    answer.raise_for_status()


def build_app(page: str | None = "overview", query: dict[str, str | list[str]] | None = None,
              run: bool = True, timeout: float = 60) -> AppTest:
    """The dashboard app on `page` (a url_path; None for `/`) with the URL's `query`.

    It reads the API from the environment, as under `outcrop dashboard`; the
    `dashboard_app` fixture sets that (AppTest runs the script in this process).
    """
    st.cache_data.clear()  # answers cached by an earlier test's server (a port may come back)
    at = AppTest.from_string(APP_SCRIPT, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page is not None:
        at._page_hash = calc_hash(page)  # what the browser's `/page` resolves to (tests/dashboard_fixtures.py)
    return at.run() if run else at


_ALERT_SQL = """
INSERT INTO alert_instances (alert_id, rule, kind, group_key, state, severity, value, threshold, requests, message,
                             started_at, fired_at, resolved_at, evaluated_at, acked)
VALUES (?, ?, ?, ?, ?, 'warning', ?, ?, ?, ?, ?, ?, ?, ?, false)
"""


def write_alert(store: Store, alert_id: int, state: str, group: dict[str, str], started_at: datetime,
                rule: str = "globex-errors", kind: str = "error_rate", value: float = 0.5,
                threshold: float = 0.2) -> None:
    """One alert instance as the alerts job leaves it (`firing` or `resolved`, 3 requests)."""
    fired = started_at + timedelta(minutes=5)
    resolved = fired + timedelta(minutes=30) if state == "resolved" else None
    message = f"{kind} {value:.0%} over {threshold:.0%}"
    store.write(lambda con: con.execute(_ALERT_SQL, [
        alert_id, rule, kind, json.dumps(group, sort_keys=True), state, value, threshold, 3, message,
        started_at, fired, resolved, resolved or fired]))
