"""`outcrop dashboard [--port 8501] [--api URL | --db PATH]`: the Streamlit dashboard over
a server's read API, as a child process.

The dashboard never opens the database file: with --db (or nothing) it reads through the
server that owns the file, found as every command finds it, and fails when none runs.
Streamlit starts through outcrop.dashboard.launch (`streamlit run` with the pages of
`st.navigation` only; the module says why).
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from outcrop.core.client import running_server
from outcrop.core.errors import OutcropError
from outcrop.core.settings import Settings, load_settings

HELP = "run the web dashboard (Streamlit) over a running server's read API"
API_ENV = "OUTCROP_DASHBOARD_API"  # outcrop.dashboard.api_client.base reads it
TOKEN_ENV = "OUTCROP_SERVER__API_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: dashboard.port, 8501)")
    parser.add_argument("--address", default=None,
                        help="address to bind (default: dashboard.address, 127.0.0.1)")
    parser.add_argument("--api", default=None, metavar="URL",
                        help="the read API to show, e.g. http://collector:4320 (default: dashboard.api_url, "
                             "else the server that owns --db)")


def app_path() -> Path:
    """Where the installed dashboard's `streamlit run` entry is."""
    import outcrop.dashboard

    return Path(outcrop.dashboard.__file__).resolve().parent / "app.py"


def resolve_api(api: str | None, db: str | None, settings: Settings) -> str:
    """--api, else the server that owns --db, else dashboard.api_url, else the server of `db`."""
    if api is not None and db is not None:
        raise OutcropError("outcrop dashboard: give --api or --db, not both")
    if api is not None:
        if not api.startswith(("http://", "https://")):
            raise OutcropError(f"--api {api!r}: expected an http:// or https:// URL of the read API")
        return api.rstrip("/")
    if db is None and settings.dashboard.api_url is not None:
        return settings.dashboard.api_url.rstrip("/")
    path = db if db is not None else settings.db
    url = running_server(path)
    if url is None:
        raise OutcropError(f"no running server owns {path}: the dashboard reads through the server's API, so "
                           f"start one (outcrop serve --db {path}) or give --api URL")
    return url


def command(app: Path, port: int, address: str) -> list[str]:
    """The child's command line: `streamlit run app.py` headless on `address:port`."""
    return [sys.executable, "-m", "outcrop.dashboard.launch", "run", str(app),
            "--server.port", str(port), "--server.address", address, "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal"]  # no "Deploy" button: this is not a Streamlit Cloud app


def child_env(api_url: str, settings: Settings) -> dict[str, str]:
    """This environment plus the API to read and its token (the token only in the child's environment)."""
    env = {**os.environ, API_ENV: api_url}
    if settings.server.api_token:
        env[TOKEN_ENV] = settings.server.api_token
    return env


def check_port_free(address: str, port: int) -> None:
    """Fail naming the setting when something already listens there (Streamlit would only log it)."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        try:
            sock.bind((address, port))
        except OSError as exc:
            raise OutcropError(f"cannot listen on {address}:{port} ({exc.strerror}): choose another --port "
                               "(dashboard.port) or --address (dashboard.address)") from None


def start(api_url: str, settings: Settings, port: int, address: str,
          quiet: bool = False) -> subprocess.Popen[bytes]:
    """Start the dashboard as a child process (`quiet`: without Streamlit's banner on stdout;
    its errors still reach stderr); raise OutcropError when Streamlit is missing."""
    for module in ("streamlit", "plotly"):
        if importlib.util.find_spec(module) is None:
            raise OutcropError(f"outcrop dashboard needs Streamlit and Plotly ({module} is missing): "
                               "pip install 'outcrop[dashboard]'")
    return subprocess.Popen(command(app_path(), port, address), env=child_env(api_url, settings),
                            stdout=subprocess.DEVNULL if quiet else None)


def wait_ready(child: subprocess.Popen[bytes], url: str, timeout: float = 60.0) -> bool:
    """Wait until Streamlit answers its health check; False if the child exits (or the time runs out) first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def stop(child: subprocess.Popen[bytes]) -> None:
    """Terminate the child, killing it if it does not go within ten seconds."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def url_of(address: str, port: int) -> str:
    """The address a browser opens (a wildcard bind is reached on loopback)."""
    host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
    return f"http://{host}:{port}"


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    api_url = resolve_api(args.api, args.db, settings)
    port = args.port if args.port is not None else settings.dashboard.port
    address = args.address if args.address is not None else settings.dashboard.address
    if not 1 <= port <= 65535:
        raise OutcropError(f"--port {port}: expected 1 to 65535")
    check_port_free(address, port)
    child = start(api_url, settings, port, address)
    # SIGTERM (docker stop, a supervisor) stops the child too, as Ctrl-C does
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        url = url_of(address, port)
        if not wait_ready(child, url):
            stop(child)
            raise OutcropError(f"the dashboard did not start on {address}:{port} (its messages are above)")
        print(f"Outcrop dashboard: {url}/overview (reading {api_url}); Ctrl-C stops it", flush=True)
        return child.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        stop(child)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def start_beside(api_url: str, settings: Settings, port: int) -> str:
    """Start the dashboard for another command (`outcrop demo`) that keeps running: the
    child is stopped when this process exits. Returns the line to tell the user; a
    dashboard that cannot start is said, never fatal to the caller."""
    address = settings.dashboard.address
    try:
        check_port_free(address, port)
        child = start(api_url, settings, port, address, quiet=True)
    except OutcropError as exc:
        return f"Dashboard not started: {exc}"
    atexit.register(stop, child)
    url = url_of(address, port)
    if not wait_ready(child, url):
        stop(child)
        return f"Dashboard not started: Streamlit did not answer on {url} (its messages are on stderr)"
    return f"Dashboard: {url}/overview"
