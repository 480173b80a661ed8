"""Read API: health, named read-only queries, traces, ad-hoc SQL for `outcrop sql`,
and the admin calls the CLI uses while a server owns the database.

Named queries are token-protected when `server.api_token` is set. Ad-hoc SQL and admin
calls answer only to local callers, or to a request carrying `server.admin_token`. Which
requests are answered at all (Host, Origin, JSON bodies) is `outcrop.api.guard`'s; every
read on a user's behalf is bounded in rows, time and memory.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import duckdb
import pyarrow as pa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from outcrop.api.capacity import provisioned_report
from outcrop.api.cost import CostApi
from outcrop.api.guard import RequestPolicy, body_params, by_and_where
from outcrop.api.traces import TracesApi
from outcrop.core.errors import OutcropError, QueryError, RequestTimeout, Unauthorized, classify
from outcrop.core.live_settings import LiveSettings
from outcrop.core.settings import Settings
from outcrop.core.sql import load_sql
from outcrop.core.store.readonly import (
    ARROW_STREAM,
    check_read_only,
    cut,
    limited,
    to_arrow_ipc,
    to_json,
    to_json_rows,
)
from outcrop.core.store.writer import Store

log = logging.getLogger(__name__)

TRACE_SPANS = load_sql("read/trace_spans.sql")
# spans columns stored as JSON text, answered as JSON objects and arrays
SPAN_JSON_COLUMNS = frozenset({"attributes", "resource_attributes", "events"})


class BoundedReader:
    """The store as named queries see it: every read within the API's time and memory bounds."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._timeout = settings.server.query_timeout_seconds
        self._memory = settings.server.query_memory_limit

    def query(self, sql: str, params: Any = None) -> pa.Table:
        return self._store.query(sql, params, timeout=self._timeout, memory_budget=self._memory)


class ApiHandlers:
    def __init__(self, store: Store, settings: Settings | LiveSettings, clock: Callable[[], datetime]) -> None:
        self.store = store
        # [alerts] and [capacity] may be edited while the server runs (outcrop.api.settings), so
        # every request reads the settings in force through `self.settings`, never a copy
        self.live = settings if isinstance(settings, LiveSettings) else LiveSettings(settings)
        self.clock = clock
        self.ready = False
        self.policy = RequestPolicy.from_settings(self.settings.server)
        self.reader = BoundedReader(store, self.settings)

    @property
    def settings(self) -> Settings:
        return self.live.current

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
        if not self.policy.is_local(request):
            raise Unauthorized("ad-hoc SQL and admin calls answer only to local callers (loopback, not "
                               "through a proxy) or with the admin token")

    def _row_limit(self, body: dict[str, Any]) -> int:
        """The request's `limit`, capped at server.query_max_rows."""
        cap = self.settings.server.query_max_rows
        limit = body.get("limit", cap)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QueryError(f"limit must be a positive whole number, got {limit!r}")
        return min(limit, cap)

    def _table_response(self, request: Request, table: pa.Table, max_rows: int,
                        json_columns: frozenset[str] = frozenset()) -> Response:
        """The first `max_rows` rows of a read that fetched up to `max_rows + 1`: the one
        truncation rule of every read, its flag in `x-outcrop-truncated`."""
        table, truncated = cut(table, max_rows)
        headers = {"x-outcrop-truncated": "true" if truncated else "false"}
        if ARROW_STREAM in request.headers.get("accept", ""):
            return Response(to_arrow_ipc(table), media_type=ARROW_STREAM, headers=headers)
        return Response(to_json_rows(table, json_columns), media_type="application/json", headers=headers)

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
        cur = self.store.cursor()
        try:
            check_read_only(statement, cur)
        finally:
            cur.close()
        try:
            table = self.reader.query(limited(statement, max_rows))
        except duckdb.Error as exc:  # the statement's own fault: unknown table, bad types
            raise QueryError(str(exc)) from None
        return self._table_response(request, table, max_rows)

    def named_query(self, request: Request, body: dict[str, Any]) -> Response:
        self._require_reader(request)
        from outcrop.analytics.queries import run_query

        name = request.path_params["name"]
        params = body_params(body)
        max_rows = self._row_limit(body)
        table = run_query(self.reader, name, params, max_rows + 1)
        return self._table_response(request, table, max_rows)

    def list_queries(self, request: Request) -> Response:
        self._require_reader(request)
        from outcrop.analytics.queries import available

        return _json(list(available()))

    def trace(self, request: Request) -> Response:
        self._require_reader(request)
        trace_id = request.path_params["trace_id"].lower()
        max_rows = self.settings.server.query_max_rows
        table = self.reader.query(TRACE_SPANS, {"trace_id": trace_id, "limit": max_rows + 1})
        return self._table_response(request, table, max_rows, SPAN_JSON_COLUMNS)

    def ingest(self, request: Request, body: dict[str, Any]) -> Response:
        """Ingest one allowed source, bounded; cancelled when the caller goes away."""
        self._require_admin(request)
        from outcrop.collector.admin_ingest import run_admin_ingest

        source = body.get("source")
        if not isinstance(source, str) or not source:
            raise QueryError("body must be {\"source\": \"s3://… | cloudwatch-logs://… | PATH\"}")
        report = run_admin_ingest(self.store, self.settings, source, self.clock(),
                                  lambda: self._caller_gone(request))
        return _json(report)

    @staticmethod
    def _caller_gone(request: Request) -> bool:
        """From a worker thread: has the client closed the connection? A server that is
        stopping, and so cannot answer, counts as gone too."""
        import anyio.from_thread

        try:
            return bool(anyio.from_thread.run(request.is_disconnected))
        except Exception:  # noqa: BLE001 - no event loop to ask: nobody waits for the answer
            return True

    def jobs(self, request: Request, body: dict[str, Any]) -> Response:
        self._require_admin(request)
        from outcrop.analytics.jobs import run_jobs

        names = body.get("names")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise QueryError("names must be a list of job names, or null for all")
        return _json(run_jobs(self.store, self.settings, names, self.clock()))

    def alerts(self, request: Request, body: dict[str, Any]) -> Response:
        """`outcrop alerts …` while the server owns the file: evaluate, list, ack, silence."""
        self._require_admin(request)
        from outcrop.analytics import alerts
        from outcrop.analytics.queries import parse_time

        action = request.path_params["action"]
        if action not in ("evaluate", "list", "ack", "silence"):
            raise QueryError(f"unknown alerts action {action!r}; known: evaluate, list, ack, silence")
        now = self.clock()
        if action == "evaluate":
            at = parse_time(body["at"], "at") if body.get("at") is not None else now
            return _json(alerts.evaluate_alerts(self.store, self.settings, at))
        if action == "list":
            return _json(alerts.list_alerts(self.reader, str(body.get("state", "firing"))))
        alert_id = body.get("alert_id")
        if not isinstance(alert_id, int) or isinstance(alert_id, bool):
            raise QueryError(f"alert_id must be a whole number, got {alert_id!r}")
        if action == "ack":
            return _json(alerts.ack_alert(self.store, alert_id, now))
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise QueryError("comment must be text")
        until = parse_time(body.get("until"), "until")
        return _json(alerts.silence_alert(self.store, alert_id, until, comment, now))


    # -- alert reads (reader token): what the dashboard's alerts and settings pages show --

    def alert_list(self, request: Request) -> Response:
        self._require_reader(request)
        from outcrop.analytics.alerts.read import alert_rows

        return _json(alert_rows(self.reader.query, request.query_params.get("state", "all")))

    def alert_detail(self, request: Request) -> Response:
        self._require_reader(request)
        from outcrop.analytics.alerts.read import alert_history

        return _json(alert_history(self.reader.query, int(request.path_params["alert_id"])))

    def alert_config(self, request: Request) -> Response:
        self._require_reader(request)
        from outcrop.analytics.alerts.read import alert_config

        return _json(alert_config(self.settings))

    def budgets(self, request: Request) -> Response:
        """Each budget's current period as of `?at=` (default now), as `outcrop report budgets`."""
        self._require_reader(request)
        from outcrop.analytics.alerts.budgets import budget_rows
        from outcrop.analytics.queries import parse_time, run_query

        at_text = request.query_params.get("at")
        at = parse_time(at_text, "at") if at_text else self.clock()
        table = budget_rows(lambda name, params: run_query(self.reader, name, params),
                            self.settings.alerts.budgets, at)
        return self._table_response(request, table, self.settings.server.query_max_rows)

    def capacity_report(self, request: Request, body: dict[str, Any]) -> Response:
        """`outcrop report capacity` with its quota and Provisioned Throughput columns, which
        need the settings (and the Service Quotas API), so no named query can give them.
        Body {"params": {"from", "to", "by", "where"}}, as a named query's."""
        self._require_reader(request)
        from outcrop.analytics.queries import parse_time, run_query
        from outcrop.analytics.report import build_report

        params = body_params(body)
        by, where = by_and_where(params, [])
        table = build_report(lambda name, p: run_query(self.reader, name, p), "capacity",
                             parse_time(params.get("from"), "from"), parse_time(params.get("to"), "to"),
                             by, where, settings=self.settings)
        return self._table_response(request, table, self.settings.server.query_max_rows)

    def forecast_report(self, request: Request, body: dict[str, Any]) -> Response:
        """`outcrop report forecast`, computed from daily_peaks with the settings' quotas.
        Body {"params": {"by", "where", "at", "horizon_days", "history_days"}}, each optional;
        a group with too little history has no rows."""
        self._require_reader(request)
        from outcrop.analytics.forecast import DEFAULT_HORIZON_DAYS, HISTORY_DAYS, forecast_table
        from outcrop.analytics.queries import parse_time, run_query

        params = body_params(body)
        by, where = by_and_where(params, ["model", "region"])
        days = (params.get("horizon_days", DEFAULT_HORIZON_DAYS), params.get("history_days", HISTORY_DAYS))
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in days):
            raise QueryError("horizon_days and history_days must be whole numbers of days")
        at = parse_time(params["at"], "at") if params.get("at") else self.clock()
        table, _ = forecast_table(lambda name, p: run_query(self.reader, name, p), self.settings, by, where,
                                  at, *days)
        return self._table_response(request, table, self.settings.server.query_max_rows)


def _json(value: Any, status: int = 200) -> Response:
    return Response(to_json(value), status_code=status, media_type="application/json")


def _error(exc: OutcropError) -> Response:
    answer = classify(exc)
    response = _json({"error": type(exc).__name__, "message": str(exc)}, answer.http_status)
    if answer.retry_after_seconds is not None:
        response.headers["retry-after"] = str(answer.retry_after_seconds)
    if isinstance(exc, RequestTimeout):  # the rest of a slow body is not worth waiting for
        response.headers["connection"] = "close"
    return response


def _guard(fn: Callable[..., Response], with_body: bool, policy: RequestPolicy) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        try:
            policy.check_caller(request)
            if with_body:
                body = await policy.read_json(request)
                return await run_in_threadpool(fn, request, body)
            return await run_in_threadpool(fn, request)
        except OutcropError as exc:
            return _error(exc)
        except Exception as exc:  # noqa: BLE001 - a failed read must answer, not hang
            log.exception("API call failed")
            return _json({"error": type(exc).__name__, "message": str(exc)}, 500)

    return endpoint


def create_api(handlers: ApiHandlers) -> Starlette:
    from outcrop.api.settings import SettingsApi

    h, p, s = handlers, handlers.policy, SettingsApi(handlers)
    return Starlette(
        routes=[
            Route("/healthz", _guard(h.healthz, False, p)),
            Route("/v1/queries", _guard(h.list_queries, False, p)),
            Route("/v1/queries/{name}", _guard(h.named_query, True, p), methods=["POST"]),
            Route("/v1/traces/{trace_id}", _guard(h.trace, False, p)),
            Route("/v1/traces/{trace_id}/waterfall", _guard(TracesApi(h).waterfall, False, p)),
            Route("/v1/sql", _guard(h.sql, True, p), methods=["POST"]),
            Route("/v1/alerts", _guard(h.alert_list, False, p)),
            Route("/v1/alerts/config", _guard(h.alert_config, False, p)),
            Route("/v1/alerts/{alert_id:int}", _guard(h.alert_detail, False, p)),
            Route("/v1/budgets", _guard(h.budgets, False, p)),
            Route("/v1/budgets/burndown", _guard(CostApi(h).burndown, False, p)),
            Route("/v1/reports/capacity", _guard(h.capacity_report, True, p), methods=["POST"]),
            Route("/v1/reports/forecast", _guard(h.forecast_report, True, p), methods=["POST"]),
            Route("/v1/reports/stage_latency", _guard(TracesApi(h).stage_latency, True, p), methods=["POST"]),
            Route("/v1/reports/provisioned", _guard(partial(provisioned_report, h), True, p), methods=["POST"]),
            Route("/v1/admin/ingest", _guard(h.ingest, True, p), methods=["POST"]),
            Route("/v1/admin/jobs", _guard(h.jobs, True, p), methods=["POST"]),
            Route("/v1/admin/alerts/{action}", _guard(h.alerts, True, p), methods=["POST"]),
            Route("/v1/settings", _guard(s.get, False, p)),
            Route("/v1/admin/settings/{section}", _guard(s.put, True, p), methods=["PUT"]),
            Route("/v1/admin/settings/{section}", _guard(s.delete, False, p), methods=["DELETE"]),
        ]
    )
