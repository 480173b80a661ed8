"""The Provisioned Throughput calculator of the read API: POST /v1/reports/provisioned.

The capacity report sizes PT from the range's traffic and the configured model-unit facts;
the calculator answers the same question with any of those inputs replaced, so a planner
can ask "and at twice the peak?" or "at a negotiated price?". The figures come from
`outcrop.analytics.provisioned` (docs/capacity.md), never from formulas of this module:
it only gathers the inputs — each one as given in the body, else the default from the
capacity report's traffic of `model` and `region` over [from, to) and from
`[[capacity.model_units]]` — and hands them to `size`.

Body {"params": {...}}, every key optional but `model`:

- `model`, `region`; `from`, `to` (ISO 8601 UTC): the range the defaults are read from
  (`region` is then required), and whose length is `hours`;
- `hours`: the length of the traffic's range when no `from`/`to` is given;
- `peak_quota_tpm`: the busiest minute's quota tokens;
- `input_tokens`, `output_tokens`: the quota input side (input + cache write) and the
  output tokens over `hours` — their ratio splits the peak, their rate per minute is the
  average use of the units;
- `input_tpm_per_unit`, `output_tpm_per_unit`, `hourly_usd_1_month`, `hourly_usd_6_month`:
  one model unit's facts; `headroom`: the share added to the peak;
- `on_demand_monthly_usd`: what the same traffic costs a month on demand.

The answer holds the `inputs` in force (the defaults filled in, so a page can show them as
editable fields) beside the figures, and `missing` names what is needed for a NULL figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import Response

from outcrop.analytics.capacity import burndown_rate
from outcrop.analytics.provisioned import (
    HOURS_PER_MONTH,
    Traffic,
    model_units_for,
    peak_split,
    size,
    utilisation,
)
from outcrop.api.guard import body_params
from outcrop.core.errors import QueryError
from outcrop.core.settings import CapacitySettings, ModelUnits, Settings
from outcrop.core.store.readonly import to_json

if TYPE_CHECKING:
    from outcrop.api.app import ApiHandlers

RunQuery = Callable[[str, dict[str, Any]], pa.Table]
# the body keys, each with the check of its value
WHOLE = ("peak_quota_tpm", "input_tokens", "output_tokens")
PER_UNIT = ("input_tpm_per_unit", "output_tpm_per_unit")
PRICES = ("hourly_usd_1_month", "hourly_usd_6_month")
KNOWN = frozenset({"model", "region", "from", "to", "hours", "headroom", "on_demand_monthly_usd",
                   *WHOLE, *PER_UNIT, *PRICES})


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the sizing reads, as the page shows it."""

    peak_quota_tpm: int | None
    input_tokens: int | None
    output_tokens: int | None
    hours: float
    input_tpm_per_unit: int | None
    output_tpm_per_unit: int | None
    hourly_usd_1_month: float | None
    hourly_usd_6_month: float | None
    headroom: float
    on_demand_monthly_usd: float | None
    burndown_rate: float


def provisioned_report(handlers: ApiHandlers, request: Request, body: dict[str, Any]) -> Response:
    """POST /v1/reports/provisioned (reader token): the calculator's answer as JSON."""
    handlers._require_reader(request)
    from outcrop.analytics.queries import run_query

    params = body_params(body)
    answer = provisioned(lambda name, p: run_query(handlers.reader, name, p), handlers.settings, params)
    return Response(to_json(answer), media_type="application/json")


def provisioned(run: RunQuery, settings: Settings, params: Mapping[str, Any]) -> dict[str, Any]:
    """Model units, monthly cost per term and break-even for the inputs of `params`."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise QueryError(f"unknown parameter {', '.join(map(repr, unknown))}; known: {', '.join(sorted(KNOWN))}")
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise QueryError("model is required: the model id as in llm_calls.model")
    inputs, cost, unpriced = _defaults(run, settings, model, params)
    inputs = replace(inputs, **_overrides(params))
    missing: list[str] = []
    if inputs.on_demand_monthly_usd is not None:  # as given, or as the range's priced cost
        cost, unpriced = inputs.on_demand_monthly_usd * inputs.hours / HOURS_PER_MONTH, 0
    traffic = Traffic(model=model, peak_quota_tpm=inputs.peak_quota_tpm, quota_input_tokens=inputs.input_tokens,
                      output_tokens=inputs.output_tokens, cost_usd=cost, unpriced_requests=unpriced,
                      hours=inputs.hours)
    units = _units(model, inputs, missing)
    capacity = CapacitySettings(model_units=(units,) if units else (), headroom=inputs.headroom,
                                output_burndown=settings.capacity.output_burndown)
    sized = size(traffic, capacity)
    split = peak_split(traffic, inputs.burndown_rate)
    used = utilisation(traffic, units, sized.model_units_needed) if units and sized.model_units_needed else None
    return {
        "model": model, "region": params.get("region"),
        "inputs": asdict(replace(inputs, on_demand_monthly_usd=sized.on_demand_monthly_usd)),
        "peak_input_tpm": float(split[0]) if split else None,
        "peak_output_tpm": float(split[1]) if split else None,
        "model_units_needed": sized.model_units_needed,
        "pt_monthly_usd_1_month": sized.pt_monthly_usd_1_month,
        "pt_monthly_usd_6_month": sized.pt_monthly_usd_6_month,
        "on_demand_monthly_usd": sized.on_demand_monthly_usd,
        "utilisation": float(used) if used is not None else None,
        "breakeven_utilisation": sized.breakeven_utilisation,
        "missing": [*missing, *(m for m in sized.missing if not m.startswith("capacity.model_units for"))],
    }


def _defaults(run: RunQuery, settings: Settings, model: str,
              params: Mapping[str, Any]) -> tuple[Inputs, float | None, int]:
    """The inputs from the configuration and, with a range, from its traffic: (inputs, the
    range's cost, its unpriced calls)."""
    from outcrop.analytics.queries import parse_time

    units = model_units_for(model, settings.capacity)
    base = Inputs(
        peak_quota_tpm=None, input_tokens=None, output_tokens=None, hours=0.0,
        input_tpm_per_unit=units.input_tpm_per_unit if units else None,
        output_tpm_per_unit=units.output_tpm_per_unit if units else None,
        hourly_usd_1_month=units.hourly_usd_1_month if units else None,
        hourly_usd_6_month=units.hourly_usd_6_month if units else None,
        headroom=settings.capacity.headroom, on_demand_monthly_usd=None,
        burndown_rate=burndown_rate(model, settings.capacity.output_burndown),
    )
    if params.get("from") is None and params.get("to") is None:
        hours: Any = params.get("hours")
        if not _is_number(hours) or hours <= 0:
            raise QueryError(f"hours must be a number above 0 (the length of the traffic's range) when no "
                             f"from/to is given, got {hours!r}")
        return replace(base, hours=float(hours)), None, 0
    if "hours" in params:
        raise QueryError("give either from/to or hours, not both: a range's hours are its length")
    region = params.get("region")
    if not isinstance(region, str) or not region:
        raise QueryError("region is required with from/to: the defaults are the traffic of one model and region")
    start, end = parse_time(params.get("from"), "from"), parse_time(params.get("to"), "to")
    return _range_defaults(run, base, model, region, start, end)


def _range_defaults(run: RunQuery, base: Inputs, model: str, region: str, start: datetime,
                    end: datetime) -> tuple[Inputs, float | None, int]:
    """The capacity report's traffic of one model and region (analytics/report.py reads the
    same two queries: the peak from `capacity`, token sums and cost from `cost`)."""
    query = {"from": start, "to": end, "by": ["model", "region"], "where": {"model": model, "region": region}}
    peak: dict[str, Any] = next(iter(run("capacity", query).to_pylist()), {})
    cost: dict[str, Any] = next(iter(run("cost", query).to_pylist()), {})
    input_tokens, cache_write = cost.get("input_tokens"), cost.get("cache_write_tokens")
    quota_input = None if input_tokens is None and cache_write is None else (input_tokens or 0) + (cache_write or 0)
    inputs = replace(base, peak_quota_tpm=peak.get("peak_quota_tpm"), input_tokens=quota_input,
                     output_tokens=cost.get("output_tokens"), hours=(end - start).total_seconds() / 3600)
    return inputs, cost.get("cost_usd"), int(cost.get("unpriced_requests") or 0)


def _overrides(params: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs the body gives, each checked; a wrong one is refused by name."""
    out: dict[str, Any] = {}
    for name in WHOLE:  # a peak of 0 has nothing to size
        if params.get(name) is not None:
            out[name] = _whole(params, name, 1 if name == "peak_quota_tpm" else 0)
    for name in PER_UNIT:
        if params.get(name) is not None:
            out[name] = _whole(params, name, 1)
    for name in PRICES:
        if params.get(name) is not None:
            out[name] = _positive(params, name)
    if params.get("headroom") is not None:
        value: Any = params["headroom"]
        if not _is_number(value) or not 0 <= value <= 10:
            raise QueryError(f"headroom must be a share from 0 to 10 (0.2 = 20% above the peak), got {value!r}")
        out["headroom"] = float(value)
    if params.get("on_demand_monthly_usd") is not None:
        value = params["on_demand_monthly_usd"]
        if not _is_number(value) or value < 0:
            raise QueryError(f"on_demand_monthly_usd must be a number of dollars, 0 or more, got {value!r}")
        out["on_demand_monthly_usd"] = float(value)
    return out


def _units(model: str, inputs: Inputs, missing: list[str]) -> ModelUnits | None:
    """One model unit as the inputs state it, or None (named in `missing`) without its throughput."""
    per_input, per_output = inputs.input_tpm_per_unit, inputs.output_tpm_per_unit
    if per_input is None or per_output is None:
        absent = [name for name in PER_UNIT if getattr(inputs, name) is None]
        missing.append(f"{' and '.join(absent)} (or capacity.model_units for {model})")
        return None
    return ModelUnits(model=model, input_tpm_per_unit=per_input, output_tpm_per_unit=per_output,
                      hourly_usd_1_month=inputs.hourly_usd_1_month, hourly_usd_6_month=inputs.hourly_usd_6_month)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(params: Mapping[str, Any], name: str, least: int) -> int:
    value = params[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise QueryError(f"{name} must be a whole number, {least} or more, got {value!r}")
    return value


def _positive(params: Mapping[str, Any], name: str) -> float:
    value = params[name]
    if not _is_number(value) or value <= 0:
        raise QueryError(f"{name} must be a number of dollars above 0, got {value!r}")
    return float(value)
