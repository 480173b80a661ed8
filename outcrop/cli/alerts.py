"""`outcrop alerts evaluate|list|ack|silence`: alert rules and instances, through the
server when one owns the file (its admin calls), or on the file itself."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
import pyarrow as pa

from outcrop.cli.access import add_db_argument, cli_settings, with_store
from outcrop.cli.formatting import FORMATS, format_table

LIST_STATES = ("firing", "resolved", "open", "all")
# `outcrop alerts list` columns, in order; `group` is an object in JSON
LIST_COLUMNS = ("alert_id", "rule", "kind", "group", "state", "severity", "value", "threshold", "message",
                "started_at", "resolved_at", "acked", "silenced_until")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = sub.add_parser("alerts", help="alert rules and their instances")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    p = alerts_sub.add_parser("evaluate", help="evaluate every rule now, or as if it were --at")
    p.add_argument("--at", help="ISO 8601 UTC time to evaluate as of (default: now)")
    _common(p, _evaluate)
    p = alerts_sub.add_parser("list", help="alert instances, newest first")
    p.add_argument("--state", choices=LIST_STATES, default="firing")
    _common(p, _list)
    p = alerts_sub.add_parser("ack", help="acknowledge an open alert: no more re-notifications")
    p.add_argument("alert_id", type=int)
    _common(p, _ack)
    p = alerts_sub.add_parser("silence", help="no notifications for an alert until a time")
    p.add_argument("alert_id", type=int)
    p.add_argument("--until", required=True, help="ISO 8601 UTC time the silence ends")
    p.add_argument("--comment", default=None, help="why, kept in the alert's history")
    _common(p, _silence)


def _common(p: argparse.ArgumentParser, fn: Any) -> None:
    add_db_argument(p)
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=fn)


def _run(args: argparse.Namespace, action: str, body: dict[str, Any], local: Any) -> Any:
    from outcrop.core.client import call

    settings = cli_settings(args)
    return with_store(args.db, settings,
                      lambda url: call(url, f"/v1/admin/alerts/{action}", body, token=settings.server.admin_token),
                      lambda store: local(store, settings))


def _evaluate(args: argparse.Namespace) -> int:
    from outcrop.analytics.alerts import evaluate_alerts
    from outcrop.analytics.queries import parse_time
    from outcrop.core.clock import utcnow

    at = parse_time(args.at, "--at") if args.at else None
    outcome = _run(args, "evaluate", {"at": args.at},
                   lambda store, settings: evaluate_alerts(store, settings, at or utcnow()))
    _write(outcome["changes"], args.format, ("alert_id", "rule", "group", "previous", "state", "value",
                                             "requests", "notify"))
    return 0 if not outcome["failed_attempts"] else 1


def _list(args: argparse.Namespace) -> int:
    from outcrop.analytics.alerts import list_alerts

    rows = _run(args, "list", {"state": args.state}, lambda store, _settings: list_alerts(store, args.state))
    _write(rows, args.format, LIST_COLUMNS)
    return 0


def _ack(args: argparse.Namespace) -> int:
    from outcrop.analytics.alerts import ack_alert
    from outcrop.core.clock import utcnow

    row = _run(args, "ack", {"alert_id": args.alert_id},
               lambda store, _settings: ack_alert(store, args.alert_id, utcnow()))
    _write([row], args.format, ("alert_id", "acked"))
    return 0


def _silence(args: argparse.Namespace) -> int:
    from outcrop.analytics.alerts import silence_alert
    from outcrop.analytics.queries import parse_time
    from outcrop.core.clock import utcnow

    until = parse_time(args.until, "--until")
    body = {"alert_id": args.alert_id, "until": args.until, "comment": args.comment}
    row = _run(args, "silence", body,
               lambda store, _settings: silence_alert(store, args.alert_id, until, args.comment, utcnow()))
    _write([row], args.format, ("alert_id", "silenced_until", "comment"))
    return 0


def _write(rows: list[dict[str, Any]], fmt: str, columns: tuple[str, ...]) -> None:
    picked = [{c: row.get(c) for c in columns} for row in rows]
    if fmt == "json":  # `group` stays an object; times are UTC, ISO 8601 with Z
        options = orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
        sys.stdout.write(orjson.dumps(picked, default=str, option=options).decode() + "\n")
        return
    flat = [{c: _flat(v) for c, v in row.items()} for row in picked]
    table = pa.Table.from_pylist(flat) if flat else pa.table({c: pa.array([], pa.string()) for c in columns})
    sys.stdout.write(format_table(table, fmt))


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value
