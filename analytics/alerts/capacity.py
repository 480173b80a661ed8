"""Capacity rules: will a model's daily peak reach a share of its quota within the horizon?

For each model and region with calls in the HISTORY_DAYS complete days before `at`'s day
(named query `daily_peaks`), the rule's peak (`metric`: quota_tpm, tpm or rpm) is forecast
for the `horizon_days` days after `at`'s day (`analytics.forecast`), and the upper bound
of its prediction interval is held against the quota (`[[capacity.quotas]]`, else the
Service Quotas API): quota TPM and TPM against the quota's tpm, RPM against its rpm. The
value is the largest upper bound over the horizon as a share of the quota; the rule
breaches when it is above `threshold`. Upper bound, not point forecast: a quota is a wall,
and a day near the bound is one a team would rather have planned for.

No quota, a quota without the limit the metric needs, or too little history to forecast
leave the group unjudged (no_data) with a message saying which. Only days before `at`'s
day are read, so an evaluation as of a past time gives that time's answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from outcrop.analytics.alerts.evaluate import Sample, group_key
from outcrop.analytics.capacity import Quota, resolve_quotas
from outcrop.analytics.forecast import HISTORY_DAYS, DayForecast, GroupForecast, forecast_groups
from outcrop.analytics.queries import MAX_ROWS, run_query
from outcrop.core.settings import AlertRule, Settings

# metric -> (daily_peaks column, the quota's limit it is held against, how it reads)
METRICS: dict[str, tuple[str, str, str]] = {
    "quota_tpm": ("peak_quota_tpm", "tpm", "peak quota TPM"),
    "tpm": ("peak_tpm", "tpm", "peak TPM"),
    "rpm": ("peak_rpm", "rpm", "peak RPM"),
}


def capacity_samples(con: duckdb.DuckDBPyConnection, rule: AlertRule, at: datetime,
                     settings: Settings) -> dict[str, Sample]:
    """One sample per model and region with calls in the history, as of `at`."""
    column = METRICS[str(rule.metric)][0]

    def run(name: str, params: dict[str, Any]) -> pa.Table:
        return run_query(con, name, params, MAX_ROWS)

    groups = forecast_groups(run, ("model", "region"), {}, at, rule.horizon_days, HISTORY_DAYS, (column,))
    pairs = [(str(g.group["model"]), str(g.group["region"])) for g in groups]
    quotas = resolve_quotas(settings, pairs)
    return {group_key(g.group): _sample(rule, g, quotas.get(pair)) for g, pair in zip(groups, pairs, strict=True)}


def _sample(rule: AlertRule, forecast: GroupForecast, quota: Quota | None) -> Sample:
    column, limit_name, label = METRICS[str(rule.metric)]
    group = forecast.group
    where = f"{group['model']}/{group['region']}"
    limit = getattr(quota, limit_name) if quota is not None else None
    if forecast.reason is not None or limit is None:
        text = _unjudged(rule, where, label, limit_name, forecast, quota)
        return Sample(group, 0, None, None, lambda state: text)
    result = forecast.forecasts[column]
    days = result.days
    shares = [d.hi / limit for d in days]
    value = max(shares)
    crossing = next((d for d in days if d.hi / limit > rule.threshold), None)
    peak_day = days[shares.index(value)]
    assert quota is not None
    unit = limit_name.upper()
    quota_text = f"its {limit:,} {unit} quota"

    def describe(state: str) -> str:
        if crossing is not None:
            return (f"{rule.name}: at this growth the {result.level}% upper bound of {where}'s {label} reaches "
                    f"{rule.threshold:.0%} of {quota_text} on {crossing.day.isoformat()} ({_at(crossing)}); "
                    f"up to {value:.0%} within {rule.horizon_days} days (quota from {quota.source})")
        return (f"{rule.name}: the {result.level}% upper bound of {where}'s {label} stays below "
                f"{rule.threshold:.0%} of {quota_text} for the next {rule.horizon_days} days: at most "
                f"{value:.0%} on {peak_day.day.isoformat()} ({_at(peak_day)}; quota from {quota.source})")

    return Sample(group, 0, value, value > rule.threshold, describe)


def _at(day: DayForecast) -> str:
    return f"forecast {day.value:,.0f}, upper bound {day.hi:,.0f}"


def _unjudged(rule: AlertRule, where: str, label: str, limit_name: str, forecast: GroupForecast,
              quota: Quota | None) -> str:
    if forecast.reason is not None:
        return f"{rule.name}: no forecast of {where}'s {label}: {forecast.reason}"
    if quota is None:
        return (f"{rule.name}: no quota known for {where}: set one in [[capacity.quotas]] "
                f"or turn on capacity.service_quotas")
    return f"{rule.name}: {where}'s quota has no {limit_name.upper()} limit (quota from {quota.source})"
