"""A second language: the real OpenTelemetry JS SDK and OTLP/HTTP JSON exporter (Node.js)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="module")
def node_producer() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for the JS exporter test")
    if not (NODE_DIR / "node_modules" / "@opentelemetry" / "exporter-trace-otlp-http").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=NODE_DIR, check=True,
                       capture_output=True, timeout=300)
    return NODE_DIR / "produce.js"


def test_js_exporter_spans_arrive_child_first_and_resolve(server: Any, node_producer: Path) -> None:
    result = subprocess.run(["node", str(node_producer), server.traces_url], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    spans = server.store.query("SELECT name, tenant, route, workflow FROM spans ORDER BY name").to_pylist()
    assert spans == [
        {"name": "POST /ask", "tenant": "node-tenant", "route": "fast", "workflow": "qa"},
        {"name": "chat amazon.nova-lite-v1:0", "tenant": "node-tenant", "route": "fast", "workflow": "qa"},
    ]
    calls = server.store.query(
        "SELECT tenant, environment, model, input_tokens, output_tokens, ttlt_ms, finish_reason, request_id "
        "FROM llm_calls").to_pylist()
    assert calls == [{"tenant": "node-tenant", "environment": "test", "model": "amazon.nova-lite-v1:0",
                      "input_tokens": 1234, "output_tokens": 56, "ttlt_ms": 800.0, "finish_reason": "end_turn",
                      "request_id": "node-req-1"}]
