"""Named queries and reports: a time that does not parse or lies outside what the data can
hold is a 400 (or a one-line CLI error) naming the parameter, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest import run_outcrop

from outcrop.core.store.writer import Store

BAD_TIMES = [
    ({"from": "0001-01-01T00:00:00", "to": "2026-01-01T00:00:00"}, "from"),
    ({"from": "2026-01-01T00:00:00", "to": "9999-12-31T23:59:59"}, "to"),
    ({"from": "0001-01-01T00:00:00+05:00", "to": "2026-01-01T00:00:00"}, "from"),
    ({"from": "2026-01-01T00:00:00-05:00", "to": "9999-12-31T23:59:59-05:00"}, "to"),
    ({"from": "yesterday", "to": "2026-01-01T00:00:00"}, "from"),
    ({"from": "2026-01-01T00:00:00", "to": "2026-13-01T00:00:00"}, "to"),
]


@pytest.mark.parametrize(("params", "named"), BAD_TIMES)
def test_a_bad_time_is_a_400_naming_the_parameter(server: Any, params: dict[str, str], named: str) -> None:
    for query in ("usage", "cost", "latency", "capacity"):
        resp = requests.post(server.api_url + f"/v1/queries/{query}", json={"params": params}, timeout=30)
        assert resp.status_code == 400, (query, resp.text)
        assert f"'{named}'" in resp.json()["message"]


def test_the_range_a_report_accepts_is_told(server: Any) -> None:
    resp = requests.post(server.api_url + "/v1/queries/usage", json={"params": BAD_TIMES[0][0]}, timeout=30)
    assert "1970-01-01" in resp.json()["message"] and "2200-01-01" in resp.json()["message"]


@pytest.mark.parametrize(("args", "named"), [
    (("--from", "0001-01-01T00:00:00", "--to", "2026-01-01T00:00:00"), "from"),
    (("--from", "2026-01-01T00:00:00", "--to", "9999-12-31T23:59:59"), "to"),
    (("--from", "0001-01-01T00:00:00+05:00", "--to", "2026-01-01T00:00:00"), "from"),
])
def test_outcrop_report_on_the_file_names_the_bad_time(db_path: str, args: tuple[str, ...], named: str) -> None:
    Store.open(db_path).close()
    result = run_outcrop("report", "usage", *args, "--db", db_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("outcrop report: ") and f"'{named}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_outcrop_report_through_the_server_names_the_bad_time(server: Any, db_path: str) -> None:
    result = run_outcrop("report", "usage", "--from", "0001-01-01T00:00:00", "--to", "2026-01-01", "--db", db_path)
    assert result.returncode == 2
    assert result.stderr.startswith("outcrop report: ") and "'from'" in result.stderr
    assert "Traceback" not in result.stderr
