"""The cost page under AppTest against a real server: the numbers of the fixtures' data set
(tests/dashboard_fixtures.py: DAY has $4.00 acme, $1.50 globex, $1.00 unattributed and one
unpriced acme call), filters from the URL, the downloads, a budget's burn-down, and the
empty, down and failing API cases."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from dashboard_data import DAY_RANGE, ERROR_MESSAGE, MODEL_UNPRICED, PRICING, run_rollups, write_data_set
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

pytest_plugins = ["dashboard_fixtures"]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """The bytes each download button was given, by file name (AppTest keeps its media in memory)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load(self: Any, data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        if filename is not None and isinstance(data, bytes):
            files[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load)
    yield files


def metrics(at: Any) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# a column only that table has (AppTest finds no dataframe by key: it is not a widget)
MARKS = {"cost_breakdown_table": "input_tokens", "cost_drivers_table": "long_prompt_share",
         "cost_prompt_versions_table": "ttft_ms_p95", "cost_unpriced_table": "scope"}


def table(at: Any, key: str) -> list[dict[str, Any]]:
    (frame,) = [d.value for d in at.dataframe if MARKS[key] in d.value.columns]
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    """A cell as Python: NaN as None, an array as a list."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.tolist() if hasattr(value, "tolist") else value


def test_spend_is_the_cost_querys_to_the_cent(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="cost", query=DAY_RANGE)
    assert not at.exception and not at.error
    shown = metrics(at)
    answer = requests.post(f"{data_server.api_url}/v1/queries/cost",
                           json={"params": {"from": DAY_RANGE["from"], "to": DAY_RANGE["to"], "by": []}}, timeout=30)
    (row,) = answer.json()
    assert row["cost_usd"] == pytest.approx(6.50)  # $4.00 + $1.50 + $1.00; the unpriced call adds nothing
    assert shown["Spend"] == f"${row['cost_usd']:,.2f}" == "$6.50"
    assert shown["Requests"] == "9"
    assert shown["Cost per request"] == "$0.81"  # $6.50 over the 8 priced calls
    assert shown["Cost per 1k requests"] == "$812.50"
    assert shown["Unpriced calls"] == "1"


def test_breakdown_by_tenant_links_each_row_to_its_traces(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="cost", query=DAY_RANGE)
    rows = {r["tenant"]: r for r in table(at, "cost_breakdown_table")}
    assert {t: (r["requests"], r["cost_usd"], r["unpriced_requests"]) for t, r in rows.items()} == {
        "acme": (5, 4.0, 1), "globex": (3, 1.5, 0), "unattributed": (1, 1.0, 0)}
    assert rows["acme"]["cost_per_request_usd"] == pytest.approx(1.0)
    assert rows["globex"]["traces"] == ("/traces?from=2026-11-18T00%3A00%3A00Z&to=2026-11-19T00%3A00%3A00Z"
                                         "&tenant=globex")
    drivers = {r["tenant"]: r for r in table(at, "cost_drivers_table")}
    assert drivers["globex"]["unserved_attempts"] == 2  # the error and the throttled call
    assert drivers["acme"]["cost_usd"] == pytest.approx(4.0)


def test_filters_come_from_the_url(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="cost", query={**DAY_RANGE, "tenant": "globex"})
    assert metrics(at)["Spend"] == "$1.50"
    assert [r["tenant"] for r in table(at, "cost_breakdown_table")] == ["globex"]
    assert at.sidebar.text_input(key="filter_tenant").value == "globex"


def test_breakdown_by_prompt_version_reads_the_calls(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="cost", query=DAY_RANGE)
    at.selectbox(key="cost_breakdown").select("prompt_version").run()
    assert not at.exception and not at.error
    (row,) = table(at, "cost_breakdown_table")  # the data set names no prompt version
    assert (row["prompt_version"], row["requests"], row["cost_usd"]) == (None, 9, pytest.approx(6.5))
    versions = {(r["workflow"], r["prompt_version"]): r for r in table(at, "cost_prompt_versions_table")}
    assert set(versions) == {("support", None), ("rag", None)}
    assert versions[("rag", None)]["error_rate"] == pytest.approx(1 / 3)


def test_downloads_parse_back_to_the_rows_shown(data_server: Any, dashboard_app: Any,
                                                downloads: dict[str, bytes]) -> None:
    at = dashboard_app(data_server.api_url, page="cost", query=DAY_RANGE)
    stem = "cost-by-tenant_2026-11-18T000000Z_2026-11-19T000000Z"
    shown = [{k: v for k, v in r.items() if k != "traces"} for r in table(at, "cost_breakdown_table")]
    from_parquet = pq.read_table(pa.BufferReader(downloads[f"{stem}.parquet"])).to_pylist()
    assert from_parquet == shown
    from_csv = list(csv.DictReader(io.StringIO(downloads[f"{stem}.csv"].decode())))
    assert [(r["tenant"], int(r["requests"]), float(r["cost_usd"])) for r in from_csv] == [
        (r["tenant"], r["requests"], r["cost_usd"]) for r in shown]
    assert {name.split("_")[0] for name in downloads} == {"cost-by-tenant", "cost-drivers-by-tenant",
                                                          "prompt-versions", "unpriced-models"}


def test_unpriced_models_with_the_override_to_add(data_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(data_server.api_url, page="cost", query=DAY_RANGE)
    (row,) = table(at, "cost_unpriced_table")
    assert (row["model"], row["calls"]) == (MODEL_UNPRICED, 1)
    assert any(f'model = "{MODEL_UNPRICED}"' in c.value and "[[pricing.overrides]]" in c.value for c in at.code)


def test_budget_burndown_with_its_forecast(server_factory: Any, dashboard_app: Any) -> None:
    """November's spend by the end of the 18th: $2.50 on the 17th, $6.50 on the 18th; $9 in
    18 days is $0.50 a day, $15 by the end of the 30-day month."""
    budget = {"name": "everyone", "period": "month", "limit_usd": 100.0}
    server = server_factory(pricing=PRICING, alerts={"budgets": [budget]})
    write_data_set(server.store)
    run_rollups(server)
    at = dashboard_app(server.api_url, page="cost", query=DAY_RANGE)
    assert not at.exception and not at.error
    assert any(c.value == "everyone (all, 2026-11): spent $9.00 of $100.00 (9.0%); forecast $15.00 by the period end."
               for c in at.caption)


def test_an_empty_database_says_what_to_send(empty_server: Any, dashboard_app: Any) -> None:
    at = dashboard_app(empty_server.api_url, page="cost", query=DAY_RANGE)
    assert not at.exception and not at.error
    assert any("No LLM calls in this range" in i.value and "/v1/traces" in i.value for i in at.info)
    assert not at.metric


def test_api_down_is_one_line(api_down_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_down_url, page="cost", query=DAY_RANGE)
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("cannot reach the server at") and "\n" not in error.value


def test_api_error_shows_the_servers_message(api_error_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_error_url, page="cost", query=DAY_RANGE)
    assert not at.exception
    (error,) = at.error
    assert ERROR_MESSAGE in error.value and "\n" not in error.value
