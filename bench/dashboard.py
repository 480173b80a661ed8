"""Benchmark: each dashboard page in headless Chromium, from navigation to fully rendered,
over 30 days of demo history, and the read-API calls behind it.

`outcrop demo --exit --history-days 30` fills a database; `outcrop serve` and `outcrop
dashboard` run on it as children (tests/e2e/dashboard_stack.py, shared with the browser
test), the dashboard reading the API through a recording proxy in this process, so each
call a page makes is seen with its path and time (the server keeps no request log).

For each page, in one browser tab: one warm-up load, then `--runs` loads each with a range
one minute longer (the page's API answers are not in its cache: every read goes to the
server) and `--runs` reloads of the last URL (within the pages' one-minute cache). The
time is the page's own clock (performance.now()) at the moment RENDERED_JS first holds:
script finished, nothing stale, spinner or skeleton left, every chart drawn.

Baselines measured in the same run: a blank Streamlit page (a script with one st.title,
served by the same Streamlit) and the read API's /healthz round trip.

    .venv/bin/python bench/dashboard.py [--history-days 30] [--runs 3] [--db PATH]
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from dashboard_stack import (  # noqa: E402
    CHROMIUM,
    DEMO_NOW,
    PAGES,
    Stack,
    fill_demo,
    free_port,
    launch_chromium,
    page_errors,
    running_stack,
    wait_rendered,
)

START = "2026-10-19T17:00:00Z"  # 30 days before the demo's now
END_MINUTE = "2026-11-18T17:{:02d}:00Z"  # the demo's now, plus a minute per uncached run
TARGET_MS = 2000.0
_TRACE_PATH = re.compile(r"^(/v1/traces/)[^/]+(/.*)?$")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class ApiCall:
    started: float  # time.perf_counter()
    method: str
    path: str
    status: int
    ms: float


class RecordingProxy:
    """A loopback HTTP proxy in front of the read API that records every call and its time."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._lock = threading.Lock()
        self.target = ""
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.forward(self)

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def via(self, api_url: str) -> str:
        self.target = api_url
        return self.url

    def forward(self, request: http.server.BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("content-length") or 0))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        target = urlsplit(self.target)
        started = time.perf_counter()
        upstream = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=600)
        try:
            upstream.request(request.command, request.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            request.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_HEADERS:
                    request.send_header(key, value)
            request.send_header("content-length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        finally:
            upstream.close()
        with self._lock:
            path = _TRACE_PATH.sub(r"\1{trace_id}\2", request.path.split("?", 1)[0])
            self.calls.append(ApiCall(started, request.command, path, response.status, elapsed))

    def between(self, lo: float, hi: float) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if lo <= c.started <= hi]

    def close(self) -> None:
        self._server.shutdown()


@contextmanager
def blank_streamlit(folder: Path) -> Iterator[str]:
    """A Streamlit app of one st.title, the same Streamlit the dashboard runs: the baseline page."""
    script = folder / "blank.py"
    script.write_text('import streamlit as st\n\nst.title("Blank")\n')
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the blank Streamlit app did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        child.terminate()
        child.wait(20)


@dataclass
class PageTimes:
    name: str
    uncached_ms: list[float]
    cached_ms: list[float]
    calls: list[ApiCall]  # those of the uncached runs
    errors: list[str]


def time_page(browser: Any, proxy: RecordingProxy | None, url_of: Any, title: str, runs: int) -> PageTimes:
    """Warm-up, `runs` loads of new ranges, `runs` reloads of the same URL, in one tab."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    try:
        tab.goto(url_of(0))
        wait_rendered(tab, title)
        uncached: list[float] = []
        calls: list[ApiCall] = []
        for run in range(1, runs + 1):
            lo = time.perf_counter()
            tab.goto(url_of(run))
            uncached.append(wait_rendered(tab, title))
            if proxy is not None:
                calls += proxy.between(lo, time.perf_counter())
        cached: list[float] = []
        for _ in range(runs):
            tab.goto(url_of(runs))
            cached.append(wait_rendered(tab, title))
        return PageTimes(title, uncached, cached, calls, page_errors(tab))
    finally:
        context.close()


def healthz_ms(api_url: str, n: int = 30) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        with urllib.request.urlopen(api_url + "/healthz", timeout=10) as resp:
            resp.read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def page_urls(stack: Stack, first_trace: str) -> dict[str, Any]:
    def url(page: str, extra: str = "") -> Any:
        return lambda run: stack.page_url(page, f"from={START}&to={END_MINUTE.format(run)}{extra}")

    urls = {name: url(name) for name in PAGES}
    urls["traces (waterfall)"] = url("traces", f"&trace_id={first_trace}")
    return urls


def summarise_calls(calls: list[ApiCall], runs: int) -> list[str]:
    by_path: dict[tuple[str, str], list[float]] = {}
    for call in calls:
        by_path.setdefault((call.method, call.path), []).append(call.ms)
    lines = []
    for (method, path), times in sorted(by_path.items(), key=lambda kv: -statistics.median(kv[1])):
        lines.append(f"    {method} {path}: {len(times) / runs:g} a load, median {statistics.median(times):.0f} ms, "
                     f"max {max(times):.0f} ms")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history-days", type=float, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, default=None,
                        help="a database outcrop demo already filled (--now " + DEMO_NOW + "): skips the demo")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="outcrop-bench-dashboard-") as tmp:
        folder = Path(tmp)
        db = args.db
        if db is None:
            db = folder / "demo.duckdb"
            started = time.perf_counter()
            fill_demo(db, args.history_days)
            print(f"outcrop demo --history-days {args.history_days:g}: {time.perf_counter() - started:.1f} s")
        proxy = RecordingProxy()
        with running_stack(db, via=proxy.via) as stack, blank_streamlit(folder) as blank, \
                sync_playwright() as playwright:
            calls = stack.named("usage", {"from": START, "to": END_MINUTE.format(0)})
            print(f"{sum(r['requests'] for r in calls):,} LLM calls from {START} to {END_MINUTE.format(0)}")
            newest = stack.named("trace_search", {"from": START, "to": END_MINUTE.format(0)}, limit=1)[0]
            browser = launch_chromium(playwright)
            health = healthz_ms(stack.api_url)
            base = time_page(browser, None, lambda run: f"{blank}/?run={run}", "Blank", args.runs)
            base_ms = statistics.median(base.uncached_ms + base.cached_ms)
            print(f"baselines: blank Streamlit page {base_ms:.0f} ms (median of {2 * args.runs}); "
                  f"/healthz round trip {health:.1f} ms")
            print(f"{'page':<20} {'new range':>10} {'cached':>8} {'/ blank':>8}  API calls a load (total ms)")
            over = []
            for name, url_of in page_urls(stack, newest["trace_id"]).items():
                title = PAGES[name.split(" ", 1)[0]]
                times = time_page(browser, proxy, url_of, title, args.runs)
                uncached, cached = statistics.median(times.uncached_ms), statistics.median(times.cached_ms)
                per_load = len(times.calls) / args.runs
                api_total = sum(c.ms for c in times.calls) / args.runs
                print(f"{name:<20} {uncached:>7.0f} ms {cached:>5.0f} ms {uncached / base_ms:>7.1f}x  "
                      f"{per_load:g} ({api_total:.0f} ms)")
                for line in summarise_calls(times.calls, args.runs):
                    print(line)
                if times.errors:
                    print(f"    ERRORS on the page: {times.errors}")
                if max(uncached, cached) > TARGET_MS:
                    over.append(name)
            browser.close()
        proxy.close()
    print("every page under 2 s" if not over else f"over the 2 s target: {', '.join(over)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
