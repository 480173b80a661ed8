"""The windowed, idempotent rollup of llm_calls into rollup_1m / rollup_1h / rollup_1d.

One run is one store write (one transaction): sync prices, queue the hours that hold
calls written since the watermark (or every hour when prices changed or a rebuild was
asked for), delete and rewrite exactly those hours at minute and hour grain, rewrite
the complete days that contain them, clear the queue and move the watermarks. Running
it twice changes nothing; a call that arrives days late re-processes only its hour and
its day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import duckdb

from analytics import pricing
from analytics.windows import DAY, HOUR, floor_to
from collector.settings import PricingSettings

ROLLUP_SQL = Path(__file__).resolve().parent.parent / "sql" / "rollups"
INGESTED = "rollup.ingested_at"
DAYS_UNTIL = "rollup.days_until"
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class RollupOutcome:
    rows_written: int
    window_start: datetime | None
    window_end: datetime | None
    repriced: bool


@cache
def _sql(name: str) -> str:
    return (ROLLUP_SQL / f"{name}.sql").read_text()


def run_rollups(
    con: duckdb.DuckDBPyConnection, settings: PricingSettings, now: datetime, *, full: bool = False
) -> RollupOutcome:
    """Bring the rollups up to date; call inside a store write (no COMMIT here)."""
    repriced = pricing.sync_prices(con, settings, now)
    watermark = _get_watermark(con, INGESTED)
    newest = con.execute("SELECT max(ingested_at) FROM llm_calls").fetchone()
    if full or repriced or watermark is None:
        con.execute(_sql("mark_all_dirty"))
    else:
        con.execute(_sql("mark_dirty_since"), {"watermark": watermark})
    old_until = _get_watermark(con, DAYS_UNTIL) or _EPOCH
    new_until = floor_to(now, DAY)
    con.execute(_sql("mark_dirty_days"), {"old_until": old_until, "new_until": new_until})
    rows, window = _rewrite(con)
    con.execute("DELETE FROM rollup_dirty")
    if newest is not None and newest[0] is not None:
        _set_watermark(con, INGESTED, newest[0], now)
    _set_watermark(con, DAYS_UNTIL, max(old_until, new_until), now)
    return RollupOutcome(rows, window[0], window[1], repriced)


def _rewrite(con: duckdb.DuckDBPyConnection) -> tuple[int, tuple[datetime | None, datetime | None]]:
    rows = 0
    hours = _bounds(con, "hour", HOUR)
    if hours is not None:
        for grain in ("1m", "1h"):
            rows += _rewrite_grain(con, grain, hours)
    days = _bounds(con, "day", DAY)
    if days is not None:
        rows += _rewrite_grain(con, "1d", days)
    starts = [b[0] for b in (hours, days) if b is not None]
    ends = [b[1] for b in (hours, days) if b is not None]
    return rows, (min(starts, default=None), max(ends, default=None))


def _bounds(con: duckdb.DuckDBPyConnection, grain: str, step: timedelta) -> tuple[datetime, datetime] | None:
    found = con.execute("SELECT min(bucket), max(bucket) FROM rollup_dirty WHERE grain = ?", [grain]).fetchone()
    if found is None or found[0] is None:
        return None
    return found[0], found[1] + step


def _rewrite_grain(con: duckdb.DuckDBPyConnection, grain: str, bounds: tuple[datetime, datetime]) -> int:
    params = {"lo": bounds[0], "hi": bounds[1]}
    con.execute(_sql(f"delete_{grain}"), params)
    inserted = con.execute(_sql(f"insert_{grain}"), params).fetchone()
    return int(inserted[0]) if inserted is not None else 0


def _get_watermark(con: duckdb.DuckDBPyConnection, name: str) -> datetime | None:
    found = con.execute("SELECT value FROM watermarks WHERE name = ?", [name]).fetchone()
    return datetime.fromisoformat(found[0]) if found is not None else None


def _set_watermark(con: duckdb.DuckDBPyConnection, name: str, value: datetime, now: datetime) -> None:
    con.execute("INSERT OR REPLACE INTO watermarks VALUES (?, ?, ?)", [name, value.isoformat(), now])


def days_until(read: duckdb.DuckDBPyConnection) -> datetime | None:
    """How far rollup_1d is complete; reads after it use rollup_1h."""
    return _get_watermark(read, DAYS_UNTIL)
