"""Capacity facts: quota tokens (output burndown) and quotas (config, Service Quotas API).

Bedrock holds input + cache-write + output x the model's output burndown rate against its
per-minute token quotas (5 for Claude Sonnet 4 / Opus 4 and later, 1 otherwise), so the
rollups keep quota tokens beside raw tokens. The rates they were written with live in
`rollup_burndown`, synced from `capacity.output_burndown` by each rollup run; the rule
matching a model to its rate is here (`burndown_rate`) and, for the rollups, in
sql/rollups/insert_capacity_1m.sql (tests hold the two equal). docs/capacity.md.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from outcrop.core.aws import AwsClients, classify_error
from outcrop.core.settings import CapacityQuota, OutputBurndown, Settings
from outcrop.core.sql import load_sql
from outcrop.core.store import watermarks

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class Quota:
    """Per-minute limits of a model in a region; `source` is "config",
    "service-quotas: <quota name>[; <quota name>]" or, when the API failed,
    "service-quotas error: <message>" (limits None)."""

    tpm: int | None
    rpm: int | None
    source: str


# How long the quotas listed for a region are reused: quotas change by request, rarely.
QUOTA_CACHE_SECONDS = 3600.0
# "On-demand model inference tokens per minute for Anthropic Claude 3.5 Haiku", and the
# cross-region and global cross-region forms; the per-day and other quotas do not match.
_QUOTA_NAME = re.compile(
    r"^(on-demand|cross-region|global cross-region) model inference (tokens|requests) per minute for (.+)$",
    re.IGNORECASE,
)
# Provider names as quota names spell them, where that is not the provider id itself.
PROVIDER_NAMES: dict[str, tuple[str, ...]] = {
    "ai21": ("ai21 labs",),
    "mistral": ("mistral ai",),
    "stability": ("stability ai",),
}
_VERSION = re.compile(r"^v(\d+)$")
_DATE = re.compile(r"^\d{8}$")  # a release date in a model id (20241022)
_LETTERS_DIGITS = re.compile(r"[a-z]+|\d+")


def _words(text: str) -> tuple[str, ...]:
    """Lower-case words, letters and digits apart: "Llama 3.1 70B" -> llama 3 1 70 b."""
    return tuple(_LETTERS_DIGITS.findall(text.lower()))


def quota_words(model_name: str) -> tuple[tuple[str, ...], int]:
    """(words, version) of a model name in a quota name: "Anthropic Claude 3.5 Sonnet V2"
    -> (anthropic claude 3 5 sonnet, 2); no trailing V<n> word means version 1."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", model_name.lower()) if p]
    version = 1
    if parts and (found := _VERSION.match(parts[-1])) is not None:
        version, parts = int(found.group(1)), parts[:-1]
    return _words(" ".join(parts)), version


def model_words(model: str) -> tuple[set[tuple[str, ...]], int]:
    """(word forms, version) of a model id: anthropic.claude-3-5-sonnet-20241022-v2:0 ->
    ({anthropic claude 3 5 sonnet}, 2). The geo prefix, the `:N` suffix and release dates
    are dropped; `-vN` is the version (1 when absent). Several forms when the provider's
    name differs from its id (mistral -> "mistral" or "mistral ai")."""
    base = foundation_model(model)
    provider, sep, rest = base.partition(".")
    if not sep:
        return set(), 1
    tokens = [t for t in re.split(r"[-_.]+", rest.split(":", 1)[0]) if t]
    version = 1
    if tokens and (found := _VERSION.match(tokens[-1])) is not None:
        version, tokens = int(found.group(1)), tokens[:-1]
    family = _words(" ".join(t for t in tokens if not _DATE.match(t)))
    names = (provider, *PROVIDER_NAMES.get(provider, ()))
    return {_words(name) + family for name in names}, version


def _kind(model: str) -> str:
    """Which quota applies: in-region on demand, or a (global) cross-region profile's."""
    lowered = model.strip().lower()
    if not has_geo_prefix(lowered):
        return "on-demand"
    return "global cross-region" if lowered.startswith("global.") else "cross-region"


def match_quotas(model: str, listed: Iterable[tuple[str, float]]) -> Quota | None:
    """The TPM and RPM quotas among `listed` (QuotaName, Value) that name `model`, or None."""
    forms, version = model_words(model)
    kind = _kind(model)
    found: dict[str, tuple[str, float]] = {}
    for name, value in listed:
        parsed = _QUOTA_NAME.match(name.strip())
        if parsed is None or parsed.group(1).lower() != kind:
            continue
        words, quota_version = quota_words(parsed.group(3))
        if words in forms and quota_version == version:
            found.setdefault(parsed.group(2).lower(), (name, value))
    if not found:
        return None
    tpm, rpm = found.get("tokens"), found.get("requests")
    names = "; ".join(q[0] for q in (tpm, rpm) if q is not None)
    return Quota(int(tpm[1]) if tpm else None, int(rpm[1]) if rpm else None, f"service-quotas: {names}")


class QuotaCache:
    """The Bedrock quotas listed per region, reused for QUOTA_CACHE_SECONDS (per process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._found: dict[tuple[str, str | None], tuple[float, list[tuple[str, float]]]] = {}

    def listed(self, clients: AwsClients, region: str, endpoint: str | None) -> list[tuple[str, float]]:
        key = (region, endpoint)
        with self._lock:
            hit = self._found.get(key)
        if hit is not None and self._clock() - hit[0] < QUOTA_CACHE_SECONDS:
            return hit[1]
        quotas = list_bedrock_quotas(clients.client("service-quotas", region))
        with self._lock:
            self._found[key] = (self._clock(), quotas)
        return quotas


QUOTA_CACHE = QuotaCache()


def list_bedrock_quotas(client: Any) -> list[tuple[str, float]]:
    """(QuotaName, Value) of every `bedrock` quota the client's region lists, all pages."""
    pages = client.get_paginator("list_service_quotas").paginate(ServiceCode="bedrock")
    return [(str(q["QuotaName"]), float(q["Value"])) for page in pages for q in page.get("Quotas", [])]


def resolve_quotas(
    settings: Settings, pairs: Iterable[tuple[str, str]], *, cache: QuotaCache = QUOTA_CACHE
) -> dict[tuple[str, str], Quota]:
    """The quota of each (model, region): `capacity.quotas` first, then, with
    `capacity.service_quotas`, the Service Quotas API matched by name. A pair with no
    quota is absent (never a guess); an API failure is logged and gives a Quota with no
    limits whose source says what failed."""
    configured = {(q.model, q.region): q for q in settings.capacity.quotas}
    out: dict[tuple[str, str], Quota] = {}
    wanted = sorted(set(pairs))
    for pair in wanted:
        if pair in configured:
            out[pair] = _from_config(configured[pair])
    rest = [p for p in wanted if p not in out]
    if not settings.capacity.service_quotas or not rest:
        return out
    clients = AwsClients(settings.aws)
    endpoint = settings.aws.endpoints.get("service-quotas")
    for region in sorted({r for _, r in rest}):
        try:
            listed = cache.listed(clients, region, endpoint)
        except Exception as exc:  # noqa: BLE001 - a quota we cannot read is reported, not fatal
            error = classify_error(exc, f"service-quotas list-service-quotas (bedrock, {region})")
            log.warning("capacity quotas: %s", error)
            out.update({p: Quota(None, None, f"service-quotas error: {error}") for p in rest if p[1] == region})
            continue
        for model, r in (p for p in rest if p[1] == region):
            found = match_quotas(model, listed)
            if found is not None:
                out[(model, r)] = found
    return out


def _from_config(quota: CapacityQuota) -> Quota:
    return Quota(quota.tpm, quota.rpm, "config")
