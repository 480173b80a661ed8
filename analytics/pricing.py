"""Prices: seeded from genai-prices, overridden from config, synced into the store.

Cost itself is computed in SQL: per call on demand (`call_costs` in
sql/macros/070_call_costs.sql), and for the rollups when they are read, from their token
sums and the rates of each price class (`rollup_rates`, sql/rollups/insert_rates.sql). So a
changed price re-prices history: `sync_prices` notices the change (a fingerprint of
everything that feeds prices) and the rollup job rebuilds the rates, without rewriting a
window. Only a changed Provisioned Throughput commitment rewrites every window: the rollups
fix the share of a committed hour each call pays (docs/cost.md, "Cost at read time").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from outcrop.core.settings import PricingSettings
from outcrop.core.sql import load_sql
from outcrop.core.store import watermarks

FINGERPRINT = "pricing.fingerprint"
# Of the Provisioned Throughput commitments alone, whose cost the rollups fix when they run.
PROVISIONED_FINGERPRINT = "pricing.provisioned_fingerprint"
EPOCH = datetime(1970, 1, 1)
PROVIDER = "aws.bedrock"
# genai-prices names its Bedrock provider "aws"; it prefixes regional (in-region and geo
# profiles) and global-profile prices, which Bedrock bills differently for newer models.
SEED_PROVIDER = "aws"
_SEED_SCOPES = {"regional.": ("in_region", "geo"), "global.": ("global",)}


@dataclass(frozen=True, slots=True)
class PriceSync:
    """What a price sync changed: `changed` anything that affects cost (the rates are
    rebuilt), `provisioned` the commitments (every rollup window is rewritten)."""

    changed: bool
    provisioned: bool


@dataclass(frozen=True, slots=True)
class PriceRow:
    """One row of the `prices` table (rates in USD per million tokens)."""

    provider: str
    model: str
    region_scope: str
    valid_from: datetime
    valid_to: datetime | None
    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float | None
    cache_write_per_mtok: float | None
    cache_write_1h_per_mtok: float | None
    batch_discount: float
    currency: str
    source: str


def seed_rows(batch_discount: float = 0.5) -> list[PriceRow]:
    """Bedrock prices from the installed genai-prices package, one row per scope and period.

    Conditional prices with a start date become consecutive validity periods; tiered
    (long-context) prices contribute their base tier only; time-of-day and service-tier
    variants are not Bedrock on-demand prices and are skipped.
    """
    from genai_prices.data import providers

    rows: list[PriceRow] = []
    for provider in providers:
        if provider.id != SEED_PROVIDER:
            continue
        for model in provider.models:
            model_id, scopes = _split_seed_id(model.id)
            for valid_from, valid_to, price in _periods(model.prices):
                rows.extend(_seed_row(model_id, scope, valid_from, valid_to, price, batch_discount) for scope in scopes)
    return rows


def _split_seed_id(model_id: str) -> tuple[str, tuple[str, ...]]:
    for prefix, scopes in _SEED_SCOPES.items():
        if model_id.startswith(prefix):
            return model_id[len(prefix) :], scopes
    return model_id, ("any",)


def _periods(prices: Any) -> list[tuple[datetime, datetime | None, Any]]:
    if not isinstance(prices, list):
        return [(EPOCH, None, prices)]
    starts: list[tuple[datetime, Any]] = []
    for cond in prices:
        constraint = cond.constraint
        if constraint is None:
            starts.append((EPOCH, cond.prices))
        elif isinstance(getattr(constraint, "start_date", None), date):
            day = constraint.start_date
            starts.append((datetime(day.year, day.month, day.day), cond.prices))
    starts.sort(key=lambda item: item[0])
    ends: list[datetime | None] = [s for s, _ in starts[1:]]
    ends.append(None)
    return [(s, e, p) for (s, p), e in zip(starts, ends, strict=True)]


def _rate(price: Any, name: str) -> float | None:
    value = getattr(price, name, None)
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value.base)  # TieredPrices: the base tier


def _seed_row(
    model: str,
    scope: str,
    valid_from: datetime,
    valid_to: datetime | None,
    price: Any,
    discount: float,
) -> PriceRow:
    return PriceRow(
        provider=PROVIDER,
        model=model,
        region_scope=scope,
        valid_from=valid_from,
        valid_to=valid_to,
        input_per_mtok=_rate(price, "input_mtok") or 0.0,
        output_per_mtok=_rate(price, "output_mtok") or 0.0,
        cache_read_per_mtok=_rate(price, "cache_read_mtok"),
        cache_write_per_mtok=_rate(price, "cache_write_mtok"),
        cache_write_1h_per_mtok=_rate(price, "cache_write_1h_mtok"),
        batch_discount=discount,
        currency="USD",
        source="genai-prices",
    )


def override_rows(settings: PricingSettings) -> list[PriceRow]:
    """`[pricing.overrides]` entries; the price book prefers them over any seed row."""
    return [
        PriceRow(
            provider=PROVIDER,
            model=o.model,
            region_scope=o.region_scope,
            valid_from=_parse_day(o.valid_from),
            valid_to=_parse_day(o.valid_to) if o.valid_to else None,
            input_per_mtok=o.input_per_mtok,
            output_per_mtok=o.output_per_mtok,
            cache_read_per_mtok=o.cache_read_per_mtok,
            cache_write_per_mtok=o.cache_write_per_mtok,
            cache_write_1h_per_mtok=o.cache_write_1h_per_mtok,
            batch_discount=o.batch_discount,
            currency=o.currency,
            source="override",
        )
        for o in settings.overrides
    ]


def _parse_day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def desired_rows(settings: PricingSettings) -> list[PriceRow]:
    seed = seed_rows() if settings.use_genai_prices else []
    return seed + override_rows(settings)


def _provisioned_rows(settings: PricingSettings) -> list[tuple[Any, ...]]:
    return [
        (
            p.model,
            p.region,
            p.model_units,
            p.hourly_rate_per_unit,
            _parse_day(p.valid_from),
            _parse_day(p.valid_to) if p.valid_to else None,
        )
        for p in settings.provisioned
    ]


def fingerprint(rows: Sequence[PriceRow], settings: PricingSettings) -> str:
    material = {
        "prices": [[str(v) for v in astuple(r)] for r in rows],
        "provisioned": [[str(v) for v in r] for r in _provisioned_rows(settings)],
        "geo": settings.geo_multiplier,
        "global": settings.global_multiplier,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def provisioned_fingerprint(settings: PricingSettings) -> str:
    material = [[str(v) for v in r] for r in _provisioned_rows(settings)]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def sync_prices(con: duckdb.DuckDBPyConnection, settings: PricingSettings, now: datetime) -> PriceSync:
    """Bring prices, provisioned_throughput and price_book in line with config.

    Runs inside a store write. On a change it also rebuilds rollup_rates, the rates the
    rollups are priced with when read, so that no read prices with the old ones. Says
    whether anything that affects cost changed and whether the Provisioned Throughput
    commitments did (so that the caller rewrites every window). A store that never
    recorded the commitments' fingerprint (rolled up before migration 0009) counts as
    changed, so its first run writes the rows with price classes.
    """
    pt_digest = provisioned_fingerprint(settings)
    provisioned = watermarks.get(con, PROVISIONED_FINGERPRINT) != pt_digest
    if provisioned:
        watermarks.set(con, PROVISIONED_FINGERPRINT, pt_digest, now)
    rows = desired_rows(settings)
    digest = fingerprint(rows, settings)
    if watermarks.get(con, FINGERPRINT) == digest:
        return PriceSync(changed=False, provisioned=provisioned)
    _replace(con, "prices", [astuple(r) for r in rows], 13)
    _replace(con, "provisioned_throughput", _provisioned_rows(settings), 6)
    con.execute(load_sql("pricing/clear_price_book.sql"))
    con.execute(
        load_sql("rollups/price_book.sql"),
        {
            "geo_multiplier": settings.geo_multiplier,
            "global_multiplier": settings.global_multiplier,
        },
    )
    # the rates reads price the rollups with follow price_book in the same transaction,
    # whoever syncs (the rollup run adds a class's rates itself when it first sees one)
    con.execute(load_sql("rollups/clear_rates.sql"))
    con.execute(load_sql("rollups/insert_rates.sql"))
    watermarks.set(con, FINGERPRINT, digest, now)
    return PriceSync(changed=True, provisioned=provisioned)


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[tuple[Any, ...]], width: int) -> None:
    # table names are the two literals above, never input
    con.execute(f"DELETE FROM {table}")
    marks = ", ".join("?" * width)
    batch = list(rows)
    if batch:
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
