"""The dashboard as a person meets it: demo data, `outcrop serve`, `outcrop dashboard`, Chromium.

Shared by tests/e2e/test_dashboard_browser.py and bench/dashboard.py. Everything runs as
child processes on loopback ports chosen here; the browser is Debian's `chromium`
(/usr/bin/chromium) driven by Playwright, never a browser Playwright downloads.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEMO_NOW = "2026-11-18T17:00:00Z"  # a Wednesday at 17:00 UTC, as tests/e2e/test_demo.py takes it
PAGES: dict[str, str] = {  # url_path -> the page's title (its h1)
    "overview": "Overview", "traces": "Traces", "latency": "Latency", "cost": "Cost",
    "capacity": "Capacity", "alerts": "Alerts", "settings": "Settings",
}

# True once Streamlit has finished the page's script run and the browser has drawn it: the
# app says its script is not running (data-test-script-state, set by Streamlit's App.tsx),
# the socket is connected, no spinner or stale element is left, the title is there and
# every Plotly chart has its SVG. A traceback on the page also ends the wait (the caller
# reports it), so a broken page fails at once instead of timing out. Its value is the
# moment it became true, in ms since the navigation started (performance.now()).
RENDERED_JS = """(title) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (main && main.querySelector('[data-testid="stException"]')) return performance.now();
  if (app.dataset.testScriptState !== 'notRunning' || app.dataset.testConnectionState !== 'CONNECTED') return false;
  if (!main || main.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-stale="true"]')) {
    return false;
  }
  const h1 = main.querySelector('h1');
  if (!h1 || !h1.textContent.includes(title)) return false;
  // elements of a tab not shown are drawn when it is opened
  const drawn = (selector, inner) => [...main.querySelectorAll(selector)]
    .every((e) => !e.checkVisibility() || e.querySelector(inner));
  if (!drawn('[data-testid="stPlotlyChart"]', '.main-svg')) return false;
  if (!drawn('[data-testid="stMetricChart"], [data-testid="stVegaLiteChart"]', 'canvas, svg')) return false;
  if (!drawn('[data-testid="stDataFrame"]', 'canvas')) return false;
  return performance.now();
}"""


def free_port() -> int:
    """A port free on loopback now (the child binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def outcrop_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "outcrop", *args]


def fill_demo(db: Path, history_days: float, now: str = DEMO_NOW, timeout: float = 600) -> str:
    """`outcrop demo --exit` into `db`: its workload, logs, merge, jobs and summary; the summary's text."""
    result = subprocess.run(
        outcrop_command("demo", "--exit", "--db", str(db), "--history-days", str(history_days), "--now", now,
                        "--http-port", "0", "--grpc-port", "0", "--api-port", "0"),
        capture_output=True, text=True, timeout=timeout, cwd=db.parent, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"outcrop demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        body: bytes = resp.read()
        return body


def _wait_http(child: subprocess.Popen[bytes], url: str, what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{what} exited with {child.returncode}:\n{log.read_text(errors='replace')}")
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s:\n{log.read_text(errors='replace')}")


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM (both commands stop cleanly on it), then SIGKILL of its process group."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    with contextlib.suppress(ProcessLookupError):  # Streamlit, the dashboard command's child, goes too
        os.killpg(child.pid, signal.SIGKILL)


@dataclass
class Stack:
    """A running `outcrop serve` on `db` and `outcrop dashboard` reading its API."""

    db: Path
    api_url: str
    dashboard_url: str
    logs: dict[str, Path] = field(default_factory=dict)

    def page_url(self, page: str, query: str = "") -> str:
        return f"{self.dashboard_url}/{page}" + (f"?{query}" if query else "")

    def named(self, name: str, params: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
        """A named query's rows through the read API, as the CLI and the dashboard call it."""
        body: dict[str, Any] = {"params": params}
        if limit is not None:
            body["limit"] = limit
        rows: list[dict[str, Any]] = self.post_json(f"/v1/queries/{name}", body)
        return rows

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(self.api_url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())

    def get_json(self, path: str) -> Any:
        return json.loads(_get(self.api_url + path, timeout=60))

    def outcrop(self, *args: str) -> str:
        """An `outcrop` command against the running server (it finds it through --db); its stdout."""
        result = subprocess.run(outcrop_command(*args, "--db", str(self.db)), capture_output=True, text=True,
                                timeout=180, cwd=self.db.parent, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"outcrop {' '.join(args)} failed: {result.stderr}")
        return result.stdout


@contextmanager
def running_stack(db: Path, timeout: float = 90, via: Callable[[str], str] | None = None) -> Iterator[Stack]:
    """`outcrop serve --db db` (its scheduled jobs off: the data stays as the demo left it,
    so the pages and the reports read the same rows) and `outcrop dashboard --api` on it
    (on `via(api_url)` when given: a proxy in front of the API, as bench/dashboard.py puts)."""
    api_port, dash_port = free_port(), free_port()
    env = {**os.environ, "OUTCROP_JOBS__ENABLED": "false"}
    children: list[subprocess.Popen[bytes]] = []
    logs = {"serve": db.parent / "serve.log", "dashboard": db.parent / "dashboard.log"}
    try:
        with logs["serve"].open("wb") as out:
            serve = subprocess.Popen(
                outcrop_command("serve", "--db", str(db), "--host", "127.0.0.1", "--api-port", str(api_port),
                                "--http-port", str(free_port()), "--grpc-port", str(free_port())),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=db.parent, env=env,
                start_new_session=True)
        children.append(serve)
        api_url = f"http://127.0.0.1:{api_port}"
        _wait_http(serve, api_url + "/healthz", "outcrop serve", logs["serve"], timeout)
        with logs["dashboard"].open("wb") as out:
            dashboard = subprocess.Popen(
                outcrop_command("dashboard", "--api", via(api_url) if via else api_url, "--port", str(dash_port),
                                "--address", "127.0.0.1"),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=db.parent, env=env,
                start_new_session=True)
        children.append(dashboard)
        dashboard_url = f"http://127.0.0.1:{dash_port}"
        _wait_http(dashboard, dashboard_url + "/_stcore/health", "outcrop dashboard", logs["dashboard"], timeout)
        yield Stack(db, api_url, dashboard_url, logs)
    finally:
        for child in reversed(children):
            _stop(child)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, with nothing that reaches outside the machine."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_rendered(page: Any, title: str, timeout_ms: float = 60_000) -> float:
    """Wait until the page is fully rendered (RENDERED_JS); ms from navigation start to then."""
    handle = page.wait_for_function(RENDERED_JS, arg=title, polling="raf", timeout=timeout_ms)
    return float(handle.json_value())


def page_errors(page: Any) -> list[str]:
    """Tracebacks and error lines the page shows (each as its text)."""
    found = page.locator('[data-testid="stMain"] [data-testid="stException"], '
                         '[data-testid="stMain"] [data-testid="stAlertContentError"]')
    return [str(t).strip() for t in found.all_inner_texts()]


def metrics(page: Any) -> dict[str, str]:
    """Each st.metric on the page: its label -> its shown value."""
    out: dict[str, str] = {}
    for metric in page.locator('[data-testid="stMain"] [data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out
