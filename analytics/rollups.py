"""The windowed, idempotent rollup of llm_calls into the rollup tables (rollup_1m/1h/1d).

One run is one store write (one transaction): sync prices, queue the hours that hold
calls written since the watermark (or every hour when Provisioned Throughput commitments,
the token bound or the output burndown rates changed, or a rebuild was asked for), delete
and rewrite exactly those hours at minute and hour grain, rewrite the complete days that
contain them, clear the queue and move the watermarks. Running it twice changes nothing;
a call that arrives days late re-processes only its hour and its day. Only the minute
tables read llm_calls; hours and days are summed from them.

The count tables hold token sums per price class, and reads price them (priced_counts in
sql/macros/085_priced_counts.sql): a changed on-demand price rewrites only the small
rollup_rates table, never a window (docs/cost.md, "Cost at read time").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import duckdb

from outcrop.analytics import pricing
from outcrop.analytics.capacity import sync_burndown
from outcrop.analytics.windows import DAY, HOUR, floor_to
from outcrop.core.settings import (
    DEFAULT_MAX_TOKENS_PER_CALL,
    DEFAULT_OUTPUT_BURNDOWN,
    OutputBurndown,
    PricingSettings,
)
from outcrop.core.sql import sql_path
from outcrop.core.store import watermarks

ROLLUP_SQL = sql_path("rollups")
WRITE_SEQ = "rollup.write_seq"  # largest llm_calls write_seq rolled up (commit order)
DAYS_UNTIL = "rollup.days_until"
# The token bound the rollups were written with; token_bound() (sql/migrations/0005) reads it.
TOKEN_BOUND = "rollup.max_tokens_per_call"
_EPOCH = datetime(1970, 1, 1)
# (table rewritten, whether its rows count as rollup rows), in order. The hour steps
# read llm_calls once for counts and once for histograms; the rest read those rows.
HOUR_STEPS: tuple[tuple[str, bool], ...] = (
    ("counts_1m", True), ("bins_1m", False), ("capacity_1m", False), ("counts_1h", True),
)  # fmt: skip
DAY_STEPS: tuple[tuple[str, bool], ...] = (
    ("counts_1d", True), ("bins_1d", False), ("tmr_bins_1d", False), ("peaks_1d", False),
)  # fmt: skip
# Every file of sql/rollups/, in the order a run executes them (tests/test_rollup_order.py
# holds that none is missing): the price sync, the newest write, marking the dirty hours
# and days, their bounds, the keys and price classes, then for each grain the delete and
# insert of every table, minutes before the hours and days summed from them; then the
# rates reads price with, when new classes came (the price sync rebuilds them when prices
# change); last, the queue is cleared.
RUN_ORDER: tuple[str, ...] = (
    "price_book", "newest_write", "mark_all_dirty", "mark_dirty_since", "mark_dirty_days",
    "dirty_bounds", "upsert_keys", "upsert_price_classes",
    *(f"{verb}_{table}" for table, _ in HOUR_STEPS + DAY_STEPS for verb in ("delete", "insert")),
    "clear_rates", "insert_rates", "clear_dirty",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RollupOutcome:
    rows_written: int
    window_start: datetime | None
    window_end: datetime | None
    repriced: bool


@cache
def _sql(name: str) -> str:
    if name not in RUN_ORDER:  # a new statement gets its place in the order first
        raise KeyError(f"rollup statement {name!r} is not in RUN_ORDER")
    return (ROLLUP_SQL / f"{name}.sql").read_text()


def run_rollups(
    con: duckdb.DuckDBPyConnection,
    settings: PricingSettings,
    now: datetime,
    *,
    full: bool = False,
    max_tokens: int = DEFAULT_MAX_TOKENS_PER_CALL,
    burndown: Sequence[OutputBurndown] = DEFAULT_OUTPUT_BURNDOWN,
) -> RollupOutcome:
    """Bring the rollups up to date; call inside a store write (no COMMIT here).

    Calls with a token count outside [0, max_tokens] are rolled up with their counts and
    cost unknown (plausible_calls in sql/macros/050_plausible_calls.sql). Quota tokens
    use the output burndown rates in `burndown` (capacity.output_burndown)."""
    prices = pricing.sync_prices(con, settings, now)
    rebound = _sync_token_bound(con, max_tokens, now)
    rebound = sync_burndown(con, burndown, now) or rebound
    watermark = watermarks.get_int(con, WRITE_SEQ)
    # filtered on the watermark so that row-group statistics skip everything already seen
    newest = con.execute(_sql("newest_write"), {"since": -1 if watermark is None else watermark}).fetchone()
    # a new on-demand price changes no window (reads price token sums); a Provisioned
    # Throughput hour's cost is fixed in the rows, so a changed commitment redoes them all
    if full or prices.provisioned or rebound or watermark is None:
        con.execute(_sql("mark_all_dirty"))
    else:
        con.execute(_sql("mark_dirty_since"), {"watermark": watermark})
    old_until = watermarks.get_time(con, DAYS_UNTIL) or _EPOCH
    new_until = floor_to(now, DAY)
    con.execute(_sql("mark_dirty_days"), {"old_until": old_until, "new_until": new_until})
    rows, window = _rewrite(con)
    con.execute(_sql("clear_dirty"))
    if newest is not None and newest[0] is not None:
        watermarks.set(con, WRITE_SEQ, str(newest[0]), now)
    watermarks.set_time(con, DAYS_UNTIL, max(old_until, new_until), now)
    return RollupOutcome(rows, window[0], window[1], prices.changed)


def _rewrite(con: duckdb.DuckDBPyConnection) -> tuple[int, tuple[datetime | None, datetime | None]]:
    rows = 0
    new_classes = 0
    hours = _bounds(con, "hour", HOUR)
    if hours is not None:
        con.execute(_sql("upsert_keys"), {"lo": hours[0], "hi": hours[1]})
        added = con.execute(_sql("upsert_price_classes"), {"lo": hours[0], "hi": hours[1]}).fetchone()
        new_classes = int(added[0]) if added is not None else 0
        rows += sum(_rewrite_table(con, table, hours, counted) for table, counted in HOUR_STEPS)
    days = _bounds(con, "day", DAY)
    if days is not None:
        rows += sum(_rewrite_table(con, table, days, counted) for table, counted in DAY_STEPS)
    if new_classes:  # a price change rebuilt them already (pricing.sync_prices)
        con.execute(_sql("clear_rates"))
        con.execute(_sql("insert_rates"))
    starts = [b[0] for b in (hours, days) if b is not None]
    ends = [b[1] for b in (hours, days) if b is not None]
    return rows, (min(starts, default=None), max(ends, default=None))


def _bounds(con: duckdb.DuckDBPyConnection, grain: str, step: timedelta) -> tuple[datetime, datetime] | None:
    found = con.execute(_sql("dirty_bounds"), [grain]).fetchone()
    if found is None or found[0] is None:
        return None
    return found[0], found[1] + step


def _rewrite_table(
    con: duckdb.DuckDBPyConnection, table: str, bounds: tuple[datetime, datetime], counted: bool
) -> int:
    params = {"lo": bounds[0], "hi": bounds[1]}
    con.execute(_sql(f"delete_{table}"), params)
    inserted = con.execute(_sql(f"insert_{table}"), params).fetchone()
    return int(inserted[0]) if counted and inserted is not None else 0


def _sync_token_bound(con: duckdb.DuckDBPyConnection, max_tokens: int, now: datetime) -> bool:
    """Record the bound this run applies; True when the rollups were written with another
    one, or with none (by a version that had no bound), so every window must be redone."""
    if watermarks.get(con, TOKEN_BOUND) == str(max_tokens):
        return False
    watermarks.set(con, TOKEN_BOUND, str(max_tokens), now)
    return True


def days_until(read: duckdb.DuckDBPyConnection) -> datetime | None:
    """How far rollup_1d is complete; reads after it use rollup_1h."""
    return watermarks.get_time(read, DAYS_UNTIL)
