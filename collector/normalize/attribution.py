"""Attribution a span states itself: tenant, route, workflow, ... (DESIGN section 4).

Keys come from settings (first match wins, span attributes before resource
attributes). Inheritance from ancestors and the `unattributed` fallback happen later,
in the store, because an ancestor may arrive in a later batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from collector.normalize.genai import ATTRIBUTION_FALLBACKS
from collector.records import ATTRIBUTION_FIELDS, Attribution
from collector.settings import AttributionSettings

# Longer values are not tenant names but payloads pasted into the wrong attribute.
MAX_VALUE_CHARS = 256


def own_attribution(
    attributes: Mapping[str, Any], resource: Mapping[str, Any], keys: AttributionSettings
) -> Attribution:
    values: dict[str, str | None] = {}
    for field in ATTRIBUTION_FIELDS:
        configured: Sequence[str] = getattr(keys, field)
        values[field] = (
            first_value(attributes, configured)
            or first_value(resource, configured)
            or first_value(attributes, ATTRIBUTION_FALLBACKS.get(field, ()))
            or first_value(resource, ATTRIBUTION_FALLBACKS.get(field, ()))
        )
    return Attribution(**values)


def first_value(source: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = attribute_text(source.get(key))
        if value is not None:
            return value
    return None


def attribute_text(value: Any) -> str | None:
    """A usable attribution value, or None for missing, empty, oversized or
    structured values (a list is not a tenant)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_VALUE_CHARS:
        return None
    return text
