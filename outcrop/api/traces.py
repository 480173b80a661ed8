"""Read API for the traces and latency pages: a trace's waterfall and where the time goes.

Both name the stage of each span by the `[stages]` settings, which a named query cannot
read, so these endpoints bind them (as lists, never as SQL text) into the named queries
`trace_waterfall` and `stage_latency`:

- GET /v1/traces/{trace_id}/waterfall: the trace's spans with depth, stage and, for LLM
  calls, model, tokens by kind, TTFT, cost and attempt (retry / fallback);
- POST /v1/reports/stage_latency, body {"params": {"from", "to", "where"}}: per route,
  p50 and p95 of the time each stage takes per trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from outcrop.analytics.queries import run_query
from outcrop.api.guard import body_params
from outcrop.core.errors import QueryError

if TYPE_CHECKING:
    from outcrop.api.app import ApiHandlers

# spans columns stored as JSON text, answered as JSON objects and arrays (as GET /v1/traces/{id})
JSON_COLUMNS = frozenset({"attributes", "resource_attributes", "events"})


class TracesApi:
    """The trace endpoints, on the read API's store, settings and token."""

    def __init__(self, handlers: ApiHandlers) -> None:
        self._handlers = handlers

    def waterfall(self, request: Request) -> Response:
        h = self._handlers
        h._require_reader(request)
        max_rows = h.settings.server.query_max_rows
        params = {"trace_id": request.path_params["trace_id"], "stages": h.settings.stages.model_dump()}
        table = run_query(h.reader, "trace_waterfall", params, max_rows + 1)
        return h._table_response(request, table, max_rows, JSON_COLUMNS)

    def stage_latency(self, request: Request, body: dict[str, Any]) -> Response:
        h = self._handlers
        h._require_reader(request)
        params = body_params(body)
        if "stages" in params:
            raise QueryError("stages come from the server's [stages] settings; the body takes from, to and where")
        max_rows = h.settings.server.query_max_rows
        table = run_query(h.reader, "stage_latency", {**params, "stages": h.settings.stages.model_dump()},
                          max_rows + 1)
        return h._table_response(request, table, max_rows)
