"""The dashboard's shell: filters from the URL, number formats, the API client, the pages'
URLs under AppTest (docs in tests/dashboard_fixtures.py)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from dashboard_data import APP, DAY_RANGE, ERROR_MESSAGE, TRACE_ID, build_app
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from outcrop.dashboard import fmt
from outcrop.dashboard.api_client.base import Api, ApiError
from outcrop.dashboard.app import PAGES, password_matches, sent_by_proxy
from outcrop.dashboard.filters import Filters, from_query, iso, link, parse_time
from outcrop.dashboard.launch import navigation_only

pytest_plugins = ["dashboard_fixtures"]

NOW = datetime(2026, 11, 20, 12, 0)


# -- filters ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("now", NOW),
    ("-7d", datetime(2026, 11, 13, 12, 0)),
    ("-24h", datetime(2026, 11, 19, 12, 0)),
    ("-30m", datetime(2026, 11, 20, 11, 30)),
    ("2026-11-01T08:15:00Z", datetime(2026, 11, 1, 8, 15)),
    ("2026-11-01T08:15:00", datetime(2026, 11, 1, 8, 15)),
    ("2026-11-01T10:15:00+02:00", datetime(2026, 11, 1, 8, 15)),
    ("2026-11-01T10:15:00 02:00", datetime(2026, 11, 1, 8, 15)),  # a URL's `+` decoded as a space
    ("2026-11-01", datetime(2026, 11, 1)),
])
def test_times_are_iso_or_relative_to_now(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "-7x", "7d", "2026-13-01"])
def test_a_bad_time_names_the_parameter_and_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"^to=.* is not a time: use ISO 8601 UTC"):
        parse_time(text, NOW, "to")


def test_no_parameters_mean_the_last_24_hours_and_no_keys() -> None:
    filters, problems = from_query({}, NOW)
    assert filters == Filters(datetime(2026, 11, 19, 12, 0), NOW, {}) and problems == []


def test_keys_take_repeated_and_comma_separated_values() -> None:
    filters, _ = from_query({"from": ["-1h"], "model": ["a", "b, c", "a"], "tenant": [" "], "region": ["eu"],
                             "trace_id": ["x"]}, NOW)
    assert filters.where == {"model": ["a", "b", "c"], "region": ["eu"]}
    assert filters.start == datetime(2026, 11, 20, 11, 0)


def test_a_bad_or_empty_range_falls_back_to_the_default_and_says_so() -> None:
    filters, problems = from_query({"from": ["-1h"], "to": ["-2h"]}, NOW)
    assert (filters.start, filters.end) == (datetime(2026, 11, 19, 12, 0), NOW)
    assert problems == ["to='-2h' must be after from='-1h'; showing from=-24h to=now instead"]
    _, problems = from_query({"from": ["soon"]}, NOW)
    assert problems[0].startswith("from='soon' is not a time")


def test_params_are_what_named_queries_take() -> None:
    filters = Filters(datetime(2026, 11, 1), datetime(2026, 11, 2, 6, 30, 0, 500), {"tenant": ["acme"], "route": []})
    assert filters.params() == {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T06:30:00.000500Z",
                                "where": {"tenant": ["acme"]}}


def test_the_previous_period_has_the_same_length_and_ends_where_this_starts() -> None:
    filters = Filters(datetime(2026, 11, 10), datetime(2026, 11, 17), {"model": ["m"]})
    before = filters.previous()
    assert before == Filters(datetime(2026, 11, 3), datetime(2026, 11, 10), {"model": ["m"]})
    assert before.length == filters.length == timedelta(days=7)


def test_links_carry_the_filters_and_extras() -> None:
    filters = Filters(datetime(2026, 11, 1), datetime(2026, 11, 2), {"model": ["a:1", "b"], "tenant": ["acme"]})
    assert link("traces", filters, trace_id="abc") == (
        "/traces?from=2026-11-01T00%3A00%3A00Z&to=2026-11-02T00%3A00%3A00Z"
        "&model=a%3A1&model=b&tenant=acme&trace_id=abc")
    narrowed = link("/traces", filters, tenant=None, model=["c"], **{"from": datetime(2026, 11, 1, 5)})
    assert narrowed == "/traces?from=2026-11-01T05%3A00%3A00Z&to=2026-11-02T00%3A00%3A00Z&model=c"


def test_a_link_read_back_gives_the_same_filters() -> None:
    from urllib.parse import parse_qs, urlsplit

    filters = Filters(datetime(2026, 11, 1, 3), datetime(2026, 11, 2), {"route": ["chat", "search"]})
    query = parse_qs(urlsplit(link("cost", filters)).query)
    assert from_query(query, NOW) == (filters, [])


def test_iso_keeps_the_value_exact() -> None:
    assert iso(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"


# -- formats ---------------------------------------------------------------------------

@pytest.mark.parametrize(("fn", "value", "text"), [
    (fmt.money, 1234.561, "$1,234.56"),
    (fmt.money, 0.0042, "$0.0042"),
    (fmt.money, 0.000123456, "$0.00012"),
    (fmt.money, 0.05, "$0.05"),
    (fmt.money, 0.0, "$0.00"),
    (fmt.money, -12.5, "-$12.50"),
    (fmt.ms, 850.4, "850 ms"),
    (fmt.ms, 1234.0, "1.2 s"),
    (fmt.ms, 150_000.0, "2.5 min"),
    (fmt.rate, 1234.0, "1.2k tokens/s"),
    (fmt.rate, 85.25, "85.2 tokens/s"),
    (fmt.percent, 0.034, "3.4%"),
    (fmt.percent, 0.0, "0.0%"),
    (fmt.percent, 0.0001, "<0.1%"),
    (fmt.percent, 1.0, "100.0%"),
    (fmt.count, 1234, "1,234"),
    (fmt.count, 12_345, "12.3k"),
    (fmt.count, 1_234_567, "1.2M"),
    (fmt.count, 2.5, "2.5"),
    (fmt.compact, 999, "999"),
])
def test_numbers_read_as_people_write_them(fn: Callable[[Any], str], value: float, text: str) -> None:
    assert fn(value) == text


@pytest.mark.parametrize("fn", [fmt.money, fmt.ms, fmt.rate, fmt.percent, fmt.count, fmt.compact])
def test_a_missing_value_is_a_dash(fn: Callable[[Any], str]) -> None:
    assert fn(None) == fn(float("nan")) == "—"


@pytest.mark.parametrize(("now", "before", "text"), [
    (112.3, 100.0, "+12.3%"), (96.0, 100.0, "-4.0%"), (5.0, 0.0, "new"), (0.0, 0.0, "0.0%"),
    (0.0, 4.0, "-100.0%"), (None, 1.0, "—"), (1.0, None, "—"),
])
def test_change_against_the_previous_period(now: float | None, before: float | None, text: str) -> None:
    assert fmt.change(now, before) == text


def test_rates_change_in_points() -> None:
    assert fmt.points(0.034, 0.02) == "+1.4 pp" and fmt.points(None, 0.1) == "—"


# -- the API client --------------------------------------------------------------------

def test_the_client_reads_named_queries_and_traces(data_server: Any) -> None:
    api = Api(data_server.api_url)
    table = api.named("usage", {**DAY_RANGE, "by": ["tenant"]})
    assert dict(zip(table.column("tenant").to_pylist(), table.column("requests").to_pylist(), strict=True)) == {
        "acme": 5, "globex": 3, "unattributed": 1}
    assert api.named("usage", {**DAY_RANGE, "by": ["tenant"]}, limit=1).num_rows == 1
    spans = api.get(f"/v1/traces/{TRACE_ID}")
    assert [s["name"] for s in spans][:1] == ["POST /chat"] and len(spans) == 5
    assert api.table(f"/v1/traces/{TRACE_ID}").num_rows == 5


def test_every_failure_is_one_api_error_line(api_down_url: str, api_error_url: str, data_server: Any) -> None:
    with pytest.raises(ApiError, match=f"^cannot reach the server at {api_down_url}: "):
        Api(api_down_url).named("usage", DAY_RANGE)
    with pytest.raises(ApiError, match=f"^server answered 500: {ERROR_MESSAGE}$"):
        Api(api_error_url).get("/v1/alerts")
    with pytest.raises(ApiError, match="^server answered 400: unknown query 'nope'"):
        Api(data_server.api_url).named("nope", DAY_RANGE)


class _Garbled(http.server.BaseHTTPRequestHandler):
    """Answers 200 with a body that is neither JSON nor Arrow (a proxy's login page, say)."""

    def do_GET(self) -> None:
        body = b"<html>sign in</html>"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def test_an_unreadable_answer_is_an_api_error_too() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbled)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with pytest.raises(ApiError, match=f"^the server at {url} answered something unreadable: "):
            Api(url).get("/v1/alerts")
        with pytest.raises(ApiError, match=f"^the server at {url} answered something unreadable: "):
            Api(url).table("/v1/traces/abc")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_token_is_sent(server_factory: Any) -> None:
    server = server_factory(server={"api_token": "reader-token-1"})
    with pytest.raises(ApiError, match="^server answered 401"):
        Api(server.api_url).get("/v1/queries")
    assert "usage" in Api(server.api_url, "reader-token-1").get("/v1/queries")
    assert "reader-token-1" not in repr(Api(server.api_url, "reader-token-1"))


# -- pages and their URLs --------------------------------------------------------------

def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_the_pages_live_at_their_urls(dashboard_app: Callable[..., AppTest], api_down_url: str) -> None:
    assert [p.url_path for p in PAGES] == ["overview", "traces", "latency", "cost", "capacity", "alerts",
                                           "settings"]
    for page in PAGES:
        at = dashboard_app(api_down_url, page=page.url_path)
        assert not at.exception, (page.url_path, at.exception)
        assert _titles(at)[:1] == [page.title], page.url_path


def test_the_root_opens_the_overview_with_the_same_parameters(dashboard_app: Callable[..., AppTest],
                                                              api_down_url: str) -> None:
    at = dashboard_app(api_down_url, page=None, query={"from": "-7d", "model": ["a", "b"]})
    assert not at.exception and _titles(at)[:1] == ["Overview"]
    assert at.query_params == {"from": "-7d", "model": ["a", "b"]}


def test_an_unknown_page_falls_back_to_the_overview(api_down_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCROP_DASHBOARD_API", api_down_url)
    at = build_app("no-such-page")
    assert _titles(at)[:1] == ["Overview"]


def _filters_page() -> None:
    import streamlit as st

    from outcrop.dashboard.filters import read_filters

    st.json(read_filters().params())


def test_the_sidebar_shows_the_url_and_writes_changes_back() -> None:
    at = AppTest.from_function(_filters_page, default_timeout=30)
    at.query_params["from"] = "2026-11-01T00:00:00Z"
    at.query_params["to"] = "2026-11-02T00:00:00Z"
    at.query_params["tenant"] = ["acme", "globex"]
    at.run()
    assert at.sidebar.text_input(key="filter_tenant").value == "acme, globex"
    assert at.sidebar.text_input(key="filter_from").value == "2026-11-01T00:00:00Z"
    assert at.json[0].value == ('{"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", '
                                '"where": {"tenant": ["acme", "globex"]}}')
    at.sidebar.text_input(key="filter_model").input("m1, m2").run()
    at.sidebar.text_input(key="filter_tenant").input("").run()
    at.sidebar.text_input(key="filter_from").input("-24h").run()
    assert at.query_params == {"to": "2026-11-02T00:00:00Z", "model": ["m1", "m2"]}
    assert '"where": {"model": ["m1", "m2"]}' in at.json[0].value


def test_a_bad_time_in_the_url_is_one_warning() -> None:
    at = AppTest.from_function(_filters_page, default_timeout=30)
    at.query_params["from"] = "soon"
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "from='soon' is not a time: use ISO 8601 UTC (2026-11-20T10:00:00Z), a relative time (-7d, -24h, -30m) "
        "or now; showing from=-24h to=now instead"]


def test_run_from_its_own_folder_streamlit_takes_pages_for_a_legacy_folder(api_down_url: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Why `outcrop dashboard` starts Streamlit through outcrop.dashboard.launch (and the
    fixtures run app.py's main() from elsewhere): AppTest, like a fresh server process,
    starts with the legacy-folder flag unset, and dashboard/pages/ sets it."""
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setenv("OUTCROP_DASHBOARD_API", api_down_url)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at._page_hash = calc_hash("traces")
    at.run()
    assert _titles(at) == []  # pages/traces.py ran as a script: render() was never called
    assert PagesManager.uses_pages_directory is True
    navigation_only()
    assert PagesManager.uses_pages_directory is False
    assert _titles(build_app("traces")) == ["Traces"]


@pytest.mark.parametrize(("length", "text"), [
    (timedelta(hours=24), "24 h"), (timedelta(days=7), "7 d"), (timedelta(minutes=90), "90 min"),
    (timedelta(days=2, hours=12), "2 d 12 h"), (timedelta(hours=36), "36 h"),
    (timedelta(hours=5, minutes=30), "5 h 30 min"),
])
def test_lengths_of_time_read_in_their_units(length: timedelta, text: str) -> None:
    assert fmt.duration(length) == text


def test_times_read_to_the_minute() -> None:
    assert fmt.when(datetime(2026, 11, 18, 10, 5, 59)) == "2026-11-18 10:05" and fmt.when(None) == "—"


# -- the gate of [dashboard] -----------------------------------------------------------

def test_a_password_is_asked_before_any_page(dashboard_app: Callable[..., AppTest], api_down_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCROP_DASHBOARD__PASSWORD", "open sesame")
    at = dashboard_app(api_down_url, page="cost", query={"from": "-7d"})
    assert _titles(at) == ["Outcrop"] and not at.error  # the form only: no page, no API call
    at.text_input(key="sign_in_password").input("open sesam")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong password."] and _titles(at) == ["Outcrop"]
    at.text_input(key="sign_in_password").input("open sesame")
    at.button[0].click().run()
    assert _titles(at) == ["Cost"] and at.query_params == {"from": "-7d"}


def test_without_the_proxy_header_every_request_is_refused(dashboard_app: Callable[..., AppTest],
                                                           api_down_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCROP_DASHBOARD__TRUSTED_USER_HEADER", "X-Forwarded-User")
    at = dashboard_app(api_down_url)
    assert _titles(at) == []
    assert [e.value for e in at.error] == [
        "Refused: this dashboard is opened through its reverse proxy, which sets the X-Forwarded-User header "
        "(dashboard.trusted_user_header)."]


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"x-forwarded-user": "ana@example.com"}, True), ({"X-Forwarded-User": "ana"}, True),
    ({"X-Forwarded-User": " "}, False), ({"Host": "dash"}, False), ({}, False),
])
def test_the_proxy_header_is_matched_without_case(headers: dict[str, str], allowed: bool) -> None:
    assert sent_by_proxy(headers, "X-Forwarded-User") is allowed
    assert sent_by_proxy(headers, None) is True


def test_passwords_compare_whole() -> None:
    assert password_matches("s3cret", "s3cret") and not password_matches("s3cre", "s3cret")
    assert not password_matches("", "s3cret")


def test_a_bad_setting_is_one_line(dashboard_app: Callable[..., AppTest], api_down_url: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCROP_DASHBOARD__PORT", "0")
    at = dashboard_app(api_down_url)
    assert not at.exception and [e.value for e in at.error][0].startswith(
        "configuration error: configuration key 'dashboard.port'")
