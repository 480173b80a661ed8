"""`kill -9` under load: every span whose request got a success response survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import requests
from otlp_payloads import request, span

pytestmark = pytest.mark.e2e


def start_server(db: Path) -> tuple[subprocess.Popen[str], dict[str, int | str]]:
    info_file = Path(str(db) + ".server.json")
    info_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "outcrop", "serve", "--db", str(db),
         "--http-port", "0", "--grpc-port", "0", "--api-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "OUTCROP_JOBS__ENABLED": "false"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if info_file.exists():
            return proc, json.loads(info_file.read_text())
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def sender(url: str, worker: int, acked: list[str], stop: threading.Event) -> None:
    session = requests.Session()
    batch = 0
    while not stop.is_set():
        trace_id = f"{worker + 1:08x}{batch + 1:024x}"
        spans = [span(trace_id, f"{i + 1:016x}", name=f"s{i}") for i in range(50)]
        try:
            resp = session.post(url, data=request(*spans).SerializeToString(),
                                headers={"content-type": "application/x-protobuf"}, timeout=10)
        except requests.RequestException:
            return  # the server died mid-request: that batch was never acknowledged
        if resp.status_code == 200:
            acked.append(trace_id)
        batch += 1


class Load:
    """Four senders of 50-span batches; `acked` lists the traces that got a 200."""

    def __init__(self, info: dict[str, int | str]) -> None:
        url = f"http://127.0.0.1:{info['http_port']}/v1/traces"
        self.acked: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=sender, args=(url, w, self.acked, self._stop)) for w in range(4)]
        for t in self._threads:
            t.start()

    def wait_for(self, batches: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.acked) < batches and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.acked) >= batches, "the load did not get going"

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)


def test_acknowledged_spans_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    proc, info = start_server(db)
    load = Load(info)
    load.wait_for(40)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    load.stop()
    acked = load.acked

    proc, info = start_server(db)  # a restart replays the WAL
    try:
        api = str(info["api_url"])
        rows = requests.post(api + "/v1/sql", json={
            "sql": "SELECT trace_id, count(*) AS n FROM spans GROUP BY trace_id"}, timeout=30).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    stored = {r["trace_id"]: r["n"] for r in rows}
    missing = [t for t in acked if stored.get(t) != 50]
    assert missing == [], f"{len(missing)} acknowledged batches lost or partial"
    # graceful stop above: the file is released and readable
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM spans").fetchone()[0] >= 50 * len(acked)
    con.close()


def test_sigterm_drains_and_commits_before_exit(tmp_path: Path) -> None:
    db = tmp_path / "term.duckdb"
    proc, info = start_server(db)
    load = Load(info)
    load.wait_for(20)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    load.stop()
    acked = load.acked
    assert not Path(str(db) + ".server.json").exists(), "a stopped server must not announce itself"
    con = duckdb.connect(str(db), read_only=True)  # released: no lock left behind
    stored = dict(con.execute("SELECT trace_id, count(*) FROM spans GROUP BY trace_id").fetchall())
    con.close()
    assert [t for t in acked if stored.get(t) != 50] == []
