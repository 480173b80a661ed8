"""Percentiles merged from rollup histograms stay within 2% of exact quantiles."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.queries import run_query
from outcrop.analytics.rollups import run_rollups
from outcrop.core.settings import PricingSettings

QS = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


def _calls(n: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    rows = []
    for i in range(n):
        ttft = rng.lognormvariate(6.0, 0.6)  # ~400 ms median
        ttlt = ttft + rng.lognormvariate(8.0, 0.5)
        out = rng.randint(20, 900)
        rows.append(
            {
                "call_id": f"c{i}",
                # spread over ~31 hours so a read tiles days, hours and minutes
                "ts": T0 + timedelta(seconds=i * 37),
                "tenant": ("acme", "globex")[i % 2],
                "ttft_ms": ttft,
                "ttlt_ms": ttlt,
                "otps": out / ((ttlt - ttft) / 1000),
                "input_tokens": rng.randint(50, 5000),
                "output_tokens": out,
                "streaming": True,
            }
        )
    return rows


@pytest.mark.parametrize("metric,column", [("ttft_ms", "ttft_ms"), ("ttlt_ms", "ttlt_ms"), ("otps", "otps")])
def test_histogram_percentiles_are_within_two_percent_of_quantile_cont(metric: str, column: str) -> None:
    con = fresh_db()
    insert_calls(con, _calls(3000), T0)
    run_rollups(con, PricingSettings(), T0 + timedelta(days=3))
    start, end = T0 + timedelta(minutes=13, seconds=20), T0 + timedelta(hours=29, minutes=41)
    got = run_query(con, "latency", {"from": start, "to": end, "by": ["tenant"]})
    exact = con.execute(
        f"SELECT tenant, quantile_cont({column}, [0.5, 0.9, 0.95, 0.99]) FROM llm_calls"
        " WHERE ts >= ? AND ts < ? GROUP BY tenant",
        [start.replace(second=0), end.replace(second=0) + timedelta(minutes=1)],
    ).fetchall()
    by_tenant = {row["tenant"]: row for row in got.to_pylist()}
    assert set(by_tenant) == {"acme", "globex"}
    for tenant, quantiles in exact:
        for (suffix, _), want in zip(QS, quantiles, strict=True):
            value = by_tenant[tenant][f"{metric}_{suffix}"]
            assert abs(value - want) / want <= 0.02, (tenant, suffix, value, want)


def test_zero_values_read_back_as_zero() -> None:
    con = fresh_db()
    insert_calls(con, [{"call_id": "z", "ts": T0, "ttlt_ms": 0.0}], T0)
    run_rollups(con, PricingSettings(), T0 + timedelta(hours=1))
    got = run_query(con, "latency", {"from": T0, "to": T0 + timedelta(minutes=1), "by": []})
    assert got.column("ttlt_ms_p50")[0].as_py() == 0.0
    assert got.column("ttft_ms_p50")[0].as_py() is None  # not streamed: no TTFT
