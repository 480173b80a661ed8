"""Fixtures for the dashboard's AppTests: a server with a small known data set, an empty
one, an API that is down, an API that fails, and the app opened on a page.

Use them from a test module with `pytest_plugins = ["dashboard_fixtures"]` (tests/ is
on the path), then ask for `data_server`, `empty_server`, `api_down_url`,
`api_error_url` and `dashboard_app` by name.

How the app is opened: `dashboard_app(api_url, page="cost", query={"from": "-7d"})` sets
`OUTCROP_DASHBOARD_API` (and `OUTCROP_SERVER__API_TOKEN` when `token` is given) for the
session, builds the app with the query parameters, picks the page and runs it.

The app runs from `APP_SCRIPT` (app.py's `main()` called from a temporary script), not
`AppTest.from_file("dashboard/app.py")`: Streamlit takes a `pages/` folder beside the main
script for a legacy pages folder until `st.navigation` says otherwise, and AppTest resets
that flag before every run, so from app.py itself every run would execute
`pages/<name>.py` as a script. `outcrop dashboard` avoids it by starting Streamlit
through outcrop.dashboard.launch. Streamlit 1.67's `AppTest.switch_page()` opens only *file* pages
(it resolves a path next to the main script and refuses a callable page registered by
`st.navigation`), and the dashboard's pages are callables (`pages/<name>.py: render`). A
real session picks the page by the hash Streamlit gives it, `calc_hash(url_path)`
(`streamlit/navigation/page.py: StreamlitPage._script_hash`); the factory sets that
hash, which is what the browser's `/cost` resolves to. `test_dashboard_shell.py` checks
it opens every page, so a Streamlit upgrade that changes it fails there, not in a page's
test. `page=None` opens `/`: the hidden default page, which switches to `/overview`.

After a run, `at.query_params` is the URL the app left (what a widget wrote back), and
`at.sidebar.text_input(key="filter_model")` is the model filter's box (keys
`filter_<name>`, names in outcrop.dashboard.filters.KEYS plus `from` and `to`).

The data set and the helpers that are not fixtures (`build_app`, `write_data_set`, the
constants) are in tests/dashboard_data.py; import them from there.
"""


from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dashboard_data import ERROR_MESSAGE, PRICING, build_app, run_rollups, write_data_set
from streamlit.testing.v1 import AppTest

from tests.conftest import RunningServer


@pytest.fixture
def data_server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    """A running server holding the data set of the module docstring, rolled up."""
    server = server_factory(pricing=PRICING)
    write_data_set(server.store)
    run_rollups(server)
    return server


@pytest.fixture
def empty_server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    """A running server with an empty database."""
    return server_factory(pricing=PRICING)


@pytest.fixture
def api_down_url() -> str:
    """The URL of a loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _Failing(http.server.BaseHTTPRequestHandler):
    """Answers every request 500 with the API's error body."""

    def _fail(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = json.dumps({"error": "InternalError", "message": ERROR_MESSAGE}).encode()
        self.send_response(500)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def api_error_url() -> Iterator[str]:
    """The URL of a server that answers every call 500 {"message": ERROR_MESSAGE}."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


@pytest.fixture
def dashboard_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """`open(api_url, page="overview", query=None, token=None, run=True)`: `build_app` against
    `api_url`, with `token` as `server.api_token`; the environment is restored after the test."""

    def open_(api_url: str, page: str | None = "overview", query: dict[str, str | list[str]] | None = None,
              token: str | None = None, run: bool = True, timeout: float = 60) -> AppTest:
        monkeypatch.setenv("OUTCROP_DASHBOARD_API", api_url)
        if token is None:
            monkeypatch.delenv("OUTCROP_SERVER__API_TOKEN", raising=False)
        else:
            monkeypatch.setenv("OUTCROP_SERVER__API_TOKEN", token)
        return build_app(page, query, run, timeout)

    return open_
