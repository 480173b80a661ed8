"""Usage, latency, cost and capacity reports over the named queries.

`build_report` takes a `run(name, params) -> pyarrow.Table` so that the CLI can run the
named queries on a local file or through a running server's read API alike. The capacity
report adds, per model and region, the quota, its share at the peak minute and the
Provisioned Throughput sizing (docs/capacity.md), which need the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from outcrop.analytics.capacity import Quota, resolve_quotas
from outcrop.analytics.provisioned import Sizing, Traffic, size
from outcrop.analytics.queries import GROUP_KEYS, QueryError
from outcrop.core.settings import CapacitySettings, Settings

RunQuery = Callable[[str, dict[str, Any]], pa.Table]
KINDS: tuple[str, ...] = ("usage", "latency", "cost", "capacity")
# Columns the capacity report adds to the capacity query's, in order.
CAPACITY_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("quota_tpm", pa.int64()),
    ("quota_source", pa.string()),
    ("quota_share", pa.float64()),
    ("model_units_needed", pa.int64()),
    ("pt_monthly_usd_1_month", pa.float64()),
    ("pt_monthly_usd_6_month", pa.float64()),
    ("on_demand_monthly_usd", pa.float64()),
    ("breakeven_utilisation", pa.float64()),
    ("missing", pa.string()),
)
GROUP_BY_MODEL_REGION = ("capacity: quota and Provisioned Throughput columns are per model and region; "
                         "group by model,region (--by model,region) to fill them")


def build_report(
    run: RunQuery,
    kind: str,
    start: datetime,
    end: datetime,
    by: Sequence[str],
    where: Mapping[str, str | list[str]],
    *,
    settings: Settings | None = None,
    notes: list[str] | None = None,
) -> pa.Table:
    """The `kind` report over [start, end), one row per group, grouping keys first.

    Only the keys in `by` are kept as columns (the query NULLs the others). Remarks for
    the reader (e.g. that the capacity report needs model and region groups) are
    appended to `notes`. Without `settings` the capacity report knows no quotas and no
    model units, and says so in its `missing` column.
    """
    if kind not in KINDS:
        raise QueryError(f"unknown report {kind!r}; choose one of {', '.join(KINDS)}")
    params = {"from": start, "to": end, "by": list(by), "where": dict(where)}
    table = run(kind, params)
    if kind == "capacity":
        table = _with_capacity_columns(run, table, params, settings, notes if notes is not None else [])
    dropped = [k for k in GROUP_KEYS if k not in by and k in table.column_names]
    return table.drop_columns(dropped)


def _with_capacity_columns(
    run: RunQuery, table: pa.Table, params: dict[str, Any], settings: Settings | None, notes: list[str]
) -> pa.Table:
    rows = table.to_pylist()
    if not {"model", "region"} <= set(params["by"]):
        if rows:
            notes.append(GROUP_BY_MODEL_REGION)
        values: list[dict[str, Any]] = [{} for _ in rows]
    else:
        values = _capacity_values(run, rows, params, settings)
    for name, kind in CAPACITY_COLUMNS:
        table = table.append_column(name, pa.array([v.get(name) for v in values], kind))
    return table


def _capacity_values(
    run: RunQuery, rows: list[dict[str, Any]], params: dict[str, Any], settings: Settings | None
) -> list[dict[str, Any]]:
    pairs = {(r["model"], r["region"]) for r in rows}
    quotas = resolve_quotas(settings, pairs) if settings is not None else {}
    capacity = settings.capacity if settings is not None else CapacitySettings()
    costs = {_key(c): c for c in run("cost", params).to_pylist()}
    hours = (params["to"] - params["from"]).total_seconds() / 3600
    return [_capacity_row(row, costs.get(_key(row), {}), quotas.get((row["model"], row["region"])), capacity, hours)
            for row in rows]


def _capacity_row(
    row: dict[str, Any], cost: dict[str, Any], quota: Quota | None, capacity: CapacitySettings, hours: float
) -> dict[str, Any]:
    model, region, peak = row["model"], row["region"], row.get("peak_quota_tpm")
    sized = size(_traffic(model, peak, cost, hours), capacity)
    missing = list(sized.missing)
    quota_tpm = quota.tpm if quota is not None else None
    if quota_tpm is None:
        missing.insert(0, f"a TPM quota for {model} in {region} (capacity.quotas or capacity.service_quotas)")
    return {
        "quota_tpm": quota_tpm,
        "quota_source": quota.source if quota is not None else None,
        "quota_share": peak / quota_tpm if quota_tpm and peak is not None else None,
        **_sizing_values(sized),
        "missing": "; ".join(missing) or None,
    }


def _traffic(model: str, peak: int | None, cost: Mapping[str, Any], hours: float) -> Traffic:
    input_tokens, cache_write = cost.get("input_tokens"), cost.get("cache_write_tokens")
    quota_input = None if input_tokens is None and cache_write is None else (input_tokens or 0) + (cache_write or 0)
    return Traffic(model=model, peak_quota_tpm=peak, quota_input_tokens=quota_input,
                   output_tokens=cost.get("output_tokens"), cost_usd=cost.get("cost_usd"),
                   unpriced_requests=int(cost.get("unpriced_requests") or 0), hours=hours)


def _sizing_values(sized: Sizing) -> dict[str, Any]:
    return {
        "model_units_needed": sized.model_units_needed,
        "pt_monthly_usd_1_month": sized.pt_monthly_usd_1_month,
        "pt_monthly_usd_6_month": sized.pt_monthly_usd_6_month,
        "on_demand_monthly_usd": sized.on_demand_monthly_usd,
        "breakeven_utilisation": sized.breakeven_utilisation,
    }


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in ("tenant", "route", "workflow", "model", "region"))
