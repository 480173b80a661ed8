"""Starting a server where something already listens fails with a message naming the setting."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer, make_settings

from outcrop.core.errors import StoreLocked
from outcrop.core.store.writer import Store
from outcrop.server import ListenError


@pytest.mark.parametrize("key", ["http_port", "grpc_port", "api_port"])
def test_a_port_in_use_is_named(server: Any, tmp_path: Path, key: str) -> None:
    taken = {"http_port": server.server.ports.http, "grpc_port": server.server.ports.grpc,
             "api_port": server.server.ports.api}[key]
    with pytest.raises(ListenError, match=rf"127.0.0.1:{taken} \(server.{key}\).*another port"):
        RunningServer(make_settings(server={key: taken}), str(tmp_path / "other.duckdb"))
    assert not (tmp_path / "other.duckdb.server.json").exists()


def _port_is_free(port: int) -> bool:
    # no SO_REUSEADDR: with it on both sides, Linux lets two sockets bind one port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports


def test_a_database_held_by_another_process_releases_the_ports_already_bound(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, duckdb
        con = duckdb.connect({str(db)!r})
        print("holding", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        http, api, grpc = _free_ports(3)
        settings = make_settings(server={"http_port": http, "api_port": api, "grpc_port": grpc})
        with pytest.raises(StoreLocked, match="is held by another process"):
            RunningServer(settings, str(db))
        assert _port_is_free(http), "the OTLP/HTTP port is still bound"
        assert _port_is_free(api), "the API port is still bound"
    finally:
        holder.communicate("", timeout=30)
    Store.open(str(db)).close()  # and the failed server holds nothing of the file


def test_a_grpc_port_taken_releases_the_other_ports_and_the_database(server: Any, tmp_path: Path) -> None:
    http, api = _free_ports(2)
    settings = make_settings(server={"http_port": http, "api_port": api, "grpc_port": server.server.ports.grpc})
    db = tmp_path / "other.duckdb"
    with pytest.raises(ListenError, match=r"\(server.grpc_port\)"):
        RunningServer(settings, str(db))
    assert _port_is_free(http), "the OTLP/HTTP port is still bound"
    assert _port_is_free(api), "the API port is still bound"
    store = Store.open(str(db))  # the database was closed: this process may open it again
    assert store.query("SELECT count(*) FROM spans").column(0)[0].as_py() == 0
    store.close()


def test_an_api_port_taken_releases_the_otlp_http_port(server: Any, tmp_path: Path) -> None:
    (http,) = _free_ports(1)
    settings = make_settings(server={"http_port": http, "api_port": server.server.ports.api})
    with pytest.raises(ListenError, match=r"\(server.api_port\)"):
        RunningServer(settings, str(tmp_path / "other.duckdb"))
    assert _port_is_free(http), "the OTLP/HTTP port is still bound"
