"""`outcrop sql`: read-only, on the file when no server runs, through the server when one does."""

from __future__ import annotations

import json
import os
from typing import Any

import requests
from conftest import run_outcrop as outcrop

from outcrop.core.store.writer import Store


def _seed(store: Store) -> None:
    store.write(lambda con: con.execute(
        "INSERT INTO watermarks VALUES ('alpha', '1', TIMESTAMP '2026-01-01'), "
        "('beta', 'x,y', TIMESTAMP '2026-01-02')"))


def test_sql_reads_the_file_directly_when_no_server_runs(db_path: str) -> None:
    store = Store.open(db_path)
    _seed(store)
    store.close()
    result = outcrop("sql", "SELECT name, value FROM watermarks ORDER BY name", "--db", db_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"name": "alpha", "value": "1"}, {"name": "beta", "value": "x,y"}]
    csv_out = outcrop("sql", "SELECT name, value FROM watermarks ORDER BY name", "--db", db_path, "--format", "csv")
    assert csv_out.stdout.splitlines() == ["name,value", "alpha,1", 'beta,"x,y"']


def test_sql_goes_through_the_running_server(server: Any, db_path: str) -> None:
    _seed(server.store)
    result = outcrop("sql", "SELECT count(*) AS n FROM watermarks", "--db", db_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 2}]


def test_writes_are_refused_with_a_reason(server: Any, db_path: str) -> None:
    result = outcrop("sql", "DELETE FROM watermarks", "--db", db_path)
    assert result.returncode == 1
    assert "only read-only SELECT statements are allowed, got DELETE" in result.stderr
    resp = requests.post(server.api_url + "/v1/sql", json={"sql": "SELECT 1; DROP TABLE spans"}, timeout=10)
    assert resp.status_code == 400
    assert "exactly one statement" in resp.json()["message"]


def test_sql_rows_are_bounded(server: Any, db_path: str) -> None:
    result = outcrop("sql", "SELECT * FROM range(50)", "--db", db_path, "--format", "json", "--limit", "10")
    assert len(json.loads(result.stdout)) == 10
    assert "cut at 10 rows" in result.stderr


def test_no_database_yet_says_so(tmp_path: Any) -> None:
    result = outcrop("sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert result.returncode == 1
    assert "does not exist yet" in result.stderr


def test_sql_errors_are_one_line_on_the_file_and_400_through_the_server(server: Any, db_path: str) -> None:
    result = outcrop("sql", "SELECT * FROM no_such_table", "--db", db_path)
    assert result.returncode == 1
    assert result.stderr.startswith("outcrop: ") and "no_such_table" in result.stderr
    assert "Traceback" not in result.stderr
    resp = requests.post(server.api_url + "/v1/sql", json={"sql": "SELECT * FROM no_such_table"}, timeout=10)
    assert resp.status_code == 400 and "no_such_table" in resp.json()["message"]


COMMENTED = ["SELECT 1 AS one -- trailing comment", "SELECT 1 AS one /* block comment */",
             "SELECT 1 AS one; -- after the semicolon", "SELECT 1 AS one -- comment\n;"]


def test_trailing_comments_are_part_of_the_statement(server: Any, tmp_path: Any) -> None:
    for statement in COMMENTED:
        resp = requests.post(server.api_url + "/v1/sql", json={"sql": statement}, timeout=10)
        assert resp.status_code == 200 and resp.json() == [{"one": 1}], (statement, resp.text)
    file_db = str(tmp_path / "file.duckdb")
    Store.open(file_db).close()
    for statement in COMMENTED[:2]:
        result = outcrop("sql", statement, "--db", file_db, "--format", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == [{"one": 1}]


def test_sql_on_the_file_stops_at_the_query_timeout(db_path: str) -> None:
    Store.open(db_path).close()
    env = {**os.environ, "OUTCROP_SERVER__QUERY_TIMEOUT_SECONDS": "1"}
    result = outcrop("sql", "SELECT count(*) FROM range(1000000) a, range(1000000) b", "--db", db_path,
                     env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("outcrop: ") and len(result.stderr.strip().splitlines()) == 1
    assert "server.query_timeout_seconds" in result.stderr and "1 s" in result.stderr
