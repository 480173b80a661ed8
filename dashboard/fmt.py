"""Numbers formatted for people: `$1,234.56`, `850 ms`, `1.2k tokens/s`, `3.4%`.

Every function takes None (a value the data does not have) and gives "—".
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

NONE = "—"
_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def money(x: float | None) -> str:
    """US dollars to the cent; below a cent, two significant digits ("$0.0042")."""
    if x is None or _missing(x):
        return NONE
    sign = "-" if x < 0 else ""
    value = abs(x)
    if value == 0 or value >= 0.01:
        return f"{sign}${value:,.2f}"
    digits = 1 - math.floor(math.log10(value))
    return f"{sign}${value:.{digits}f}"


def ms(x: float | None) -> str:
    """Milliseconds: "850 ms" below a second, "1.2 s" below a minute, then "2.5 min"."""
    if x is None or _missing(x):
        return NONE
    if abs(x) < 1000:
        return f"{x:,.0f} ms"
    if abs(x) < 60_000:
        return f"{x / 1000:.1f} s"
    return f"{x / 60_000:,.1f} min"


def compact(x: float | None) -> str:
    """A number shortened from a thousand up: 850, 1.2k, 3.4M."""
    if x is None or _missing(x):
        return NONE
    for size, suffix in _SUFFIXES:
        if abs(x) >= size:
            return f"{x / size:.1f}{suffix}"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def rate(x: float | None, unit: str = "tokens/s") -> str:
    """A rate with its unit: "1.2k tokens/s", "85.3 tokens/s"."""
    if x is None or _missing(x):
        return NONE
    return f"{compact(x)} {unit}"


def percent(x: float | None) -> str:
    """A share (0.034) as "3.4%"; a share too small to show as one decimal is "<0.1%"."""
    if x is None or _missing(x):
        return NONE
    if 0 < abs(x) < 0.0005:
        return "<0.1%" if x > 0 else ">-0.1%"
    return f"{x * 100:.1f}%"


def count(x: float | None) -> str:
    """A count: whole below 10,000 ("1,234"), shortened from there ("12.3k", "1.2M")."""
    if x is None or _missing(x):
        return NONE
    if abs(x) >= 10_000:
        return compact(x)
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def change(now: float | None, before: float | None) -> str:
    """The relative change from `before` to `now`: "+12.3%", "-4.0%"; "new" from nothing."""
    if now is None or _missing(now) or _missing(before):
        return NONE
    assert before is not None
    if before == 0:
        return "new" if now != 0 else "0.0%"
    return f"{(now - before) / abs(before) * 100:+.1f}%"


def points(now: float | None, before: float | None) -> str:
    """The change between two shares in percentage points: "+1.4 pp".

    For rates (error rate, throttle rate) a relative change misleads: 0.1% to 0.2% is
    "+100%" but one request in a thousand.
    """
    if now is None or _missing(now) or before is None or _missing(before):
        return NONE
    return f"{(now - before) * 100:+.1f} pp"


def when(x: datetime | None) -> str:
    """A UTC time to the minute: "2026-11-18 10:00"."""
    return NONE if x is None else f"{x:%Y-%m-%d %H:%M}"


def duration(x: timedelta | None) -> str:
    """A length of time in its largest whole units: "24 h", "7 d", "90 min", "1 d 12 h"."""
    if x is None:
        return NONE
    minutes = int(x.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if minutes <= 120:
        return f"{minutes} min"
    if not mins and minutes <= 48 * 60:
        return f"{minutes // 60} h"
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p)
