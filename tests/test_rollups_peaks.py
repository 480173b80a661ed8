"""Capacity peaks and day histograms summed over route and workflow stay exact.

Peak RPM/TPM of a group is the max over minutes of the group's summed calls and tokens,
whichever tables the read takes it from (day peaks, tenant/model/region minutes or
per-key minutes); percentiles read from rollup_tmr_bins_1d equal those merged per key.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PricingSettings

NOW = T0 + timedelta(days=3)
MODELS = ("anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-pro-v1:0")
KEYS = ("tenant", "route", "workflow", "model", "region")


def _calls() -> list[dict[str, Any]]:
    rng = random.Random(11)
    rows = []
    for i in range(4000):
        # bursty: most calls cluster in a few seconds of some minutes, over ~50 hours
        minute = rng.choice((rng.randrange(3000), rng.randrange(40) * 71))
        rows.append(
            {
                "call_id": f"c{i}",
                "ts": T0 + timedelta(minutes=minute, seconds=rng.randrange(60)),
                "tenant": rng.choice(("acme", "acme", "globex", "initech")),
                "route": rng.choice(("chat", "search")),
                "workflow": rng.choice(("support", "triage")),
                "model": rng.choice(MODELS),
                "region": rng.choice(("us-east-1", "us-west-2")),
                "input_tokens": rng.choice((None, rng.randint(10, 4000))),
                "cache_read_tokens": rng.choice((None, 0, 500)),
                "output_tokens": rng.choice((None, rng.randint(1, 800))),
                "ttft_ms": rng.lognormvariate(6.0, 0.6),
                "ttlt_ms": rng.lognormvariate(8.0, 0.5),
                "streaming": True,
            }
        )
    return rows


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    db = fresh_db()
    insert_calls(db, _calls(), T0)
    run_rollups(db, PricingSettings(), NOW)
    return db


def _raw_peaks(
    con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, by: list[str], where: dict[str, list[str]]
) -> dict[tuple[Any, ...], tuple[int, int]]:
    cols = [f"CASE WHEN {k in by} THEN {k} END AS g_{k}" for k in KEYS]
    filters = "".join(f" AND {k} IN (SELECT unnest(${k}))" for k in where)
    rows = con.execute(
        f"""SELECT g_tenant, g_route, g_workflow, g_model, g_region, max(rpm), max(tpm)
            FROM (SELECT date_trunc('minute', ts) AS m, {", ".join(cols)}, count(*) AS rpm,
                         sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
                             + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) AS tpm
                  FROM llm_calls WHERE ts >= $lo AND ts < $hi {filters} GROUP BY ALL)
            GROUP BY ALL""",
        {"lo": start, "hi": end, **where},
    ).fetchall()
    return {tuple(r[:5]): (r[5], r[6]) for r in rows}


RANGES = [
    (T0 - timedelta(hours=10), NOW),  # three whole days
    (T0 + timedelta(minutes=7), T0 + timedelta(hours=38, minutes=1)),  # ragged ends and a day
    (T0 + timedelta(hours=13, minutes=3), T0 + timedelta(hours=15, minutes=58)),  # inside a day
]
READS: list[tuple[list[str], dict[str, list[str]]]] = [
    (["tenant", "model"], {}),
    (["model", "region"], {}),
    ([], {}),
    (["tenant", "model", "region"], {"tenant": ["acme", "initech"]}),
    (["tenant"], {"model": [MODELS[1]]}),  # filter on a key not grouped
    (["route"], {}),
    (["tenant"], {"workflow": ["triage"]}),
]


@pytest.mark.parametrize("start,end", RANGES)
@pytest.mark.parametrize("by,where", READS)
def test_peaks_equal_the_raw_per_minute_maximum(
    con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, by: list[str], where: dict[str, list[str]]
) -> None:
    got = run_query(con, "capacity", {"from": start, "to": end, "by": by, "where": where}).to_pylist()
    peaks = {tuple(r[k] for k in KEYS): (r["peak_rpm"], r["peak_tpm"]) for r in got}
    assert peaks == _raw_peaks(con, start, end, by, where)


@pytest.mark.parametrize("start,end", RANGES)
def test_tmr_day_bins_give_the_same_percentiles_as_key_bins(
    con: duckdb.DuckDBPyConnection, start: datetime, end: datetime
) -> None:
    every_route = {"route": ["chat", "search"]}  # same calls, but read per key
    for kind in ("latency", "capacity"):
        fast = run_query(con, kind, {"from": start, "to": end, "by": ["tenant", "model"]}).to_pylist()
        per_key = run_query(
            con, kind, {"from": start, "to": end, "by": ["tenant", "model"], "where": every_route}
        ).to_pylist()
        assert fast == per_key


def test_late_call_rewrites_day_peaks_and_tmr_bins_as_a_rebuild_would() -> None:
    db = fresh_db()
    insert_calls(db, _calls(), T0)
    run_rollups(db, PricingSettings(), NOW)
    late = [{"call_id": f"late{i}", "ts": T0 + timedelta(hours=20, minutes=5), "tenant": "globex",
             "output_tokens": 9000} for i in range(50)]  # fmt: skip
    insert_calls(db, late, NOW)
    run_rollups(db, PricingSettings(), NOW + timedelta(minutes=1))
    tables = ("rollup_peaks_1d", "rollup_tmr_bins_1d", "rollup_capacity_1m")
    incremental = {t: db.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    run_rollups(db, PricingSettings(), NOW + timedelta(minutes=1), full=True)
    assert {t: db.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables} == incremental
    peak = db.execute(
        "SELECT peak_rpm FROM rollup_peaks_1d WHERE bucket = ? AND by_tenant AND NOT by_model"
        " AND NOT by_region AND tenant = 'globex'",
        [datetime(2025, 3, 4)],
    ).fetchone()
    assert peak is not None and peak[0] >= 50
