"""`outcrop demo`: a server on the embedded database, a realistic workload sent through
the real OTel SDK and OTLP exporter, Bedrock invocation logs ingested, jobs run, and a
summary by tenant, the alerts that fired and a capacity forecast. The server keeps
running afterwards (Ctrl-C stops it) unless --exit.

Unless the user's configuration has alert rules or budgets of its own, the demo runs with
the rules, budgets and capacity facts of `outcrop/demo/outcrop.toml`, and listens on that
file's webhook channel itself, printing each notification it receives.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
import tomllib
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa

from outcrop.cli.formatting import format_table
from outcrop.cli.progress import PhaseBars, spinner
from outcrop.core.client import call
from outcrop.core.clock import utcnow
from outcrop.core.settings import AlertsSettings, CapacitySettings, InferenceProfile, Settings
from outcrop.demo.catalog import DEMO_PROFILES
from outcrop.demo.webhook import DemoWebhook
from outcrop.demo.workload import run_workload
from outcrop.server import OutcropServer, serve_forever

# (report, grouping, columns shown)
SUMMARY: tuple[tuple[str, str, list[str]], ...] = (
    ("usage", "tenant", ["tenant", "requests", "throttle_rate", "input_tokens", "cache_read_tokens",
                         "cache_write_tokens", "output_tokens"]),
    ("cost", "tenant", ["tenant", "requests", "cost_usd", "cost_per_1k_requests_usd", "unpriced_requests"]),
    ("latency", "tenant", ["tenant", "requests", "ttft_ms_p50", "ttft_ms_p95", "ttlt_ms_p50", "ttlt_ms_p95",
                           "ttlt_ms_p99", "otps_p50"]),
    ("capacity", "model", ["model", "requests", "throttle_rate", "peak_rpm", "peak_tpm",
                           "input_tokens_per_request_p95", "output_tokens_per_request_p95"]),
)


DEMO_CONFIG = Path(__file__).with_name("outcrop.toml")


def demo_rules(settings: Settings) -> Settings:
    """The demo's alerts and capacity sections, unless the user configured alerts."""
    if settings.alerts.rules or settings.alerts.budgets:
        return settings
    data = tomllib.loads(DEMO_CONFIG.read_text())
    return settings.model_copy(update={"alerts": AlertsSettings.model_validate(data["alerts"]),
                                       "capacity": CapacitySettings.model_validate(data["capacity"])})


def demo_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """The user's settings plus the demo's ports, its application inference profiles, and
    its log folder among the paths admin ingest may read (the demo ingests it that way)."""
    profiles = {arn: InferenceProfile(model=model, tenant=tenant, workflow=workflow)
                for arn, (model, tenant, workflow) in DEMO_PROFILES.items()}
    profiles.update(settings.profiles.map)
    server = settings.server.model_copy(update={
        "http_port": args.http_port, "grpc_port": args.grpc_port, "api_port": args.api_port})
    allowed = (*settings.ingest.allowed_paths, str(_log_dir(args.db)))
    return settings.model_copy(update={
        "server": server,
        "profiles": settings.profiles.model_copy(update={"map": profiles, "resolve_with_api": False}),
        "ingest": settings.ingest.model_copy(update={"allowed_paths": allowed}),
    })


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.fresh:
        for suffix in ("", ".wal"):
            Path(args.db + suffix).unlink(missing_ok=True)
        shutil.rmtree(_log_dir(args.db), ignore_errors=True)
    settings, webhook = _with_webhook(demo_rules(settings))
    server = OutcropServer(demo_settings(settings, args), args.db, demo_clock(args.now))
    outcome: dict[str, int] = {"code": 0}

    def on_ready(srv: OutcropServer) -> None:
        threading.Thread(target=_drive, args=(srv, args, outcome, webhook), name="demo", daemon=True).start()

    try:
        serve_forever(server, on_ready)
    finally:
        if webhook is not None:
            webhook.close()
    return outcome["code"]


def demo_clock(pinned: datetime | None) -> Callable[[], datetime]:
    """The server's clock: real time, or running on from `--now` (so jobs, alerts and
    reports all see the demo's data as it would be seen at that time)."""
    if pinned is None:
        return utcnow
    offset = pinned.astimezone(UTC).replace(tzinfo=None) - utcnow()
    return lambda: utcnow() + offset


def _with_webhook(settings: Settings) -> tuple[Settings, DemoWebhook | None]:
    """Listen on the `demo` channel's loopback URL, where the demo's own rules send."""
    channel = settings.alerts.channels.get("demo")
    if channel is None or channel.url is None:
        return settings, None
    parts = urlsplit(channel.url)
    if parts.hostname != "127.0.0.1":
        return settings, None
    webhook = DemoWebhook(parts.port or 0, parts.path or "/hook")
    channels = {**settings.alerts.channels, "demo": channel.model_copy(update={"url": webhook.url})}
    return settings.model_copy(update={"alerts": settings.alerts.model_copy(update={"channels": channels})}), webhook


def _log_dir(db: str) -> Path:
    return Path(db).resolve().parent / (Path(db).stem + "-bedrock-logs")


def _drive(server: OutcropServer, args: argparse.Namespace, outcome: dict[str, int],
           webhook: DemoWebhook | None) -> None:
    try:
        _run_steps(server, args, webhook)
    except Exception:  # noqa: BLE001 - the demo reports any failure and stops the server
        traceback.print_exc()
        print("outcrop demo: failed; stopping the server", file=sys.stderr)
        outcome["code"] = 1
        server.request_stop()
        return
    if args.exit:
        server.request_stop()


def _run_steps(server: OutcropServer, args: argparse.Namespace, webhook: DemoWebhook | None) -> None:
    api = f"http://127.0.0.1:{server.ports.api}"
    now = server.clock().replace(tzinfo=UTC)
    _say(f"Outcrop is serving {args.db}: OTLP/HTTP :{server.ports.http}, OTLP/gRPC :{server.ports.grpc}, "
         f"read API :{server.ports.api}")
    existing = call(api, "/v1/sql", {"sql": "SELECT count(*) AS n FROM llm_calls"})[0]["n"]
    if existing:
        _say(f"{args.db} already holds {existing} LLM calls: not sending the workload again "
             "(use --fresh to start over).")
    else:
        _send_workload(server, args, now, api)
    started = time.monotonic()
    with spinner("running jobs", sys.stderr.isatty()):
        jobs = call(api, "/v1/admin/jobs", {"names": None})
    _say(f"Ran {len(jobs)} job{'s' if len(jobs) != 1 else ''} in {time.monotonic() - started:.1f}s: "
         + ", ".join(f"{j['job']} {j['status']}" for j in jobs))
    _print_summary(api, now, args.history_days)
    _print_capacity(api, now, args.history_days)
    _print_alerts(api, webhook)
    _say("Try:  outcrop report cost --by tenant,workflow --from "
         f"{(now - timedelta(days=args.history_days)).date()}   |   "
         "outcrop sql \"SELECT source, count(*) FROM llm_calls GROUP BY ALL\"")
    if not args.exit and not args.no_dashboard:
        from outcrop.cli.dashboard import start_beside

        _say(start_beside(api, server.settings, args.dashboard_port))
    if not args.exit:
        _say("The server keeps running; point any OTLP exporter at it. Ctrl-C stops it.")


def _send_workload(server: OutcropServer, args: argparse.Namespace, now: datetime, api: str) -> None:
    log_dir = _log_dir(args.db)
    started = time.monotonic()
    bars = PhaseBars()  # on stderr, when it is a terminal; the summary on stdout is the same
    try:
        summary = run_workload(f"http://127.0.0.1:{server.ports.http}/v1/traces", now=now,
                               history_days=args.history_days, traces_per_hour=args.traces_per_hour,
                               log_dir=log_dir, on_progress=bars)
    finally:
        bars.close()
    _say(f"Sent {summary.spans} spans in {summary.traces} traces ({summary.llm_calls} LLM calls) "
         f"through the OTel SDK in {time.monotonic() - started:.1f}s; "
         f"wrote {summary.log_records} Bedrock invocation-log records under {log_dir}")
    started = time.monotonic()
    with spinner("ingesting the invocation logs", sys.stderr.isatty()):
        report = call(api, "/v1/admin/ingest", {"source": str(log_dir)})
    _say(f"Ingested the invocation logs in {time.monotonic() - started:.1f}s: {report}")


def _print_summary(api: str, now: datetime, history_days: float) -> None:
    start = (now - timedelta(days=history_days + 1)).replace(tzinfo=None)
    end = (now + timedelta(minutes=5)).replace(tzinfo=None)
    for kind, by, columns in SUMMARY:
        table: pa.Table = call(api, f"/v1/queries/{kind}", {"params": {
            "from": start.isoformat(), "to": end.isoformat(), "by": [by], "where": {}}}, arrow=True)
        keep = [c for c in columns if c in table.column_names]
        print(f"\n{kind.capitalize()} by {by}, last {history_days:g} days")
        print(format_table(table.select(keep), "table", human=True), end="", flush=True)


CAPACITY_COLUMNS = ["model", "region", "peak_rpm", "peak_tpm", "peak_quota_tpm", "quota_tpm", "quota_share",
                    "model_units_needed", "pt_monthly_usd_1_month", "on_demand_monthly_usd", "breakeven_utilisation"]
FORECAST_COLUMNS = ["date", "peak_rpm", "peak_tpm", "peak_quota_tpm", "peak_quota_tpm_lo", "peak_quota_tpm_hi",
                    "quota_tpm"]


def _print_capacity(api: str, now: datetime, history_days: float) -> None:
    """Quotas and Provisioned Throughput by model and region, and the busiest model's forecast."""
    start = (now - timedelta(days=history_days + 1)).replace(tzinfo=None)
    end = (now + timedelta(minutes=5)).replace(tzinfo=None)
    capacity: pa.Table = call(api, "/v1/reports/capacity", {"params": {
        "from": start.isoformat(), "to": end.isoformat(), "by": ["model", "region"], "where": {}}}, arrow=True)
    print(f"\nQuotas and Provisioned Throughput by model and region, last {history_days:g} days")
    keep = [c for c in CAPACITY_COLUMNS if c in capacity.column_names]
    print(format_table(capacity.select(keep), "table", human=True), end="", flush=True)
    if capacity.num_rows == 0:
        return
    busiest = max(capacity.to_pylist(), key=lambda r: r.get("peak_quota_tpm") or 0)
    where = {"model": busiest["model"], "region": busiest["region"]}
    forecast: pa.Table = call(api, "/v1/reports/forecast", {"params": {
        "by": ["model", "region"], "where": where, "horizon_days": 14}}, arrow=True)
    print(f"\nForecast of the daily peaks of {busiest['model']} in {busiest['region']}, next 14 days "
          "(95% bounds)")
    if forecast.num_rows == 0:
        print("(too little history: a forecast needs 7 days; try --history-days 14)")
        return
    keep = [c for c in FORECAST_COLUMNS if c in forecast.column_names]
    print(format_table(forecast.select(keep), "table", human=True), end="", flush=True)


ALERT_COLUMNS = ["alert_id", "rule", "kind", "group", "state", "severity", "value", "threshold", "message"]


def _print_alerts(api: str, webhook: DemoWebhook | None) -> None:
    rows = call(api, "/v1/alerts?state=open")
    print(f"\nAlerts open now ({len(rows)}): pending, firing or without data")
    shown = [{c: (", ".join(f"{k}={v}" for k, v in r[c].items()) if c == "group" else r[c])
              for c in ALERT_COLUMNS} for r in rows]
    table = pa.Table.from_pylist(shown) if shown else pa.table({c: pa.array([], pa.string()) for c in ALERT_COLUMNS})
    print(format_table(table, "table", human=True), end="", flush=True)
    budgets: pa.Table = call(api, "/v1/budgets", arrow=True)
    print("\nBudgets")
    print(format_table(budgets, "table", human=True), end="", flush=True)
    if webhook is not None:
        bodies = webhook.bodies()
        print(f"\nNotifications the demo's webhook received: {len(bodies)}")
        for body in bodies:
            print(f"  [{body.get('state')}] {body.get('message')}")


def _say(text: str) -> None:
    print(text, flush=True)
