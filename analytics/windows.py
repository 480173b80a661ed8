"""Time arithmetic for rollup windows and for reading a range from three grains.

A read over [start, end) takes whole days from rollup_1d (only days before
`days_until`, the complete days the rollup job has written), whole hours from rollup_1h,
and the ragged minutes at either end from rollup_1m. The pieces tile the range without
overlap, so counts and histograms merged from them equal those of the raw calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def floor_to(ts: datetime, step: timedelta) -> datetime:
    """Floor a naive UTC timestamp to a multiple of `step` (minute, hour or day)."""
    epoch = datetime(1970, 1, 1)
    return epoch + ((ts - epoch) // step) * step


def ceil_to(ts: datetime, step: timedelta) -> datetime:
    floored = floor_to(ts, step)
    return floored if floored == ts else floored + step


@dataclass(frozen=True, slots=True)
class TiledRange:
    """A read range cut into pieces (minutes at each end, hours inside them, whole days in
    the middle): the ten bounds the `rollup_span` SQL macro takes; empty pieces are [x, x)."""

    m1: tuple[datetime, datetime]
    m2: tuple[datetime, datetime]
    h1: tuple[datetime, datetime]
    h2: tuple[datetime, datetime]
    d: tuple[datetime, datetime]

    def params(self) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for name in ("m1", "m2", "h1", "h2", "d"):
            lo, hi = getattr(self, name)
            out[f"{name}_lo"], out[f"{name}_hi"] = lo, hi
        return out


def split_range(start: datetime, end: datetime, days_until: datetime | None) -> TiledRange:
    """Tile [start, end) (widened to whole minutes) with day, hour and minute pieces."""
    lo, hi = floor_to(start, MINUTE), ceil_to(end, MINUTE)
    hi = max(hi, lo)
    h_lo, h_hi = ceil_to(lo, HOUR), floor_to(hi, HOUR)
    if h_lo >= h_hi:  # no whole hour inside: minutes only
        return TiledRange((lo, hi), (hi, hi), (hi, hi), (hi, hi), (hi, hi))
    d_lo, d_hi = ceil_to(h_lo, DAY), floor_to(h_hi, DAY)
    if days_until is not None:
        d_hi = min(d_hi, floor_to(days_until, DAY))
    if d_lo >= d_hi:  # no complete, rolled-up day inside: hours and minutes
        return TiledRange((lo, h_lo), (h_hi, hi), (h_lo, h_hi), (hi, hi), (hi, hi))
    return TiledRange((lo, h_lo), (h_hi, hi), (h_lo, d_lo), (d_hi, h_hi), (d_lo, d_hi))


def minutes_in(start: datetime, end: datetime) -> int:
    """Whole minutes a read covers (the denominator of average RPM and TPM)."""
    lo, hi = floor_to(start, MINUTE), ceil_to(end, MINUTE)
    return max(1, int((hi - lo) / MINUTE))
