"""Reads are bounded in memory: a database limit for the whole server, and a budget per
ad-hoc query so that one read cannot starve ingest."""

from __future__ import annotations

import os
from typing import Any

import requests
from conftest import run_outcrop
from otlp_payloads import request, sid, span, tid

from outcrop.core.store.writer import Store

# The tester's query: one list of 400M integers, 6.5 GiB of RSS before the bound.
HUNGRY = "SELECT len(list(range)) FROM range(400000000)"


def _sql(server: Any, statement: str) -> requests.Response:
    return requests.post(server.api_url + "/v1/sql", json={"sql": statement}, timeout=120)


def test_a_query_past_its_memory_budget_is_stopped_and_ingest_goes_on(server_factory: Any) -> None:
    server = server_factory(server={"memory_limit": "1GiB", "query_memory_limit": "256MiB"})
    resp = _sql(server, HUNGRY)
    assert resp.status_code == 400
    message = resp.json()["message"]
    assert "256 MiB" in message and "server.query_memory_limit" in message
    assert requests.get(server.api_url + "/healthz", timeout=10).json()["status"] == "ok"
    body = request(span(tid(40), sid(40), name="after")).SerializeToString()
    sent = requests.post(server.traces_url, data=body, headers={"content-type": "application/x-protobuf"},
                         timeout=30)
    assert sent.status_code == 200
    assert server.store.query("SELECT name FROM spans").to_pylist() == [{"name": "after"}]


def test_the_database_memory_limit_is_set_and_named_when_reached(server_factory: Any) -> None:
    server = server_factory(server={"memory_limit": "512MiB", "query_memory_limit": "8GiB"})
    limit = _sql(server, "SELECT current_setting('memory_limit') AS m").json()
    assert limit == [{"m": "512.0 MiB"}]
    resp = _sql(server, HUNGRY)
    assert resp.status_code == 400 and "server.memory_limit" in resp.json()["message"]
    assert _sql(server, "SELECT 1 AS one").json() == [{"one": 1}]


def test_the_default_database_memory_limit(server: Any) -> None:
    assert _sql(server, "SELECT current_setting('memory_limit') AS m").json() == [{"m": "2.0 GiB"}]


def test_outcrop_sql_on_the_file_has_the_same_memory_budget(db_path: str) -> None:
    Store.open(db_path).close()
    env = {**os.environ, "OUTCROP_SERVER__QUERY_MEMORY_LIMIT": "256MiB"}
    result = run_outcrop("sql", HUNGRY, "--db", db_path, env=env, timeout=120)
    assert result.returncode == 1
    assert "256 MiB" in result.stderr and "server.query_memory_limit" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
