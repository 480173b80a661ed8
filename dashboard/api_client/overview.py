"""The Overview page's reads: headline numbers against the previous period, the requests
chart, top movers and firing alerts.

Named queries only (`usage`, `cost`, `latency`, `timeseries`) and GET /v1/alerts. Spend
is the `cost` query's `cost_usd` over the range, what `outcrop report cost` prints for
it. The reads of one chart run side by side (the server answers each from the rollups);
answers are cached for a minute per API and parameters, so a widget's rerun reads nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal, TypeVar

import pyarrow as pa
import streamlit as st

from outcrop.dashboard.api_client.base import Api
from outcrop.dashboard.filters import KEYS, Filters, link, parse_time

T = TypeVar("T")
Unit = Literal["count", "money", "ms", "share"]
CACHE_SECONDS = 60
UNATTRIBUTED = "unattributed"  # the tenant of calls no attribution key named
MOVER_KEYS: tuple[str, ...] = ("tenant", "route", "model")
MOVER_ROWS = 1000  # groups read per key and period: the biggest first
# Keys the rollups behind `latency` and `timeseries` do not keep (analytics.queries.CALL_KEYS)
CALL_ONLY_KEYS = frozenset({"prompt_version"})
_WORKERS = 8


@dataclass(frozen=True)
class Number:
    """One headline number: its value over the range and over the period before."""

    label: str
    unit: Unit
    now: float | None
    before: float | None
    series: tuple[float | None, ...]  # per bucket of the range, for the sparkline
    lower_is_better: bool


@dataclass(frozen=True)
class Headline:
    numbers: tuple[Number, ...]
    requests: int  # in the range: 0 means nothing to show
    grain: str
    notes: tuple[str, ...]  # what could not be narrowed by the filters


@dataclass(frozen=True)
class Bucket:
    start: datetime
    requests: int
    cost_usd: float | None
    traces: str  # link to the traces of the bucket


@dataclass(frozen=True)
class Mover:
    key: str  # tenant | route | model
    value: str
    now: float | None
    before: float | None
    traces: str

    @property
    def delta(self) -> float:
        return (self.now or 0.0) - (self.before or 0.0)


@dataclass(frozen=True)
class Movers:
    spend: tuple[Mover, ...]
    ttlt_p95: tuple[Mover, ...]
    notes: tuple[str, ...]


def grain_for(filters: Filters) -> str:
    """Hourly buckets up to a week (at most 168 points), daily beyond."""
    return "1h" if filters.length <= timedelta(days=7) else "1d"


def latency_note(filters: Filters) -> str | None:
    """Why latency is missing under a filter the rollups cannot apply, or None."""
    keys = sorted(CALL_ONLY_KEYS & set(filters.where))
    if not keys:
        return None
    return (f"Latency percentiles and sparklines cannot be narrowed by {', '.join(keys)} (the rollups do not "
            "keep it): they are left out; the Cost page compares prompt versions.")


# -- reads -----------------------------------------------------------------------------

@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False, max_entries=512)
def _read(base_url: str, token: str | None, name: str, params_json: str, limit: int | None) -> pa.Table:
    """One named query; the token is part of the key so one user's answer is not another's."""
    return Api(base_url, token).named(name, json.loads(params_json), limit)


def _named(api: Api, name: str, params: dict[str, Any], limit: int | None = None) -> pa.Table:
    return _read(api.base_url, api.token, name, json.dumps(params, sort_keys=True), limit)


def _parallel(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run the reads side by side; the first failure (an ApiError) is raised."""
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(calls))) as pool:
        futures = [pool.submit(c) for c in calls]
        return [f.result() for f in futures]


def _nothing() -> None:
    return None


def _first(table: pa.Table, column: str) -> Any:
    return table.column(column)[0].as_py() if table.num_rows else None


# -- headline --------------------------------------------------------------------------

def _unattributed_where(where: dict[str, list[str]]) -> dict[str, list[str]] | None:
    """The filter that keeps only unattributed calls, or None when the filters exclude them."""
    tenants = where.get("tenant")
    if tenants and UNATTRIBUTED not in tenants:
        return None
    return {**where, "tenant": [UNATTRIBUTED]}


def _period_calls(api: Api, filters: Filters) -> list[Callable[[], pa.Table | None]]:
    params = filters.params()
    unattributed = _unattributed_where(filters.where)
    with_latency = latency_note(filters) is None
    return [
        lambda: _named(api, "usage", params),
        lambda: _named(api, "cost", params),
        lambda: _named(api, "latency", params) if with_latency else None,
        lambda: _named(api, "usage", {**params, "where": unattributed}) if unattributed is not None else None,
    ]


def _period_values(usage: pa.Table, cost: pa.Table, latency: pa.Table | None,
                   unattributed: pa.Table | None) -> dict[str, float | None]:
    requests = int(_first(usage, "requests") or 0)

    def share(n: Any) -> float | None:
        return None if requests == 0 else float(n or 0) / requests

    return {
        "requests": float(requests),
        "spend": _first(cost, "cost_usd") if requests else 0.0,
        "ttft": _first(latency, "ttft_ms_p95") if latency is not None else None,
        "ttlt": _first(latency, "ttlt_ms_p95") if latency is not None else None,
        "throttle": share(_first(usage, "throttles")),
        "error": share(_first(usage, "errors")),
        "unattributed": share(_first(unattributed, "requests") if unattributed is not None else 0),
        "unpriced": share(_first(usage, "unpriced_requests")),
    }


_HEADLINE: tuple[tuple[str, str, Unit, bool], ...] = (
    ("requests", "Requests", "count", False),
    ("spend", "Spend", "money", True),
    ("ttft", "p95 TTFT", "ms", True),
    ("ttlt", "p95 TTLT", "ms", True),
    ("throttle", "Throttle rate", "share", True),
    ("error", "Error rate", "share", True),
    ("unattributed", "Unattributed share", "share", True),
    ("unpriced", "Unpriced share", "share", True),
)


def _series(table: pa.Table | None) -> dict[str, tuple[float | None, ...]]:
    """Each headline's value per bucket of the timeseries query."""
    if table is None or table.num_rows == 0:
        return {}
    rows = table.to_pylist()

    def share(row: dict[str, Any], column: str) -> float | None:
        return (row[column] or 0) / row["requests"] if row["requests"] else None

    return {
        "requests": tuple(float(r["requests"]) for r in rows),
        "spend": tuple(r["cost_usd"] for r in rows),
        "ttft": tuple(r["ttft_ms_p95"] for r in rows),
        "ttlt": tuple(r["ttlt_ms_p95"] for r in rows),
        "throttle": tuple(share(r, "throttles") for r in rows),
        "error": tuple(share(r, "errors") for r in rows),
        "unpriced": tuple(share(r, "unpriced_requests") for r in rows),
    }


def _timeseries(api: Api, filters: Filters) -> pa.Table | None:
    if latency_note(filters) is not None:
        return None
    return _named(api, "timeseries", {**filters.params(), "grain": grain_for(filters)})


def headline(api: Api, filters: Filters) -> Headline:
    """Requests, spend, p95 TTFT and TTLT, throttle, error, unattributed and unpriced shares
    over the range and the previous period of the same length, with a sparkline each."""
    calls: list[Callable[[], pa.Table | None]] = [
        *_period_calls(api, filters), *_period_calls(api, filters.previous()), lambda: _timeseries(api, filters)]
    answers = _parallel(calls)
    now = _period_values(*answers[0:4])
    before = _period_values(*answers[4:8])
    series = _series(answers[8])
    numbers = tuple(Number(label, unit, now[key], before[key], series.get(key, ()), lower)
                    for key, label, unit, lower in _HEADLINE)
    note = latency_note(filters)
    return Headline(numbers, int(now["requests"] or 0), grain_for(filters), (note,) if note else ())


# -- the requests chart ----------------------------------------------------------------

def buckets(api: Api, filters: Filters) -> list[Bucket]:
    """Requests and spend per bucket, each with a link to its traces (the same timeseries
    read as the sparklines, so no second call)."""
    table = _timeseries(api, filters)
    if table is None:
        return []
    step = timedelta(hours=1) if grain_for(filters) == "1h" else timedelta(days=1)
    out = []
    for row in table.to_pylist():
        start: datetime = row["bucket"].replace(tzinfo=None)
        lo, hi = max(start, filters.start), min(start + step, filters.end)
        out.append(Bucket(start, int(row["requests"]), row["cost_usd"],
                          link("traces", filters, **{"from": lo, "to": hi})))
    return out


# -- top movers ------------------------------------------------------------------------

def _by_key(table: pa.Table | None, key: str, column: str) -> dict[str, float | None]:
    if table is None:
        return {}
    return {str(r[key]): r[column] for r in table.select([key, column]).to_pylist()}


def _ranked(key: str, now: dict[str, float | None], before: dict[str, float | None], filters: Filters,
            both: bool) -> list[Mover]:
    """Groups by how far they moved; with `both`, only groups measured in both periods."""
    names = set(now) & set(before) if both else set(now) | set(before)
    movers = [Mover(key, name, now.get(name), before.get(name), link("traces", filters, **{key: [name]}))
              for name in names
              if not both or (now.get(name) is not None and before.get(name) is not None)]
    return [m for m in movers if m.delta != 0]


def movers(api: Api, filters: Filters, top: int = 5) -> Movers:
    """The tenants, routes and models whose spend, and whose p95 TTLT, moved most against
    the previous period (largest absolute change first, `top` of each)."""
    previous = filters.previous()
    with_latency = latency_note(filters) is None
    calls: list[Callable[[], pa.Table | None]] = []
    for key in MOVER_KEYS:
        for period in (filters, previous):
            params = {**period.params(), "by": [key]}
            calls.append(partial(_named, api, "cost", params, MOVER_ROWS))
            calls.append(partial(_named, api, "latency", params, MOVER_ROWS) if with_latency else _nothing)
    answers = iter(_parallel(calls))
    spend: list[Mover] = []
    ttlt: list[Mover] = []
    for key in MOVER_KEYS:
        cost_now, latency_now, cost_before, latency_before = (next(answers) for _ in range(4))
        spend += _ranked(key, _by_key(cost_now, key, "cost_usd"), _by_key(cost_before, key, "cost_usd"),
                         filters, both=False)
        ttlt += _ranked(key, _by_key(latency_now, key, "ttlt_ms_p95"), _by_key(latency_before, key, "ttlt_ms_p95"),
                        filters, both=True)

    def biggest(items: list[Mover]) -> tuple[Mover, ...]:
        return tuple(sorted(items, key=lambda m: (-abs(m.delta), m.key, m.value))[:top])

    note = latency_note(filters)
    return Movers(biggest(spend), biggest(ttlt), (note,) if note else ())


# -- firing alerts ---------------------------------------------------------------------

@dataclass(frozen=True)
class FiringAlert:
    rule: str
    kind: str
    severity: str | None
    group: str  # "tenant=acme, model=…", or "" for the whole
    value: float | None
    threshold: float | None
    since: datetime | None
    message: str | None
    traces: str


def firing_alerts(api: Api, filters: Filters) -> list[FiringAlert]:
    """GET /v1/alerts?state=firing, newest first, each with a link to the traces of its
    group since it started."""
    rows: list[dict[str, Any]] = api.get("/v1/alerts?state=firing")
    out = []
    for row in rows:
        group = {str(k): str(v) for k, v in (row.get("group") or {}).items()}
        since = parse_time(row["started_at"], filters.end, "started_at") if row.get("started_at") else None
        where = {k: [v] for k, v in group.items() if k in KEYS}
        scope = Filters(since or filters.start, max(filters.end, (since or filters.start) + timedelta(minutes=1)))
        out.append(FiringAlert(
            rule=str(row.get("rule")), kind=str(row.get("kind")), severity=row.get("severity"),
            group=", ".join(f"{k}={v}" for k, v in group.items()), value=row.get("value"),
            threshold=row.get("threshold"), since=since, message=row.get("message"),
            traces=link("traces", scope, **where),
        ))
    return out
