"""Read-API bounds found by a second round of attacks: results larger than a read's memory
share, file names hidden as schema names, proxy headers of other spellings, and clients
that never finish their headers on the API port."""

from __future__ import annotations

import socket
import time
from typing import Any

import requests


def _sql(server: Any, statement: str, **headers: str) -> requests.Response:
    return requests.post(server.api_url + "/v1/sql", json={"sql": statement},
                         headers={k.replace("_", "-"): v for k, v in headers.items()}, timeout=60)


def test_a_result_larger_than_its_share_of_the_read_budget_is_refused(server_factory: Any) -> None:
    # 8 MiB budget -> 1 MiB of result: 12 rows of 200 kB strings (2.4 MB) pass DuckDB's
    # working-memory check but not the result bound; 2 rows (400 kB) fit.
    server = server_factory(server={"query_memory_limit": 8 * 1024 * 1024})
    big = _sql(server, "SELECT repeat('x', 200000) AS s FROM range(12)")
    assert big.status_code == 400
    assert "larger than 1 MiB" in big.json()["message"] and "server.query_memory_limit" in big.json()["message"]
    small = _sql(server, "SELECT length(repeat('x', 200000)) AS n, repeat('y', 10) AS s FROM range(2)")
    assert small.status_code == 200 and small.json() == [{"n": 200000, "s": "y" * 10}] * 2
    assert requests.get(server.api_url + "/healthz", timeout=5).status_code == 200


def test_a_file_named_as_a_schema_is_refused_by_the_check(server: Any) -> None:
    for statement in ('SELECT * FROM "/etc/passwd".csv', 'SELECT * FROM "/etc"."passwd".csv'):
        resp = _sql(server, statement)
        assert resp.status_code == 400, statement
        assert "names a file" in resp.json()["message"]
    assert _sql(server, "SELECT count(*) AS n FROM main.spans").json() == [{"n": 0}]


def test_every_proxy_header_spelling_makes_a_request_relayed(server: Any) -> None:
    for header in ("via", "x_forwarded_host", "true_client_ip", "cf_connecting_ip"):
        resp = _sql(server, "SELECT 1 AS one", **{header: "203.0.113.9"})
        assert resp.status_code == 401, header
    assert _sql(server, "SELECT 1 AS one").json() == [{"one": 1}]


def test_the_api_port_closes_clients_that_never_finish_their_headers(server_factory: Any) -> None:
    server = server_factory(server={"header_read_timeout_seconds": 1.0})
    with socket.create_connection(("127.0.0.1", server.server.ports.api), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: never complete
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408")
    assert waited < 8, f"the connection stayed open {waited:.1f} s"
    assert requests.get(server.api_url + "/healthz", timeout=5).status_code == 200
