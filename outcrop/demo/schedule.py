"""When requests arrive: diurnal and weekly traffic per tenant, hourly batch runs, bursts.

Everything is drawn from the `random.Random` passed in, so one seed gives one schedule.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime

from outcrop.demo import catalog
from outcrop.demo.catalog import TenantSpec
from outcrop.demo.plan import Burst, Request

MINUTE_NS = 60 * 1_000_000_000
HOUR_NS = 60 * MINUTE_NS
DAY_NS = 24 * HOUR_NS
BUCKET_NS = 10 * MINUTE_NS
LIVE_FACTOR = 6.0  # the live window is this much denser than the average hour
BURST_NS = 6 * MINUTE_NS
# A throttle burst is a traffic spike from one big tenant on one route: (workflow, route).
SPIKE_TENANT = "acme"
SPIKE_USAGE: dict[str, tuple[str, str]] = {
    "sonnet4": ("report-writer", "complex"),
    "haiku": ("support-chat", "fast"),
}
SPIKE_TRACES_PER_TRACED_TRACE = 0.6  # extra traces per burst, relative to the hourly rate


def schedule(
    rng: random.Random,
    start_ns: int,
    live_start_ns: int,
    now_ns: int,
    per_hour: float,
    spikes: Sequence[Burst] = (),
) -> list[Request]:
    """All requests in [start_ns, now_ns), in start order, with the traffic behind `spikes`."""
    requests: list[Request] = []
    for burst in spikes:
        requests += _spike(rng, burst, now_ns, per_hour)
    for spec in catalog.TENANTS:
        if spec.traced:
            requests += _arrivals(rng, spec, start_ns, live_start_ns, per_hour)
            requests += _arrivals(rng, spec, live_start_ns, now_ns, per_hour * LIVE_FACTOR)
        else:
            requests += _batch_runs(rng, spec, start_ns, now_ns, per_hour)
    requests.sort(key=lambda r: r.start_ns)
    return requests


def bursts(rng: random.Random, start_ns: int, live_start_ns: int, now_ns: int) -> list[Burst]:
    """One throttle burst per afternoon of history, and one inside the live window."""
    found: list[Burst] = []
    day = start_ns - start_ns % DAY_NS
    while day < now_ns:
        begin = day + 15 * HOUR_NS + int(rng.uniform(0, 3) * HOUR_NS)
        model = rng.choice(("sonnet4", "haiku"))
        if start_ns <= begin and begin + BURST_NS <= live_start_ns:
            found.append(Burst(model, begin, begin + BURST_NS, 0.55))
        day += DAY_NS
    live_ns = now_ns - live_start_ns
    if live_ns >= 3 * MINUTE_NS:
        begin, end = now_ns - int(0.7 * live_ns), now_ns - int(0.35 * live_ns)
        found.append(Burst("sonnet4", begin, end, 0.6))
    return found


def _spike(rng: random.Random, burst: Burst, now_ns: int, per_hour: float) -> list[Request]:
    spec = catalog.tenant(SPIKE_TENANT)
    workflow, route = SPIKE_USAGE[burst.model]
    count = round(per_hour * SPIKE_TRACES_PER_TRACED_TRACE * rng.uniform(0.8, 1.2))
    lo, hi = burst.start_ns - MINUTE_NS, min(burst.end_ns, now_ns)
    return [Request(spec, workflow, route, rng.randrange(lo, hi)) for _ in range(count)]


def _arrivals(
    rng: random.Random, spec: TenantSpec, lo: int, hi: int, per_hour: float
) -> list[Request]:
    found: list[Request] = []
    mean = _mean_shape(spec)
    t = lo
    while t < hi:
        end = min(t + BUCKET_NS, hi)
        hours = (end - t) / HOUR_NS
        expected = per_hour * spec.share * _shape(spec, (t + end) // 2) / mean * hours
        count = int(expected) + (1 if rng.random() < expected % 1 else 0)
        for _ in range(count):
            usage = rng.choices(spec.usages, weights=[u.weight for u in spec.usages])[0]
            found.append(Request(spec, usage.workflow, usage.route, rng.randrange(t, end)))
        t = end
    return found


def _batch_runs(
    rng: random.Random, spec: TenantSpec, lo: int, hi: int, per_hour: float
) -> list[Request]:
    """A batch job starting a few minutes past every hour, one document every few seconds."""
    found: list[Request] = []
    usage = spec.usages[0]
    run = lo - lo % HOUR_NS + catalog.BATCH_MINUTE * MINUTE_NS
    while run < hi:
        night = 1.6 if datetime.fromtimestamp(run / 1e9, UTC).hour < 6 else 1.0
        docs = max(1, round(per_hour * catalog.BATCH_DOCS_PER_TRACED_TRACE * night
                            * rng.uniform(0.7, 1.3)))
        t = run
        for _ in range(docs):
            if lo <= t < hi:
                found.append(Request(spec, usage.workflow, usage.route, t))
            t += int(rng.uniform(3, 12) * 1e9)
        run += HOUR_NS
    return found


def _shape(spec: TenantSpec, t_ns: int) -> float:
    when = datetime.fromtimestamp(t_ns / 1e9, UTC)
    return _curve(spec, when.hour + when.minute / 60, when.weekday())


def _curve(spec: TenantSpec, hour: float, weekday: int) -> float:
    distance = abs(hour - spec.peak_hour_utc) % 24
    distance = min(distance, 24 - distance)
    level = 0.15 + math.exp(-0.5 * (distance / 3.5) ** 2)
    return level * (spec.weekend_factor if weekday >= 5 else 1.0)


def _mean_shape(spec: TenantSpec) -> float:
    samples = [_curve(spec, q / 4, day) for day in range(7) for q in range(96)]
    return sum(samples) / len(samples)
