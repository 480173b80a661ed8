"""Attribution a span states itself: tenant, route, workflow, ... (keys in docs/configuration.md).

Keys come from settings (first match wins, span attributes before resource
attributes). A key that names no attribute may address a field inside a JSON-object
attribute: `metadata.tenant` reads `tenant` from OpenInference's `metadata` JSON string.
JSON-encoded string values (Langfuse's `"acme"`) are decoded. Inheritance from
ancestors and the `unattributed` fallback happen later, in the store, because an
ancestor may arrive in a later batch.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from outcrop.collector.normalize.genai import ATTRIBUTION_FALLBACKS
from outcrop.core.records import ATTRIBUTION_FIELDS, Attribution
from outcrop.core.settings import AttributionSettings

# Longer values are not tenant names but payloads pasted into the wrong attribute.
MAX_VALUE_CHARS = 256
# A JSON attribute this long is a payload, not metadata: not parsed for attribution.
MAX_JSON_CHARS = 64 * 1024


def own_attribution(
    attributes: Mapping[str, Any], resource: Mapping[str, Any], keys: AttributionSettings
) -> Attribution:
    plan = key_plan(keys)
    return stated_attribution(attributes, resource_attribution(resource, plan), plan)


# Per field, in ATTRIBUTION_FIELDS order: (configured keys, producer fallback keys).
KeyPlan = tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
# What a resource states, per field: (value under a configured key, value under a
# fallback key). The spans of one resource share it; compute it once.
ResourceAttribution = tuple[tuple[str | None, str | None], ...]


def key_plan(keys: AttributionSettings) -> KeyPlan:
    return tuple(
        (tuple(getattr(keys, field)), tuple(ATTRIBUTION_FALLBACKS.get(field, ()))) for field in ATTRIBUTION_FIELDS
    )


def resource_attribution(resource: Mapping[str, Any], plan: KeyPlan) -> ResourceAttribution:
    return tuple((first_value(resource, configured), first_value(resource, fallback)) for configured, fallback in plan)


def stated_attribution(
    attributes: Mapping[str, Any], resource: ResourceAttribution, plan: KeyPlan
) -> Attribution:
    """Per field: configured keys on the span, then on the resource, then the producer
    fallbacks on the span, then on the resource."""
    if attributes.keys().isdisjoint(_all_keys(plan)):
        return _resource_only(resource)  # most spans state nothing themselves
    values: list[str | None] = []
    for (configured, fallback), (configured_res, fallback_res) in zip(plan, resource, strict=True):
        value = first_value(attributes, configured) or configured_res
        if value is None:
            value = first_value(attributes, fallback) if fallback else None
            if value is None:
                value = fallback_res
        values.append(value)
    return Attribution(*values)


@functools.lru_cache(maxsize=64)
def _all_keys(plan: KeyPlan) -> frozenset[str]:
    """Every attribute a key may read: the key itself and, for a dotted key, each prefix
    that could be a JSON object holding the rest."""
    keys = {key for configured, fallback in plan for key in (*configured, *fallback)}
    return frozenset(keys | {prefix for key in keys for prefix, _ in _json_splits(key)})


@functools.lru_cache(maxsize=1024)
def _resource_only(resource: ResourceAttribution) -> Attribution:
    return Attribution(*(configured if configured is not None else fallback for configured, fallback in resource))


def first_value(source: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        raw = source.get(key)
        if raw is None and "." in key:
            raw = _json_field(source, key)
        if raw is not None:
            value = attribute_text(raw)
            if value is not None:
                return value
    return None


@functools.lru_cache(maxsize=1024)
def _json_splits(key: str) -> tuple[tuple[str, str], ...]:
    """(attribute, field) pairs a dotted key may mean, longest attribute first:
    `a.b.c` -> (`a.b`, `c`), (`a`, `b.c`)."""
    parts = key.split(".")
    return tuple((".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1))


def _json_field(source: Mapping[str, Any], key: str) -> Any:
    """The value at `key` inside a JSON-object attribute, or None. A field name is tried
    whole before as a path of nested objects (`metadata.a.b`: field `a.b`, then a > b)."""
    for attribute, field in _json_splits(key):
        raw = source.get(attribute)
        if not isinstance(raw, str) or not raw.lstrip().startswith("{"):
            continue
        node: Any = json_object(raw)
        if field in node:
            return node[field]
        for part in field.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def json_object(raw: Any) -> dict[str, Any]:
    """A JSON-object attribute as a dict: a kvlist value already is one; a string is
    parsed (bounded, cached); anything else, or JSON that is not an object, is empty."""
    if isinstance(raw, dict):
        return raw
    return _parsed_object(raw) if isinstance(raw, str) else {}


@functools.lru_cache(maxsize=256)
def _parsed_object(raw: str) -> dict[str, Any]:
    """Parsed once per distinct string: the spans of one run share their metadata."""
    if len(raw) > MAX_JSON_CHARS:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def attribute_text(value: Any) -> str | None:
    """A usable attribution value, or None for missing, empty, oversized or
    structured values (a list is not a tenant). A JSON-encoded string is decoded."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = _json_string(value.strip())
    if not text or len(text) > MAX_VALUE_CHARS:
        return None
    return text


def _json_string(text: str) -> str:
    """Langfuse sends metadata values JSON-encoded: `"acme"` is the tenant acme."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        if isinstance(decoded, str):
            return decoded.strip()
    return text
