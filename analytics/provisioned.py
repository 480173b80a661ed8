"""Provisioned Throughput sizing: model units for the peak minute, their monthly cost per
term, the on-demand cost of the same traffic, and the break-even utilisation (docs/capacity.md).

AWS publishes no per-unit throughput, so the facts come from `[[capacity.model_units]]`;
without them the figures are None and `missing` names the keys to set. Pure functions:
the report hands in the peak, the token sums of the range and its cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from outcrop.analytics.capacity import burndown_rate, foundation_model
from outcrop.core.settings import CapacitySettings, ModelUnits

# Hours in a billing month, as AWS prices monthly commitments (8,760 h / 12).
HOURS_PER_MONTH = 730


@dataclass(frozen=True, slots=True)
class Traffic:
    """What the rollups say about one model and region over the report range."""

    model: str
    peak_quota_tpm: int | None
    quota_input_tokens: int | None  # input + cache write over the range (quota input side)
    output_tokens: int | None
    cost_usd: float | None
    unpriced_requests: int
    hours: float  # length of the range


@dataclass(frozen=True, slots=True)
class Sizing:
    model_units_needed: int | None
    pt_monthly_usd_1_month: float | None
    pt_monthly_usd_6_month: float | None
    on_demand_monthly_usd: float | None
    breakeven_utilisation: float | None
    missing: tuple[str, ...]


def model_units_for(model: str, capacity: CapacitySettings) -> ModelUnits | None:
    """The `[[capacity.model_units]]` entry of `model` (geo prefix and case ignored)."""
    base = foundation_model(model)
    return next((m for m in capacity.model_units if foundation_model(m.model) == base), None)


def peak_split(traffic: Traffic, rate: float) -> tuple[Fraction, Fraction] | None:
    """(input-side, output) tokens of the peak minute, estimated from the range's mean
    shape: the peak's quota tokens P = i + rate x o with i : o as the range's token sums."""
    p, i, o = traffic.peak_quota_tpm, traffic.quota_input_tokens, traffic.output_tokens
    if p is None or i is None or o is None or i + o == 0:
        return None
    weight = Fraction(i) + Fraction(rate) * o
    return Fraction(p) * i / weight, Fraction(p) * o / weight


def units_needed(peak_input: Fraction, peak_output: Fraction, units: ModelUnits, headroom: float) -> int:
    """ceil(max(input / input per unit, output / output per unit) x (1 + headroom)), exact;
    at least one: a commitment is bought in whole units, and none is not a commitment."""
    load = max(peak_input / units.input_tpm_per_unit, peak_output / units.output_tpm_per_unit)
    return max(1, math.ceil(load * (1 + Fraction(str(headroom)))))


def size(traffic: Traffic, capacity: CapacitySettings) -> Sizing:
    missing: list[str] = []
    on_demand = _on_demand_monthly(traffic, missing)
    units = model_units_for(traffic.model, capacity)
    split = peak_split(traffic, burndown_rate(traffic.model, capacity.output_burndown))
    if units is None:
        missing.append(f"capacity.model_units for {traffic.model}")
    if split is None:
        missing.append(f"token counts of {traffic.model} (no input or output tokens reported)")
    if units is None or split is None:
        return Sizing(None, None, None, on_demand, None, tuple(missing))
    needed = units_needed(split[0], split[1], units, capacity.headroom)
    month_1 = _monthly(needed, units.hourly_usd_1_month, "hourly_usd_1_month", traffic.model, missing)
    month_6 = _monthly(needed, units.hourly_usd_6_month, "hourly_usd_6_month", traffic.model, missing)
    breakeven = None
    if on_demand and month_1 is not None:
        breakeven = float(utilisation(traffic, units, needed) * Fraction(month_1) / Fraction(on_demand))
    return Sizing(needed, month_1, month_6, on_demand, breakeven, tuple(missing))


def utilisation(traffic: Traffic, units: ModelUnits, needed: int) -> Fraction:
    """The share of `needed` units' capacity the range's average minute uses: the larger of
    its input-side and output shares (both limits hold at once)."""
    minutes = Fraction(str(traffic.hours)) * 60
    per_minute_in = Fraction(traffic.quota_input_tokens or 0) / minutes
    per_minute_out = Fraction(traffic.output_tokens or 0) / minutes
    return max(per_minute_in / (needed * units.input_tpm_per_unit),
               per_minute_out / (needed * units.output_tpm_per_unit))


def _monthly(units: int, hourly: float | None, key: str, model: str, missing: list[str]) -> float | None:
    if hourly is None:
        missing.append(f"capacity.model_units[].{key} for {model}")
        return None
    return units * hourly * HOURS_PER_MONTH


def _on_demand_monthly(traffic: Traffic, missing: list[str]) -> float | None:
    """The range's on-demand cost scaled to HOURS_PER_MONTH; None when any call is unpriced
    (an understated cost would understate the break-even)."""
    if traffic.unpriced_requests:
        missing.append(f"a price for {traffic.model} ({traffic.unpriced_requests} unpriced calls)")
        return None
    if traffic.cost_usd is None or traffic.hours <= 0:
        return None
    return traffic.cost_usd * HOURS_PER_MONTH / traffic.hours
