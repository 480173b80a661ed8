"""The dashboard in real headless Chromium over `outcrop serve` with three days of demo data.

Every page opens at its URL and renders without a traceback; the numbers a person reads
match the read API (the overview's spend is `outcrop report cost` for the same range, to
the cent); a row of the traces table opens its waterfall; a filter typed in the sidebar
lands in the URL. A screenshot of each page goes to the test's tmp folder, and also to
$OUTCROP_SCREENSHOTS when it is set.

The browser is Debian's /usr/bin/chromium (`apt-get install chromium`, as .ci/run does).
Without it the test skips, except under CI=true, where it fails: CI must not skip it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import pytest
from dashboard_stack import CHROMIUM, PAGES, Stack, fill_demo, launch_chromium, metrics, page_errors, running_stack
from dashboard_stack import wait_rendered as rendered

pytestmark = pytest.mark.e2e

# The demo's three days end at 2026-11-18T17:00Z; the range holds all of them.
START, END = "2026-11-15T12:00:00Z", "2026-11-18T18:00:00Z"
RANGE = f"from={START}&to={END}"
VIEWPORT = {"width": 1400, "height": 1000}


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}: CI must run the browser test (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    db = tmp_path_factory.mktemp("dashboard") / "demo.duckdb"
    fill_demo(db, history_days=3)
    with running_stack(db) as running:
        yield running


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (the test extra)")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Where screenshots go: the test's own folder, and $OUTCROP_SCREENSHOTS when set."""
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("OUTCROP_SCREENSHOTS"):
        folders.append(Path(os.environ["OUTCROP_SCREENSHOTS"]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def _screenshot(page: Any, shots: list[Path], name: str) -> None:
    image = page.screenshot(full_page=True)
    for folder in shots:
        (folder / f"{name}.png").write_bytes(image)


def _open(page: Any, stack: Stack, name: str, query: str = RANGE) -> None:
    page.goto(stack.page_url(name, query))
    rendered(page, PAGES[name])
    errors = page_errors(page)
    assert not errors, f"/{name} shows an error: {errors}"


def _dollars(x: float) -> str:
    """Money to the cent as the pages show amounts of a dollar and more: "$1,234.56"."""
    assert x >= 0.01
    return f"${x:,.2f}"


def _report_cost(stack: Stack, *where: str) -> dict[str, float]:
    """`outcrop report cost` over the range (through the server that owns the file), summed."""
    args = ["report", "cost", "--from", START, "--to", END, "--format", "json"]
    for condition in where:
        args += ["--where", condition]
    rows = json.loads(stack.outcrop(*args))
    return {"cost_usd": sum(r["cost_usd"] for r in rows), "requests": sum(r["requests"] for r in rows)}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_error(stack: Stack, page: Any, shots: list[Path], name: str) -> None:
    _open(page, stack, name)
    assert urlsplit(page.url).path == f"/{name}"
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == PAGES[name]
    _screenshot(page, shots, name)
    # the sidebar lists the seven pages, each linking to its URL
    nav = {urlsplit(str(a.get_attribute("href"))).path.rsplit("/", 1)[-1]
           for a in page.locator('[data-testid="stSidebarNav"] a').all()}
    assert set(PAGES) <= nav


def test_overview_spend_and_requests_are_the_cost_report(stack: Stack, page: Any) -> None:
    report = _report_cost(stack)
    assert report["requests"] > 1000  # three demo days: thousands of calls, dollars of spend
    _open(page, stack, "overview")
    shown = metrics(page)
    assert shown["Spend"] == _dollars(report["cost_usd"])
    assert shown["Requests"] == f"{report['requests']:,}"
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1  # requests over time


def test_cost_page_spend_is_the_cost_report(stack: Stack, page: Any) -> None:
    report = _report_cost(stack)
    _open(page, stack, "cost")
    shown = metrics(page)
    assert shown["Spend"] == _dollars(report["cost_usd"])
    assert shown["Requests"] == f"{report['requests']:,}"


def test_a_row_of_the_traces_table_opens_its_waterfall(stack: Stack, page: Any, shots: list[Path]) -> None:
    newest = stack.named("trace_search", {"from": START, "to": END}, limit=1)[0]
    spans = stack.get_json(f"/v1/traces/{newest['trace_id']}/waterfall")
    _open(page, stack, "traces")
    grid = page.locator('[data-testid="stDataFrame"] [data-testid="data-grid-canvas"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    # the grid is a canvas: the first row's selection box sits left of the first body row
    # (header 36 px, rows 35 px high)
    page.mouse.click(box["x"] + 16, box["y"] + 36 + 17)
    page.wait_for_url("**trace_id=*", timeout=30_000)
    assert parse_qs(urlsplit(page.url).query)["trace_id"] == [newest["trace_id"]]
    rendered(page, PAGES["traces"])
    assert not page_errors(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    assert "Spans of the trace" in chart.inner_text()
    assert chart.locator(".bars .point").count() == len(spans)  # one bar per span
    shown = metrics(page)
    assert shown["Spans"] == f"{len(spans):,}"
    assert shown["LLM calls"] == f"{newest['calls']:,}"
    _screenshot(page, shots, "traces-waterfall")


def test_a_tenant_typed_in_the_sidebar_goes_into_the_url(stack: Stack, page: Any) -> None:
    _open(page, stack, "overview")
    box = page.locator('[data-testid="stSidebar"]').get_by_label("Tenant", exact=True)
    box.fill("acme")
    box.press("Enter")
    page.wait_for_url("**tenant=acme*", timeout=30_000)
    query = parse_qs(urlsplit(page.url).query)
    assert query["tenant"] == ["acme"] and query["from"] == [START] and query["to"] == [END]
    rendered(page, PAGES["overview"])
    acme = _report_cost(stack, "tenant=acme")
    assert 0 < acme["requests"] < _report_cost(stack)["requests"]
    assert metrics(page)["Spend"] == _dollars(acme["cost_usd"])


def _duration(ms: float) -> str:
    """A duration as the pages show one: "850 ms" below a second, "8.8 s" below a minute."""
    assert ms < 60_000
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def test_latency_page_names_the_slowest_route_of_the_latency_report(stack: Stack, page: Any) -> None:
    rows = json.loads(stack.outcrop("report", "latency", "--by", "route", "--from", START, "--to", END,
                                    "--format", "json"))
    slowest = max(rows, key=lambda r: r["ttlt_ms_p95"])
    _open(page, stack, "latency")
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert (f"By TTLT p95: {slowest['route']} is the slowest at {_duration(slowest['ttlt_ms_p95'])} "
            f"over {slowest['requests']:,} calls.") in text
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3  # percentiles, stages, tokens


def test_overview_counts_the_firing_alerts_of_the_api(stack: Stack, page: Any) -> None:
    firing = stack.get_json("/v1/alerts?state=firing")
    assert len(firing) >= 1  # the demo's rules fire (throttles, drift, budgets)
    _open(page, stack, "overview")
    assert page.get_by_role("heading", name=f"Firing alerts ({len(firing)})").count() == 1
