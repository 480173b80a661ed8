"""`outcrop dashboard`: which API it reads, what it runs, and a real start and stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from outcrop.cli import dashboard
from outcrop.core.errors import OutcropError
from tests.conftest import make_settings, run_outcrop


def test_db_finds_the_server_that_owns_the_file(server: Any, db_path: str) -> None:
    assert dashboard.resolve_api(None, db_path, make_settings()) == server.api_url


def test_db_without_a_server_says_what_to_do(tmp_path: Path) -> None:
    db = str(tmp_path / "none.duckdb")
    where = re.escape(db)
    with pytest.raises(OutcropError, match=rf"^no running server owns {where}: .*\(outcrop serve --db {where}\)"):
        dashboard.resolve_api(None, db, make_settings())
    result = run_outcrop("dashboard", "--db", db)
    assert result.returncode == 1 and "no running server owns" in result.stderr


def test_api_wins_and_must_be_a_url() -> None:
    settings = make_settings(dashboard={"api_url": "http://collector:4320"})
    assert dashboard.resolve_api(None, None, settings) == "http://collector:4320"
    assert dashboard.resolve_api("http://other:4320/", None, settings) == "http://other:4320"
    with pytest.raises(OutcropError, match="--api 'collector:4320': expected an http"):
        dashboard.resolve_api("collector:4320", None, settings)
    with pytest.raises(OutcropError, match="give --api or --db, not both"):
        dashboard.resolve_api("http://a:1", "x.duckdb", settings)


def test_the_child_runs_the_installed_app_headless_with_the_api_and_token() -> None:
    app = dashboard.app_path()
    assert app.name == "app.py" and (app.parent / "pages" / "overview.py").is_file()
    assert dashboard.command(app, 8600, "0.0.0.0") == [
        sys.executable, "-m", "outcrop.dashboard.launch", "run", str(app), "--server.port", "8600",
        "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal"]
    env = dashboard.child_env("http://127.0.0.1:4320", make_settings(server={"api_token": "tok-123456"}))
    assert env["OUTCROP_DASHBOARD_API"] == "http://127.0.0.1:4320" and env["OUTCROP_SERVER__API_TOKEN"] == "tok-123456"
    assert dashboard.url_of("0.0.0.0", 8501) == "http://127.0.0.1:8501"


def test_a_taken_port_names_the_setting() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(OutcropError, match=rf"cannot listen on 127.0.0.1:{port} .*\(dashboard.port\)"):
            dashboard.check_port_free("127.0.0.1", port)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.e2e
def test_the_command_serves_the_pages_and_stops_its_child(server: Any, db_path: str) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "outcrop", "dashboard", "--db", db_path, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        first = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not first.startswith("Outcrop dashboard:"):
            first = proc.stdout.readline()
            assert first or proc.poll() is None, "the command ended before the dashboard started"
        assert first.strip() == (f"Outcrop dashboard: http://127.0.0.1:{port}/overview (reading {server.api_url}); "
                                 "Ctrl-C stops it")
        for path in ("/_stcore/health", "/overview", "/traces?from=-7d&model=m"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
                assert resp.status == 200, path
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 130
        with pytest.raises(OSError):  # the Streamlit child went with it
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.e2e
def test_the_demo_starts_the_dashboard_and_stops_it_with_itself(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "outcrop", "demo", "--db", str(tmp_path / "demo.duckdb"), "--history-days", "0.2",
         "--http-port", "0", "--grpc-port", "0", "--api-port", "0", "--dashboard-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and "keeps running" not in "".join(lines[-1:]):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(lines)
            lines.append(line)
        out = "".join(lines)
        assert f"Dashboard: http://127.0.0.1:{port}/overview\n" in out
        assert "You can now view your Streamlit app" not in out  # the banner stays out of the summary
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/overview", timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
