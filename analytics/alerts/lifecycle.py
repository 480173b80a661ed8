"""One evaluation step of one alert instance, as a pure function (Prometheus/Alertmanager style).

States: pending (breaching, waiting out for_minutes), firing, no_data (the window holds
fewer than min_requests attempts: not known to be fine, so not resolved) and resolved.
Notifications: `firing` once on entering firing, `renotify` while still firing at most
every renotify_minutes, `resolved` when an instance that fired resolves. A silence
suppresses all of them until its time; an ack suppresses all but `resolved`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

OPEN_STATES = ("pending", "firing", "no_data")


@dataclass(frozen=True, slots=True)
class Open:
    """What the lifecycle needs of an open instance."""

    state: str
    started_at: datetime
    fired_at: datetime | None
    notified_at: datetime | None
    acked: bool
    silenced_until: datetime | None
    evaluated_at: datetime


@dataclass(frozen=True, slots=True)
class Step:
    state: str
    fired_at: datetime | None
    resolved_at: datetime | None
    notify: str | None  # firing | renotify | resolved, or None


def step(current: Open | None, breaching: bool | None, at: datetime, for_minutes: int,
         renotify_minutes: int) -> Step | None:
    """The next state; `breaching` is None when the sample is too small to judge.

    None means nothing to record: no open instance and no breach.
    """
    if current is None:
        if not breaching:
            return None
        current = Open("pending", at, None, None, False, None, at)
    if breaching is None:
        return Step("no_data", current.fired_at, None, None)
    if not breaching:
        notify = "resolved" if current.fired_at is not None and not _silenced(current, at) else None
        return Step("resolved", current.fired_at, at, notify)
    if current.fired_at is None and at - current.started_at < timedelta(minutes=for_minutes):
        return Step("pending", None, None, None)
    fired_at = current.fired_at or at
    return Step("firing", fired_at, None, _firing_notice(current, at, renotify_minutes))


def _silenced(current: Open, at: datetime) -> bool:
    return current.silenced_until is not None and at < current.silenced_until


def _firing_notice(current: Open, at: datetime, renotify_minutes: int) -> str | None:
    if current.acked or _silenced(current, at):
        return None
    if current.notified_at is None:
        return "firing"
    if at - current.notified_at >= timedelta(minutes=renotify_minutes):
        return "renotify"
    return None
