"""The cost page's reads: one function per chart or table, each one read-API call.

Every number is the server's (named queries and GET /v1/budgets/burndown; docs/cost.md);
this module only picks the query that can answer the keys asked for and shapes the
answer for drawing and downloading.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import pyarrow.parquet as pq

from outcrop.dashboard.api_client.base import Api
from outcrop.dashboard.filters import Filters, iso

# The keys spend can be broken down by, with their labels. The rollups keep all but
# prompt_version, which only the queries reading the calls have.
BREAKDOWNS: dict[str, str] = {"tenant": "Tenant", "workflow": "Workflow", "route": "Route", "model": "Model",
                              "prompt_version": "Prompt version"}
CALL_KEYS = frozenset({"prompt_version"})
HOURLY_UP_TO = timedelta(days=3)  # longer ranges are drawn by day


def grain(filters: Filters) -> str:
    """Hours for a range of up to three days, else days: a chart of tens of points, not thousands."""
    return "1h" if filters.length <= HOURLY_UP_TO else "1d"


def bucket_length(grain_name: str) -> timedelta:
    return timedelta(hours=1) if grain_name == "1h" else timedelta(days=1)


def _reads_calls(filters: Filters, key: str | None) -> bool:
    return key in CALL_KEYS or any(k in CALL_KEYS for k in filters.where)


def totals(api: Api, filters: Filters) -> dict[str, Any]:
    """The range's spend, requests, unpriced calls and cost per request (named query `cost`)."""
    table = api.named("cost", {**filters.params(), "by": []})
    rows = table.to_pylist()
    return rows[0] if rows else {}


def spend_series(api: Api, filters: Filters, key: str) -> pa.Table:
    """Spend per bucket and `key` value: `timeseries` from the rollups, or `cost_series_calls`
    when the key or a filter is one only the calls keep (prompt_version)."""
    name = "cost_series_calls" if _reads_calls(filters, key) else "timeseries"
    table = api.named(name, {**filters.params(), "grain": grain(filters), "by": [key]})
    wanted = ["bucket", key, "requests", "cost_usd", "unpriced_requests"]
    return table.select([c for c in wanted if c in table.column_names])


def breakdown(api: Api, filters: Filters, key: str) -> pa.Table:
    """Cost, cost per request and per 1,000 requests, tokens and unpriced calls per `key` value
    (named query `cost`; the server reads the calls for prompt_version)."""
    table = api.named("cost", {**filters.params(), "by": [key]})
    keep = [key, "requests", "cost_usd", "cost_per_request_usd", "cost_per_1k_requests_usd", "unpriced_requests",
            "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
    return table.select([c for c in keep if c in table.column_names])


DRIVER_COLUMNS = ("requests", "cost_usd", "unpriced_requests", "prompt_tokens_p90", "long_prompt_calls",
                  "long_prompt_cost_usd", "long_prompt_share", "output_tokens_p90", "large_output_calls",
                  "large_output_cost_usd", "large_output_share", "unserved_attempts", "retried_attempts",
                  "fallback_attempts", "unserved_cost_usd", "unserved_share", "prompt_tokens",
                  "cache_read_tokens", "cache_write_tokens", "cacheable_share", "cache_read_share",
                  "cache_saving_usd", "request_tokens_median", "short_requests", "cheapest_model",
                  "cheapest_usd_per_1k_tokens", "expensive_models", "expensive_model_excess_usd")


def drivers(api: Api, filters: Filters, key: str) -> pa.Table:
    """The cost drivers per `key` value (named query `cost_drivers`; docs/cost.md)."""
    table = api.named("cost_drivers", {**filters.params(), "by": [key]})
    return table.select([c for c in (key, *DRIVER_COLUMNS) if c in table.column_names])


def prompt_versions(api: Api, filters: Filters) -> pa.Table:
    """Each workflow's prompt versions side by side (named query `prompt_versions`)."""
    return api.named("prompt_versions", filters.params())


def burndown(api: Api, filters: Filters) -> list[dict[str, Any]]:
    """Every budget's period as of the range's end: daily cumulative spend and the forecast line."""
    answer = api.get("/v1/budgets/burndown?" + urlencode({"at": iso(filters.end)}))
    return list(answer) if isinstance(answer, list) else []


def unpriced(api: Api, filters: Filters) -> pa.Table:
    """Models whose calls found no price, with the scope they were called in."""
    return api.named("unpriced_models", filters.params())


def override_hint(models: list[str]) -> str:
    """The `[[pricing.overrides]]` entries to add for the unpriced models: the prices are
    left blank, to be filled in (TOML refuses the file until they are, so no model is priced
    at a made-up rate)."""
    blocks = [f'[[pricing.overrides]]\nmodel = "{m}"\n'
              "input_per_mtok =    # USD per million uncached input tokens\n"
              "output_per_mtok =   # USD per million output tokens" for m in models]
    return "\n\n".join(blocks)


# -- downloads ------------------------------------------------------------------------


def _flat(value: Any) -> Any:
    """A cell as CSV holds it: lists joined with `; `, None as an empty cell."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else value


def csv_bytes(table: pa.Table) -> bytes:
    """The table as CSV (header row, UTF-8), list cells joined with `; `."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([_flat(row[c]) for c in table.column_names])
    return out.getvalue().encode()


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as a Parquet file, column types kept."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
