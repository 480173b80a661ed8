"""OUTCROP_DECODER picks the OTLP decoder; `outcrop serve` says which runs, and a bad value
stops it with a message naming the variable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from outcrop.collector.decode import native

ROOT = Path(__file__).resolve().parent.parent


def _serve(tmp_path: Path, decoder: str) -> subprocess.Popen[str]:
    env = {**os.environ, "OUTCROP_DECODER": decoder, "OUTCROP_JOBS__ENABLED": "false"}
    cmd = [sys.executable, "-m", "outcrop", "serve", "--db", str(tmp_path / "d.duckdb"),
           "--http-port", "0", "--grpc-port", "0", "--api-port", "0"]
    return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _started_log(tmp_path: Path, decoder: str) -> str:
    proc = _serve(tmp_path, decoder)
    deadline = time.monotonic() + 60
    while not (tmp_path / "d.duckdb.server.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return out


def test_serve_logs_the_python_decoder_when_asked_for_it(tmp_path: Path) -> None:
    log = _started_log(tmp_path, "python")
    why = "OUTCROP_DECODER=python" if native.AVAILABLE else "the native module is not built"
    assert f"OTLP decoder: python (reference decoder; {why})" in log


def test_serve_logs_the_native_decoder_by_default_when_it_is_built(tmp_path: Path) -> None:
    log = _started_log(tmp_path, "auto")
    expected = f"native (outcrop_native {native._native.__version__})" if native.AVAILABLE else "python"
    assert f"OTLP decoder: {expected}" in log


def test_an_unknown_decoder_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "rusty")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "OUTCROP_DECODER: 'rusty' is not a decoder; use auto, native or python" in out
    assert not (tmp_path / "d.duckdb.server.json").exists()
