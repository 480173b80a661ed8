"""The Capacity page's reads: one function per chart or table, each one read-API call.

Capacity is per model and region (Bedrock's quotas are), so every read groups by both.
The capacity rollups keep tenant, model and region only: the page's other filters
(route, workflow, prompt version) cannot narrow these reads, and `ignored_filters` names
them so the page can say so rather than show numbers that look filtered and are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from outcrop.dashboard.api_client.base import Api
from outcrop.dashboard.filters import Filters, iso, link

CAPACITY_KEYS = ("tenant", "model", "region")
BY = ["model", "region"]
FORECAST_HORIZON_DAYS = 14
FORECAST_HISTORY_SHOWN = timedelta(days=28)  # the daily peaks drawn before the forecast
PEAK_ROWS = 10
# The calculator's inputs, in the order the page shows them (POST /v1/reports/provisioned)
PT_INPUTS = ("peak_quota_tpm", "input_tokens", "output_tokens", "input_tpm_per_unit", "output_tpm_per_unit",
             "hourly_usd_1_month", "hourly_usd_6_month", "headroom", "on_demand_monthly_usd")


@dataclass(frozen=True)
class Group:
    """One model in one region: a line of the charts, a row of the tables."""

    model: str
    region: str

    @property
    def label(self) -> str:
        return f"{self.model} · {self.region}"


def ignored_filters(filters: Filters) -> list[str]:
    """The filters set that capacity reads cannot apply (the capacity rollups do not keep them)."""
    return [k for k, v in filters.where.items() if v and k not in CAPACITY_KEYS]


def grain_for(filters: Filters) -> str:
    """Minutes up to 6 hours, the busiest minute of each hour up to 8 days, of each day beyond."""
    if filters.length <= timedelta(hours=6):
        return "1m"
    return "1h" if filters.length <= timedelta(days=8) else "1d"


def _params(filters: Filters) -> dict[str, Any]:
    where = {k: v for k, v in filters.where.items() if v and k in CAPACITY_KEYS}
    return {"from": iso(filters.start), "to": iso(filters.end), "by": BY, "where": where}


def series(api: Api, filters: Filters) -> pa.Table:
    """capacity_series: RPM, TPM and quota TPM per bucket (of `grain_for`), model and region."""
    return api.named("capacity_series", {**_params(filters), "grain": grain_for(filters)})


def report(api: Api, filters: Filters) -> list[dict[str, Any]]:
    """POST /v1/reports/capacity by model and region: peaks, shape, quota, PT columns."""
    rows: list[dict[str, Any]] = api.post("/v1/reports/capacity", {"params": _params(filters)})
    return rows


def quotas(rows: list[dict[str, Any]]) -> dict[Group, int]:
    """The TPM quota of each group that has one, from the capacity report's rows."""
    return {Group(r["model"], r["region"]): int(r["quota_tpm"]) for r in rows if r.get("quota_tpm") is not None}


def sized_first(rows: list[dict[str, Any]]) -> int:
    """The index of the first report row the capacity report could size (its model has
    capacity.model_units), else 0: where the calculator opens."""
    return next((i for i, r in enumerate(rows) if r.get("model_units_needed") is not None), 0)


def peak_minutes(table: pa.Table, filters: Filters) -> list[dict[str, Any]]:
    """The PEAK_ROWS busiest buckets by quota TPM, each with a link to the traces of its peak minute."""
    rows = sorted(table.to_pylist(), key=lambda r: (-(r["quota_tpm"] or 0), r["bucket"], r["model"], r["region"]))
    return [{**r, "traces": minute_link(filters, r["quota_peak_at"] or r["bucket"], Group(r["model"], r["region"]))}
            for r in rows[:PEAK_ROWS]]


def minute_link(filters: Filters, minute: datetime, group: Group) -> str:
    """/traces for one minute of one model and region, the other filters kept."""
    return link("traces", filters, **{"from": minute, "to": minute + timedelta(minutes=1)},
                model=group.model, region=group.region)


def daily_peaks(api: Api, filters: Filters) -> pa.Table:
    """daily_peaks of the FORECAST_HISTORY_SHOWN days up to the range's end: the forecast's past."""
    params = {**_params(filters), "from": iso(filters.end - FORECAST_HISTORY_SHOWN)}
    return api.named("daily_peaks", params)


def forecast(api: Api, filters: Filters) -> pa.Table:
    """POST /v1/reports/forecast as of the range's end: each group's daily peaks forecast
    FORECAST_HORIZON_DAYS ahead with 95% bounds and quota_tpm. A group with under 7 days of
    history has no rows."""
    params = {"by": BY, "where": _params(filters)["where"], "at": iso(filters.end),
              "horizon_days": FORECAST_HORIZON_DAYS}
    return api.table("/v1/reports/forecast", {"params": params})


def provisioned(api: Api, filters: Filters, group: Group, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /v1/reports/provisioned for `group` over the range: with no `inputs`, the
    defaults (the range's traffic, capacity.model_units) and their figures; with `inputs`,
    the figures for those values (None keeps the default)."""
    params: dict[str, Any] = {"model": group.model, "region": group.region, "from": iso(filters.start),
                              "to": iso(filters.end)}
    params |= {k: v for k, v in (inputs or {}).items() if k in PT_INPUTS and v is not None}
    answer: dict[str, Any] = api.post("/v1/reports/provisioned", {"params": params})
    return answer
