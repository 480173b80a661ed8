"""`outcrop report` past server.query_max_rows says it cut the table, by the same rule as
every other read (fetch n+1, keep n), on the file and through a server."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from conftest import run_outcrop
from test_rollups_fixtures import T0, insert_calls

from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PricingSettings
from outcrop.core.store.writer import Store

TENANTS = ("acme", "globex", "initech")


def _three_tenants(db_path: str) -> None:
    rows = [{"call_id": f"c{i}", "tenant": t, "ts": T0 + timedelta(minutes=i), "input_tokens": 10,
             "output_tokens": 1} for i, t in enumerate(TENANTS)]
    store = Store.open(db_path)
    try:
        store.write(lambda con: insert_calls(con, rows, T0))
        store.write(lambda con: run_rollups(con, PricingSettings(use_genai_prices=False), T0 + timedelta(days=1)))
    finally:
        store.close()


def _report(db_path: str, max_rows: int) -> Any:
    env = {**os.environ, "OUTCROP_SERVER__QUERY_MAX_ROWS": str(max_rows)}
    return run_outcrop("report", "usage", "--by", "tenant", "--from", T0.isoformat(),
                       "--to", (T0 + timedelta(hours=1)).isoformat(), "--format", "csv", "--db", db_path, env=env)


def test_a_report_cut_at_the_row_cap_says_so_on_the_file(db_path: str) -> None:
    _three_tenants(db_path)
    cut = _report(db_path, 2)
    assert cut.returncode == 0, cut.stderr
    assert len(cut.stdout.splitlines()) == 1 + 2
    assert "(output cut at 2 rows: server.query_max_rows)" in cut.stderr
    whole = _report(db_path, 3)
    assert len(whole.stdout.splitlines()) == 1 + 3 and "cut" not in whole.stderr


def test_a_report_cut_at_the_row_cap_says_so_through_the_server(db_path: str, server_factory: Any) -> None:
    _three_tenants(db_path)
    server_factory(server={"query_max_rows": 2})
    cut = _report(db_path, 2)
    assert cut.returncode == 0, cut.stderr
    assert len(cut.stdout.splitlines()) == 1 + 2
    assert "(output cut at 2 rows" in cut.stderr
