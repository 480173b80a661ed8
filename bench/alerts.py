"""Benchmark: one full alert evaluation (20 rules of every kind, and budgets) over 30 days
of N synthetic calls, with the rollups built, pinned to one core.

Prints the first evaluation (cold caches), the median of the next runs (each one minute
later, as the scheduled job runs), the time per rule kind, and the ratio of each to an
in-run baseline: a plain GROUP BY over the raw rows with exact quantile_cont (the
baseline of bench/rollups.py).

    .venv/bin/python bench/alerts.py [--rows 10000000] [--runs 5] [--budget-seconds 900]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
from rollups import DAYS, MODELS, START, generated, timed  # noqa: E402

from outcrop.analytics.alerts import evaluate_alerts  # noqa: E402
from outcrop.analytics.rollups import run_rollups  # noqa: E402
from outcrop.core.settings import Settings  # noqa: E402

RATE_RULES: list[tuple[str, list[str]]] = [
    ("throttle_rate", ["model", "region"]), ("throttle_rate", ["tenant"]), ("throttle_rate", ["route"]),
    ("throttle_rate", []), ("throttle_rate", ["tenant", "model"]),
    ("error_rate", ["tenant"]), ("error_rate", ["model"]), ("error_rate", ["route", "model"]),
    ("error_rate", []),
]
DRIFT_RULES: list[tuple[str, list[str]]] = [
    ("ttft_ms_p95", ["route"]), ("ttlt_ms_p95", ["model"]), ("otps_p50", ["model"]),
    ("input_tokens_per_request", ["workflow"]), ("output_tokens_per_request", ["route"]),
    ("cost_per_request_usd", ["tenant"]), ("cache_hit_share", ["tenant"]), ("error_rate", ["model"]),
    ("finish_reason_share", ["route"]),
]


def bench_settings() -> Settings:
    rules: list[dict[str, Any]] = []
    for i, (kind, by) in enumerate(RATE_RULES):
        rules.append({"name": f"{kind}-{i}", "kind": kind, "by": by, "window_minutes": 15, "min_requests": 50})
    for metric, by in DRIFT_RULES:
        rules.append({"name": f"drift-{metric}", "kind": "drift", "metric": metric, "by": by,
                      "window_minutes": 60, "baseline_days": 7, "min_requests": 50})
    rules += [{"name": "quota-tpm", "kind": "capacity", "metric": "quota_tpm"},
              {"name": "quota-rpm", "kind": "capacity", "metric": "rpm"}]
    budgets = [{"name": "tenant0-month", "scope": {"tenant": "tenant0"}, "period": "month", "limit_usd": 5000.0},
               {"name": "route1-day", "scope": {"route": "route1"}, "period": "day", "limit_usd": 100.0},
               {"name": "all-month", "period": "month", "limit_usd": 50000.0}]
    quotas = [{"model": m, "region": r, "tpm": 2_000_000, "rpm": 2_000}
              for m in MODELS for r in ("us-east-1", "us-west-2")]
    return Settings(alerts={"rules": rules, "budgets": budgets}, capacity={"quotas": quotas})


class ConnectionStore:
    """The part of Store evaluate_alerts uses, on one in-memory connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], Any], timeout: float | None = None) -> Any:
        self.con.execute("BEGIN")
        try:
            out = fn(self.con)
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")
        return out

    def query(self, sql: str, params: Any = None) -> pa.Table:
        return self.con.execute(sql, params).to_arrow_table()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget-seconds", type=float, default=900.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_seconds
    con, base = generated(args.rows)
    settings = bench_settings()
    at = START + timedelta(days=DAYS - 1, hours=17)  # late in the data, a busy hour
    built = timed(lambda: run_rollups(con, settings.pricing, at, full=True,
                                         burndown=settings.capacity.output_burndown))
    print(f"rollups built in {built:.1f} s")
    store = ConnectionStore(con)
    rules = settings.alerts.rules
    print(f"{len(rules)} rules ({', '.join(sorted({r.kind for r in rules}))}) and "
          f"{len(settings.alerts.budgets)} budgets")
    first = timed(lambda: evaluate_alerts(store, settings, at))
    print(f"first evaluation: {first * 1000:.0f} ms, ratio to baseline {first / base:.3f}x")
    runs: list[float] = []
    for i in range(1, args.runs + 1):
        if time.monotonic() > deadline:
            print("time budget spent; stopping")
            break
        when = at + timedelta(minutes=i)
        runs.append(timed(lambda w=when: evaluate_alerts(store, settings, w)))  # type: ignore[misc]
    if runs:
        warm = statistics.median(runs)
        print(f"full evaluation, median of {len(runs)}: {warm * 1000:.0f} ms (target <= 1000 ms), "
              f"ratio to baseline {warm / base:.3f}x")
    # each kind alone, through the same evaluation (warm: the runs above filled the caches)
    kinds = [(kind, [r for r in rules if r.kind == kind], ()) for kind in sorted({r.kind for r in rules})]
    kinds.append(("budgets", [], settings.alerts.budgets))
    for n, (kind, chosen, budgets) in enumerate(kinds):
        alone = settings.model_copy(update={"alerts": settings.alerts.model_copy(
            update={"rules": tuple(chosen), "budgets": tuple(budgets)})})
        when = at + timedelta(minutes=args.runs + 1 + n)
        took = timed(lambda a=alone, w=when: evaluate_alerts(store, a, w))  # type: ignore[misc]
        count = len(chosen) or len(budgets)
        print(f"  {kind:<14} {count:>2} alone: {took * 1000:.0f} ms ({took / count * 1000:.0f} ms each), "
              f"ratio to baseline {took / base:.3f}x")


if __name__ == "__main__":
    main()
