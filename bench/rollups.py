"""Benchmark: full and incremental rollups, re-pricing, and the report queries over 30 days.

Generates N synthetic llm_calls over 30 days in DuckDB SQL, pinned to one core
(sched_setaffinity + SET threads=1), and prints each timing with its ratio to an in-run
baseline: a plain GROUP BY over the raw rows with exact quantile_cont.

    .venv/bin/python bench/rollups.py [--rows 10000000] [--budget-seconds 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from outcrop.analytics.queries import run_query  # noqa: E402
from outcrop.analytics.rollups import run_rollups  # noqa: E402
from outcrop.core.settings import PriceOverride, PricingSettings  # noqa: E402
from outcrop.core.store.writer import apply_migrations  # noqa: E402

START = datetime(2025, 1, 1)
KINDS = ("usage", "latency", "cost", "capacity")
DAYS = 30
MODELS = [
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "amazon.nova-pro-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
]
# Skewed like real traffic: a few tenants and routes carry most calls.
GENERATE = """
INSERT INTO llm_calls (call_id, source, ts, trace_id, tenant, route, workflow, operation,
    provider, model, region, inference_profile, input_tokens, cache_read_tokens,
    output_tokens, streaming, ttft_ms, ttlt_ms, otps, status, ingested_at)
SELECT 'c' || i, 'otlp', $start + to_microseconds((i * $step_us)::BIGINT), 't' || (i // 3),
       'tenant' || least(floor(-ln(random()) * 2)::INT, 11),
       'route' || least(floor(-ln(random()) * 1.5)::INT, 5),
       'wf' || (i % 3), 'chat', 'aws.bedrock',
       $models[1 + least(floor(-ln(random()) * 1.2)::INT, 3)],
       CASE WHEN random() < 0.7 THEN 'us-east-1' ELSE 'us-west-2' END,
       CASE WHEN random() < 0.3 THEN 'us.x' END,
       (exp(6.5 + random() * 2))::BIGINT, CASE WHEN random() < 0.4 THEN 2000 END,
       out_tok, true, ttft, ttft + out_tok * 1000.0 / speed, speed,
       CASE WHEN random() < 0.01 THEN 'throttled' WHEN random() < 0.01 THEN 'error' ELSE 'ok' END,
       $start + INTERVAL 31 DAY
FROM (SELECT i, (exp(4 + random() * 2.5))::BIGINT AS out_tok, exp(5.5 + random() * 1.5) AS ttft,
             20 + random() * 80 AS speed FROM range($n) r(i))
"""
BASELINE = """
SELECT tenant, model, count(*), sum(input_tokens), sum(output_tokens),
       quantile_cont(ttft_ms, [0.5, 0.9, 0.95, 0.99]), quantile_cont(ttlt_ms, [0.5, 0.9, 0.95, 0.99]),
       quantile_cont(otps, [0.5, 0.9, 0.95, 0.99])
FROM llm_calls WHERE ts >= $lo AND ts < $hi GROUP BY ALL
"""


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def generated(rows: int) -> tuple[duckdb.DuckDBPyConnection, float]:
    """An in-memory database of `rows` synthetic calls on one core, and the baseline's time."""
    os.sched_setaffinity(0, {0})
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")
    apply_migrations(con)
    con.execute("SELECT setseed(0.42)")
    step = DAYS * 86_400_000_000 / rows
    gen = timed(lambda: con.execute(GENERATE, {"start": START, "step_us": step, "n": rows, "models": MODELS}))
    print(f"generated {rows:,} calls over {DAYS} days in {gen:.1f} s (1 core)")
    lo, hi = START, START + timedelta(days=DAYS)
    base = timed(lambda: con.execute(BASELINE, {"lo": lo, "hi": hi}).fetchall())
    print(f"baseline GROUP BY + exact quantile_cont over raw rows: {base * 1000:.0f} ms")
    return con, base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--budget-seconds", type=float, default=600.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_seconds
    con, base = generated(args.rows)
    n = args.rows
    lo, hi = START, START + timedelta(days=DAYS)
    now = START + timedelta(days=DAYS, hours=1)
    settings = PricingSettings()
    full = timed(lambda: run_rollups(con, settings, now, full=True))
    per10m = full * 10_000_000 / n
    print(f"full rebuild: {full:.2f} s = {per10m:.2f} s per 10M rows per core "
          f"(target <= 3 s), ratio to baseline {full / base:.1f}x")  # fmt: skip
    sizes = con.execute(
        "SELECT (SELECT count(*) FROM rollup_counts_1m), (SELECT count(*) FROM rollup_counts_1h),"
        " (SELECT count(*) FROM rollup_counts_1d), (SELECT count(*) FROM rollup_bins_1m),"
        " (SELECT count(*) FROM rollup_bins_1d), (SELECT count(*) FROM rollup_tmr_bins_1d),"
        " (SELECT count(*) FROM rollup_capacity_1m), (SELECT count(*) FROM rollup_peaks_1d)"
    ).fetchone()
    print(f"rows: counts 1m/1h/1d, bins 1m/1d, tmr bins 1d, capacity 1m, peaks 1d: {sizes}")
    _incremental(con, settings, now, n, base)
    _reprice(con, now, base)
    # capacity also by model,region: the quota view, which reads the small capacity table
    reports = [(k, ["tenant", "model"]) for k in KINDS] + [("capacity", ["model", "region"])]
    for kind, by in reports:
        if time.monotonic() > deadline:
            print("time budget spent; skipping the remaining queries")
            break
        params = {"from": lo, "to": hi, "by": by}
        took = timed(lambda k=kind, p=params: run_query(con, k, p), repeat=3)  # type: ignore[misc]
        print(f"report {kind:<8} over {DAYS} days by {','.join(by)}: {took * 1000:.1f} ms "
              f"(target <= 50 ms), ratio to baseline {took / base:.3f}x")  # fmt: skip


def _reprice(con: duckdb.DuckDBPyConnection, now: datetime, base: float) -> None:
    """A new price for the busiest model from day 15 on (its old price before): the time
    from the rollup run that sees it to the `cost` report showing the new figure, which is
    then checked against every call priced one by one (call_costs)."""
    lo, hi = START, START + timedelta(days=DAYS)
    params = {"from": lo, "to": hi, "by": ["model"]}

    def model_cost() -> float:
        rows = run_query(con, "cost", params).to_pylist()
        return float(next(r["cost_usd"] for r in rows if r["model"] == MODELS[0]))

    old = model_cost()
    start = (START + timedelta(days=15)).date().isoformat()
    price = PriceOverride(model=MODELS[0], input_per_mtok=2.0, output_per_mtok=9.0, valid_from=start)
    started = time.perf_counter()
    outcome = run_rollups(con, PricingSettings(overrides=(price,)), now + timedelta(minutes=2))
    new = model_cost()
    took = time.perf_counter() - started
    exact = con.execute("SELECT sum(cost_usd) FROM call_costs(?, ?) WHERE model = ?", [lo, hi, MODELS[0]]).fetchone()
    assert exact is not None and abs(new - exact[0]) < 0.01, (new, exact)
    print(f"re-price: {MODELS[0]} from {start}, ${old:,.2f} -> ${new:,.2f} over {DAYS} days "
          f"(per call ${exact[0]:,.2f}), {outcome.rows_written} rollup rows rewritten, visible in "
          f"the cost report after {took:.2f} s (target <= 3 s), ratio to baseline {took / base:.2f}x")  # fmt: skip


def _incremental(con: duckdb.DuckDBPyConnection, settings: PricingSettings, now: datetime, n: int, base: float) -> None:
    """Two incremental runs: the steady state (the minute that just ended, in today's
    still-open day: minute and hour rows only), and late data (a minute of calls for the
    last complete day, which also rewrites that day's rows)."""
    per_minute = max(1, n // (DAYS * 1440))
    cases = (
        ("current minute", now - timedelta(minutes=1), "cur"),
        ("late minute into the last complete day", START + timedelta(days=DAYS - 1, hours=23, minutes=59), "late"),
    )
    for label, minute, prefix in cases:
        con.execute(
            "INSERT INTO llm_calls (call_id, source, ts, tenant, route, workflow, model, region,"
            " input_tokens, output_tokens, ttlt_ms, status, ingested_at)"
            " SELECT $p || i, 'otlp', $m + to_microseconds(i * 1000), 'tenant0', 'route0', 'wf0',"
            " $model, 'us-east-1', 500, 200, 900.0, 'ok', $at FROM range($k) r(i)",
            {"p": prefix, "m": minute, "model": MODELS[0], "k": per_minute, "at": now},
        )
        took = timed(lambda: run_rollups(con, settings, now + timedelta(minutes=1)))
        print(f"incremental run, {label} ({per_minute} rows): {took * 1000:.1f} ms "
              f"(target <= 50 ms), ratio to baseline {took / base:.3f}x")  # fmt: skip


if __name__ == "__main__":
    main()
