"""Read API: health, named read-only queries, traces, ad-hoc SQL for `outcrop sql`,
and the admin calls the CLI uses while a server owns the database.

Named queries are token-protected when `server.api_token` is set. Ad-hoc SQL and admin
calls answer only on loopback, or to a request carrying `server.admin_token`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.errors import OutcropError, QueryError, Unauthorized
from collector.readonly import ARROW_STREAM, check_read_only, limited, to_arrow_ipc, to_json_rows
from collector.settings import Settings
from collector.store import Store

log = logging.getLogger(__name__)


class ApiHandlers:
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.ready = False

    # -- helpers ----------------------------------------------------------------

    def _token_ok(self, request: Request, token: str | None) -> bool:
        if token is None:
            return True
        header = request.headers.get("authorization", "")
        presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return hmac.compare_digest(presented.encode(), token.encode())

    def _require_reader(self, request: Request) -> None:
        if not self._token_ok(request, self.settings.server.api_token):
            raise Unauthorized("missing or invalid API token")

    def _require_admin(self, request: Request) -> None:
        admin = self.settings.server.admin_token
        if admin is not None and self._token_ok(request, admin):
            return
        host = request.client.host if request.client else ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise Unauthorized("admin calls answer only on loopback or with the admin token")

    def _row_limit(self, body: dict[str, Any]) -> int:
        """The request's `limit`, capped at server.query_max_rows."""
        cap = self.settings.server.query_max_rows
        limit = body.get("limit", cap)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QueryError(f"limit must be a positive whole number, got {limit!r}")
        return min(limit, cap)

    def _table_response(self, request: Request, table: pa.Table, truncated: bool) -> Response:
        headers = {"x-outcrop-truncated": "true" if truncated else "false"}
        if ARROW_STREAM in request.headers.get("accept", ""):
            return Response(to_arrow_ipc(table), media_type=ARROW_STREAM, headers=headers)
        return Response(to_json_rows(table), media_type="application/json", headers=headers)

    # -- endpoints --------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        if not self.ready:
            return _json({"status": "starting"}, 503)
        return _json({"status": "ok", "db": self.store.path, "queue_depth": self.store.queue_depth()})

    def sql(self, request: Request, body: dict[str, Any]) -> Response:
        self._require_admin(request)
        statement = body.get("sql")
        if not isinstance(statement, str):
            raise QueryError("body must be {\"sql\": \"SELECT …\"}")
        max_rows = self._row_limit(body)
        check_read_only(statement)
        try:
            table = self.store.query(
                limited(statement, max_rows), timeout=self.settings.server.query_timeout_seconds
            )
        except duckdb.Error as exc:  # the statement's own fault: unknown table, bad types, timeout
            raise QueryError(str(exc)) from None
        truncated = table.num_rows > max_rows
        return self._table_response(request, table.slice(0, max_rows), truncated)

    def named_query(self, request: Request, body: dict[str, Any]) -> Response:
        self._require_reader(request)
        from analytics.queries import run_query

        name = request.path_params["name"]
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise QueryError("params must be an object")
        max_rows = self._row_limit(body)
        table = run_query(self.store, name, params, max_rows)
        return self._table_response(request, table, table.num_rows >= max_rows)

    def list_queries(self, request: Request) -> Response:
        self._require_reader(request)
        from analytics.queries import available

        return _json(list(available()))

    def trace(self, request: Request) -> Response:
        self._require_reader(request)
        trace_id = request.path_params["trace_id"].lower()
        table = self.store.query(
            "SELECT * FROM spans WHERE trace_id = ? ORDER BY start_time, span_id", [trace_id]
        )
        return self._table_response(request, table, False)

    def ingest(self, request: Request, body: dict[str, Any]) -> Response:
        self._require_admin(request)
        from collector.sources import ingest_once

        source = body.get("source")
        if not isinstance(source, str) or not source:
            raise QueryError("body must be {\"source\": \"s3://… | cloudwatch-logs://… | PATH\"}")
        return _json(ingest_once(self.store, self.settings, source, self.clock()))

    def jobs(self, request: Request, body: dict[str, Any]) -> Response:
        self._require_admin(request)
        from analytics.jobs import run_jobs

        names = body.get("names")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise QueryError("names must be a list of job names, or null for all")
        return _json(run_jobs(self.store, self.settings, names, self.clock()))


def _json(value: Any, status: int = 200) -> Response:
    body = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status, media_type="application/json")


def _guard(fn: Callable[..., Response], with_body: bool) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        try:
            if with_body:
                raw = await request.body()
                try:
                    body = orjson.loads(raw) if raw else {}
                except orjson.JSONDecodeError as exc:
                    raise QueryError(f"request body is not JSON: {exc}") from None
                if not isinstance(body, dict):
                    raise QueryError("request body must be a JSON object")
                return await run_in_threadpool(fn, request, body)
            return await run_in_threadpool(fn, request)
        except OutcropError as exc:
            return _json({"error": type(exc).__name__, "message": str(exc)}, exc.http_status)
        except Exception as exc:  # noqa: BLE001 - a failed read must answer, not hang
            log.exception("API call failed")
            return _json({"error": type(exc).__name__, "message": str(exc)}, 500)

    return endpoint


def create_api(handlers: ApiHandlers) -> Starlette:
    h = handlers
    return Starlette(
        routes=[
            Route("/healthz", _guard(h.healthz, False)),
            Route("/v1/queries", _guard(h.list_queries, False)),
            Route("/v1/queries/{name}", _guard(h.named_query, True), methods=["POST"]),
            Route("/v1/traces/{trace_id}", _guard(h.trace, False)),
            Route("/v1/sql", _guard(h.sql, True), methods=["POST"]),
            Route("/v1/admin/ingest", _guard(h.ingest, True), methods=["POST"]),
            Route("/v1/admin/jobs", _guard(h.jobs, True), methods=["POST"]),
        ]
    )
