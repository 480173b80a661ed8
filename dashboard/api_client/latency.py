"""The latency page's reads: percentiles over time, where the time goes, latency against
output tokens and the slowest routes, each one read-API call.

Every number is the server's: named queries `timeseries` (TTFT/TTLT p50 and p95, OTPS p50
from the rollup histograms), `latency` (p50-p99 per group) and `latency_vs_output` (a
bounded sample of calls), and POST /v1/reports/stage_latency (per route and stage, by the
server's [stages] settings).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import pyarrow as pa

from outcrop.dashboard.api_client.base import Api
from outcrop.dashboard.filters import Filters

# what the percentiles over time can be split by, with their labels
GROUPS: dict[str, str] = {"model": "Model", "route": "Route", "tenant": "Tenant"}
CALL_ONLY_KEYS = frozenset({"prompt_version"})
SCATTER_POINTS = 2000
SLOWEST_ROUTES = 20
MINUTES_UP_TO = timedelta(hours=3)  # longer ranges by hour, then by day: tens of points, not thousands
HOURS_UP_TO = timedelta(days=3)
_GRAIN_LENGTH = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


def rollups_can_filter(filters: Filters) -> bool:
    """Whether `timeseries` and `latency` (rollup reads) can take these filters: the rollups
    keep no prompt version, so those charts cannot narrow by one (the server refuses)."""
    return not any(key in CALL_ONLY_KEYS for key in filters.where)


def grain(filters: Filters) -> str:
    if filters.length <= MINUTES_UP_TO:
        return "1m"
    return "1h" if filters.length <= HOURS_UP_TO else "1d"


def bucket_length(grain_name: str) -> timedelta:
    return _GRAIN_LENGTH[grain_name]


def percentiles_over_time(api: Api, filters: Filters, group: str) -> pa.Table:
    """Per bucket and `group` value: requests, TTFT and TTLT p50/p95, OTPS p50 (`timeseries`)."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}, not {group!r}")
    table = api.named("timeseries", {**filters.params(), "grain": grain(filters), "by": [group]})
    wanted = ["bucket", group, "requests", "ttft_ms_p50", "ttft_ms_p95", "ttlt_ms_p50", "ttlt_ms_p95", "otps_p50"]
    return table.select([c for c in wanted if c in table.column_names])


def stages(api: Api, filters: Filters) -> pa.Table:
    """Per route and stage: traces, p50 and p95 ms per trace (POST /v1/reports/stage_latency)."""
    return api.table("/v1/reports/stage_latency", {"params": filters.params()})


def latency_vs_output(api: Api, filters: Filters) -> pa.Table:
    """At most SCATTER_POINTS successful calls: output tokens, TTLT, model, trace (`latency_vs_output`)."""
    return api.named("latency_vs_output", {**filters.params(), "limit": SCATTER_POINTS})


def slowest_routes(api: Api, filters: Filters) -> pa.Table:
    """Routes by TTLT p95, slowest first, with TTFT, OTPS and error and throttle rates (`latency` by route)."""
    table = api.named("latency", {**filters.params(), "by": ["route"]})
    if table.num_rows == 0 or "ttlt_ms_p95" not in table.column_names:
        return table
    ordered = table.sort_by([("ttlt_ms_p95", "descending"), ("route", "ascending")])
    return ordered.slice(0, SLOWEST_ROUTES)


class Reads:
    """The page's reads, all started at once: the page draws each part as its answer comes,
    instead of asking the server for one only after the last was drawn."""

    def __init__(self, api: Api, filters: Filters, group: str | None) -> None:
        calls: dict[str, Callable[[], pa.Table]] = {
            "stages": lambda: stages(api, filters),
            "scatter": lambda: latency_vs_output(api, filters),
        }
        if group is not None:  # None: the filters are ones the rollups cannot apply
            calls["over_time"] = lambda: percentiles_over_time(api, filters, group)
            calls["routes"] = lambda: slowest_routes(api, filters)
        pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="latency-read")
        self._futures: dict[str, Future[pa.Table]] = {name: pool.submit(call) for name, call in calls.items()}
        pool.shutdown(wait=False)  # the workers end with their reads

    def get(self, name: str) -> pa.Table:
        """The answer of one read; its ApiError, if it failed, is raised here."""
        return self._futures[name].result()
