"""Capacity facts: quota tokens (output burndown), quotas, Provisioned Throughput sizing.

Bedrock holds input + cache-write + output x the model's output burndown rate against its
per-minute token quotas (5 for Claude Sonnet 4 / Opus 4 and later, 1 otherwise), so the
rollups keep quota tokens beside raw tokens. The rates they were written with live in
`rollup_burndown`, synced from `capacity.output_burndown` by each rollup run; the rule
matching a model to its rate is here (`burndown_rate`) and, for the rollups, in
sql/rollups/insert_capacity_1m.sql (tests hold the two equal). docs/capacity.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

import duckdb

from outcrop.core.settings import OutputBurndown
from outcrop.core.sql import load_sql
from outcrop.core.store import watermarks

# The burndown table the rollups were written with, as canonical JSON; a run whose
# settings differ (or the first run after migration 0007) rewrites every window.
BURNDOWN = "rollup.output_burndown"
# A leading segment before the provider (`us.`, `eu.`, `apac.`, `global.`, `us-gov.`, ...):
# an inference-profile prefix. Only stripped when a provider segment follows it, so
# `anthropic.claude-...` keeps its provider.
_GEO_SEGMENT = re.compile(r"^[a-z][a-z-]*\.(?=[a-z0-9-]+\.)")


def foundation_model(model: str) -> str:
    """The model id in lower case with any inference-profile geo prefix removed."""
    return _GEO_SEGMENT.sub("", model.strip().lower())


def has_geo_prefix(model: str) -> bool:
    """True for an inference-profile id such as `us.anthropic.claude-...`."""
    return _GEO_SEGMENT.match(model.strip().lower()) is not None


def burndown_rate(model: str, burndown: Sequence[OutputBurndown]) -> float:
    """Quota tokens one output token of `model` costs: the rate of the longest
    `model_prefix` that starts the foundation model id, else 1."""
    base = foundation_model(model)
    matches = [b for b in burndown if base.startswith(b.model_prefix.lower())]
    if not matches:
        return 1.0
    return max(matches, key=lambda b: len(b.model_prefix)).rate


def sync_burndown(con: duckdb.DuckDBPyConnection, burndown: Sequence[OutputBurndown], now: datetime) -> bool:
    """Write `burndown` to rollup_burndown; True when the rollups were written with other
    rates, or before quota tokens existed, so every window must be redone. Call inside
    the rollup run's store write."""
    rows = sorted({(b.model_prefix, float(b.rate)) for b in burndown})
    text = json.dumps(rows)
    if watermarks.get(con, BURNDOWN) == text:
        return False
    con.execute(load_sql("capacity/clear_burndown.sql"))
    if rows:
        con.execute(load_sql("capacity/insert_burndown.sql"),
                    {"prefixes": [p for p, _ in rows], "rates": [r for _, r in rows]})
    watermarks.set(con, BURNDOWN, text, now)
    return True
