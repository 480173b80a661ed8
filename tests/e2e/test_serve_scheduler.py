"""Inside `outcrop serve` the scheduler polls configured log sources and rolls up, unasked."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e
SAMPLES = Path(__file__).resolve().parents[1] / "testdata" / "bedrock" / "samples"


def test_configured_folder_is_polled_and_rolled_up(server_factory: Any, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SAMPLES / "bedrock-invocation-converse.json", logs / "one.json")
    server = server_factory(
        jobs={"enabled": True, "rollup_interval_seconds": 0.5},
        sources={"files": [{"path": str(logs), "poll_seconds": 0.5}]},
        profiles={"resolve_with_api": False},
    )
    body = {"params": {"from": "2026-11-20T00:00:00", "to": "2026-11-21T00:00:00", "by": ["tenant"]}}
    deadline = time.monotonic() + 30
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = requests.post(server.api_url + "/v1/queries/usage", json=body, timeout=10).json()
        if rows:
            break
        time.sleep(0.3)
    assert [(r["tenant"], r["requests"], r["input_tokens"], r["cache_read_tokens"]) for r in rows] == [
        ("acme", 1, 1000, 3000)]
    runs = server.store.query("SELECT DISTINCT job, status FROM job_runs ORDER BY job").to_pylist()
    assert {"job": "rollups", "status": "ok"} in runs
    assert {"job": f"bedrock_files:{logs}", "status": "ok"} in runs
