"""The traces page's reads: the search table, one trace's waterfall and its totals.

Every number is the server's: named queries `trace_search` and `trace_cost`, and
GET /v1/traces/{id}/waterfall (spans with depth, stage and their LLM call, the stage from
the server's [stages] settings). This module only shapes the answers for drawing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from outcrop.dashboard.api_client.base import Api, ApiError
from outcrop.dashboard.filters import Filters

STATUSES: tuple[str, ...] = ("ok", "error", "throttled")
SEARCH_ROWS = 200  # the newest traces a search shows
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
# the search's own URL parameters, beside the shared filters
SEARCH_PARAMS: tuple[str, ...] = ("status", "min_duration_ms", "min_cost_usd", "request_id")


@dataclass(frozen=True)
class Search:
    """What the search form asks for beyond the shared filters; None = any."""

    status: str | None = None
    min_duration_ms: float | None = None
    min_cost_usd: float | None = None
    request_id: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> tuple[Search, list[str]]:
        """The search of URL parameters and the problems found (a bad value is dropped)."""
        problems: list[str] = []
        status = _first(query, "status")
        if status is not None and status not in STATUSES:
            problems.append(f"status={status!r} is not one of {', '.join(STATUSES)}; showing every status")
            status = None
        numbers = {name: _number(_first(query, name), name, problems) for name in ("min_duration_ms", "min_cost_usd")}
        return cls(status, numbers["min_duration_ms"], numbers["min_cost_usd"], _first(query, "request_id")), problems

    def params(self) -> dict[str, Any]:
        """The set fields as trace_search parameters."""
        return {k: v for k, v in (("status", self.status), ("min_duration_ms", self.min_duration_ms),
                                  ("min_cost_usd", self.min_cost_usd), ("request_id", self.request_id))
                if v is not None}


def _first(query: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = [v.strip() for v in query.get(key, ()) if v.strip()]
    return values[0] if values else None


def _number(text: str | None, name: str, problems: list[str]) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        problems.append(f"{name}={text!r} is not a number of 0 or more; ignored")
        return None
    return value


def valid_trace_id(text: str) -> bool:
    """A W3C trace id: 32 hex digits (any case)."""
    return bool(_TRACE_ID.match(text.strip()))


def search(api: Api, filters: Filters, wanted: Search) -> pa.Table:
    """The newest traces of the range matching the filters and the search (named query `trace_search`)."""
    return api.named("trace_search", {**filters.params(), **wanted.params(), "limit": SEARCH_ROWS})


def waterfall(api: Api, trace_id: str) -> pa.Table:
    """The trace's spans in start order with depth, stage and call (GET /v1/traces/{id}/waterfall)."""
    if not valid_trace_id(trace_id):
        raise ApiError(f"trace_id={trace_id!r} is not a trace id (32 hexadecimal digits)")
    return api.table(f"/v1/traces/{quote(trace_id.strip().lower(), safe='')}/waterfall")


def totals(api: Api, trace_id: str) -> dict[str, Any]:
    """The trace's calls, errors, throttles, cost and tokens by kind (named query `trace_cost`)."""
    rows = api.named("trace_cost", {"trace_id": trace_id.strip().lower()}).to_pylist()
    return rows[0] if rows else {}


def span_details(span: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """A waterfall row's attributes (span, then resource) and events, decoded from their JSON text."""
    attributes = {**_decoded(span.get("resource_attributes"), {}), **_decoded(span.get("attributes"), {})}
    events = _decoded(span.get("events"), [])
    return attributes, events if isinstance(events, list) else [events]


def _decoded(text: Any, empty: Any) -> Any:
    if text is None or text == "":
        return empty
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:  # stored as JSON by the server; shown as text rather than lost
        return {"(raw)": text}
