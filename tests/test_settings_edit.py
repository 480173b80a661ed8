"""Editing [alerts] and [capacity] through the read API: GET /v1/settings, PUT and DELETE
/v1/admin/settings/{section}, against a real server. An edit is validated like the file,
stored in the database (not a file), applied to the next alerts evaluation and report
without a restart, kept across restarts, and refused off loopback without the admin token."""

from __future__ import annotations

import json
import time
import tomllib
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from outcrop.core.clock import utcnow
from outcrop.core.store.writer import Store
from outcrop.core.toml_text import section_toml
from tests.conftest import RunningServer, make_settings

T = datetime(2026, 3, 2, 12, 0, 0)
HOOK = "https://hooks.slack.com/services/T000/B000/s3cret-path"
OPS = {"ops": {"type": "slack", "url": HOOK}}


def throttle_rule(**over: Any) -> dict[str, Any]:
    return {"name": "throttles", "kind": "throttle_rate", "by": ["model"], "threshold": 0.01,
            "min_requests": 10, **over}


def add_calls(store: Store, start: datetime, n: int, throttled: int) -> None:
    """n calls of model m1, one second apart from `start`, the first `throttled` throttled."""
    rows = [[f"c{start.timestamp():.0f}-{i}", "otlp", start + timedelta(seconds=i), "acme", "r", "w", "m1",
             "us-east-1", "throttled" if i < throttled else "ok", start] for i in range(n)]
    store.write(lambda con: con.executemany(
        "INSERT INTO llm_calls (call_id, source, ts, tenant, route, workflow, model, region, status, "
        "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows))


def put(server: Any, section: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.put(f"{server.api_url}/v1/admin/settings/{section}", json=body, headers=headers, timeout=30)


def settings_of(server: Any, **headers: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.api_url}/v1/settings", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def evaluate(server: Any, at: datetime) -> dict[str, Any]:
    answer = httpx.post(f"{server.api_url}/v1/admin/alerts/evaluate", json={"at": at.isoformat()}, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def audit(store: Store) -> list[tuple[str, str, str | None, str]]:
    rows = store.query("SELECT section, action, body, changed_by FROM settings_audit ORDER BY changed_at").to_pylist()
    return [(r["section"], r["action"], r["body"], r["changed_by"]) for r in rows]


def test_an_edited_rule_is_evaluated_at_once_and_reverting_restores_the_files(server_factory: Any) -> None:
    server = server_factory(alerts={"channels": OPS})
    add_calls(server.store, T - timedelta(minutes=10), 100, throttled=5)
    assert evaluate(server, T)["changes"] == []  # the file has no rules

    answer = put(server, "alerts", {"rules": [throttle_rule(channels=["ops"])]})
    assert answer.status_code == 200, answer.text
    section = answer.json()
    assert [r["name"] for r in section["values"]["rules"]] == ["throttles"]
    assert section["values"]["budgets"] == []  # not given: the file's (none)
    assert section["edited"]["updated_by"] == "loopback 127.0.0.1"

    (change,) = evaluate(server, T)["changes"]
    assert (change["rule"], change["state"], change["value"]) == ("throttles", "firing", 0.05)
    config = httpx.get(f"{server.api_url}/v1/alerts/config", timeout=30).json()
    assert [r["name"] for r in config["rules"]] == ["throttles"]
    assert config["channels"]["ops"]["target"] == "https://hooks.slack.com/…"  # still redacted

    reverted = httpx.delete(f"{server.api_url}/v1/admin/settings/alerts", timeout=30)
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["values"]["rules"] == [] and reverted.json()["edited"] is None
    assert httpx.get(f"{server.api_url}/v1/alerts/config", timeout=30).json()["rules"] == []
    assert [(s, a) for s, a, _, _ in audit(server.store)] == [("alerts", "put"), ("alerts", "delete")]


def test_the_scheduled_alerts_job_sees_an_edit_without_a_restart(server_factory: Any) -> None:
    server = server_factory(jobs={"enabled": True}, alerts={"evaluate_seconds": 0.2})
    add_calls(server.store, utcnow() - timedelta(minutes=10), 100, throttled=5)
    _wait_for(lambda: server.store.query("SELECT count(*) AS n FROM job_runs WHERE job = 'alerts'")
              .to_pylist()[0]["n"] >= 2, "two scheduled alerts runs")
    assert server.store.query("SELECT count(*) AS n FROM alert_instances").to_pylist()[0]["n"] == 0

    assert put(server, "alerts", {"rules": [throttle_rule()]}).status_code == 200
    _wait_for(lambda: server.store.query("SELECT rule, state FROM alert_instances").to_pylist()
              == [{"rule": "throttles", "state": "firing"}], "the edited rule to fire")


def stopped_after(db_path: str, edit: Any, **sections: Any) -> None:
    """Run a server on `db_path` for `edit(server)`, then stop it (a restart follows)."""
    server = RunningServer(make_settings(**sections), db_path)
    try:
        edit(server)
    finally:
        server.stop()


def _wait_for(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:g} s for {what}")
        time.sleep(0.05)


def test_an_edit_survives_a_restart_and_feeds_the_capacity_report(server_factory: Any, db_path: str) -> None:
    quotas = [{"model": "m1", "region": "us-east-1", "tpm": 400000}]

    def edit(first: Any) -> None:
        answer = put(first, "capacity", {"quotas": quotas, "headroom": 0.5})
        assert answer.status_code == 200, answer.text
        assert answer.json()["values"]["quotas"] == [{**quotas[0], "rpm": None}]

    stopped_after(db_path, edit)

    second = server_factory()
    shown = settings_of(second)
    assert shown["capacity"]["quotas"] == [{**quotas[0], "rpm": None}]
    assert shown["capacity"]["headroom"] == 0.5
    assert shown["editable"]["capacity"]["edited"]["updated_by"] == "loopback 127.0.0.1"
    add_calls(second.store, T - timedelta(minutes=10), 60, throttled=0)
    assert httpx.post(f"{second.api_url}/v1/admin/jobs", json={"names": ["rollups"]}, timeout=60).status_code == 200
    report = httpx.post(f"{second.api_url}/v1/reports/capacity", timeout=60, json={"params": {
        "from": (T - timedelta(hours=1)).isoformat(), "to": T.isoformat(), "by": ["model", "region"]}})
    assert report.status_code == 200, report.text
    (row,) = report.json()
    assert (row["quota_tpm"], row["quota_source"]) == (400000, "config")


@pytest.mark.parametrize("section,body,needle", [
    ("alerts", {"rules": [throttle_rule(kind="bogus")]}, "configuration key 'alerts.rules.0.kind'"),
    ("alerts", {"rules": [throttle_rule(threshold=2)]}, "configuration key 'alerts.rules.0'"),
    ("alerts", {"rules": [throttle_rule(channels=["pager"])]}, "names unknown channel(s) pager"),
    ("alerts", {"budgets": [{"name": "b", "period": "week", "limit_usd": 5}]},
     "configuration key 'alerts.budgets.0.period'"),
    ("alerts", {"channels": {"evil": {"type": "webhook", "url": "http://attacker.example/"}}},
     "configuration key 'alerts.channels' cannot be edited through the API (channel targets are credentials"),
    ("alerts", {"rulez": []}, "unknown configuration key 'alerts.rulez'"),
    ("alerts", {}, "names no key to edit"),
    ("capacity", {"quotas": [{"model": "m1", "region": "us-east-1"}]}, "configuration key 'capacity.quotas.0'"),
    ("capacity", {"service_quotas": True}, "configuration key 'capacity.service_quotas' cannot be edited"),
    ("server", {"api_token": "x"}, "settings section 'server' cannot be edited through the API"),
])  # fmt: skip
def test_an_invalid_edit_is_refused_naming_the_key_and_changes_nothing(
        server_factory: Any, section: str, body: dict[str, Any], needle: str) -> None:
    server = server_factory(alerts={"channels": OPS, "rules": [throttle_rule(name="file-rule")]})
    before = settings_of(server)
    answer = put(server, section, body)
    assert answer.status_code == 400, answer.text
    assert needle in answer.json()["message"]
    assert settings_of(server) == before
    assert audit(server.store) == []
    assert server.store.query("SELECT count(*) AS n FROM settings_overrides").to_pylist()[0]["n"] == 0


def test_a_remote_caller_needs_the_admin_token(server_factory: Any) -> None:
    server = server_factory(server={"admin_token": "admin-s3cret-token"})
    relayed = {"x-forwarded-for": "203.0.113.9"}  # a proxy relaying someone: not a local caller
    refused = put(server, "alerts", {"rules": [throttle_rule()]}, **relayed)
    assert refused.status_code == 401 and "admin token" in refused.json()["message"]
    assert httpx.delete(f"{server.api_url}/v1/admin/settings/alerts", headers=relayed, timeout=30).status_code == 401
    assert settings_of(server)["alerts"]["rules"] == []

    allowed = put(server, "alerts", {"rules": [throttle_rule()]}, **relayed,
                  authorization="Bearer admin-s3cret-token")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["edited"]["updated_by"] == "admin token 127.0.0.1"
    (row,) = audit(server.store)
    assert row[:2] == ("alerts", "put") and row[3] == "admin token 127.0.0.1"
    assert json.loads(row[2] or "")["rules"][0]["name"] == "throttles"


def test_secrets_never_appear_in_get(server_factory: Any) -> None:
    secrets = ["reader-t0ken-xyz", "admin-t0ken-xyz", "ingest-key-xyz-123", HOOK, "s3cret-path"]
    server = server_factory(server={"api_token": secrets[0], "admin_token": secrets[1]},
                            ingest={"api_keys": [{"key": secrets[2], "tenant": "acme"}]},
                            alerts={"channels": OPS, "rules": [throttle_rule(channels=["ops"])]})
    assert httpx.get(f"{server.api_url}/v1/settings", timeout=30).status_code == 401
    answer = httpx.get(f"{server.api_url}/v1/settings", headers={"authorization": f"Bearer {secrets[0]}"},
                       timeout=30)
    assert answer.status_code == 200
    assert [s for s in secrets if s in answer.text] == []
    shown = answer.json()
    assert shown["alerts"]["channels"] == {"ops": {"type": "slack", "target": "https://hooks.slack.com/…"}}
    assert sorted(shown) == ["alerts", "attribution", "capacity", "editable", "jobs", "pricing"]
    assert shown["attribution"]["tenant"][0] == "tenant.id"


def test_a_stored_edit_that_no_longer_fits_the_file_is_set_aside_at_start(server_factory: Any,
                                                                          db_path: str) -> None:
    stopped_after(db_path, lambda first: put(first, "alerts", {"rules": [throttle_rule(channels=["ops"])]})
                  .raise_for_status(), alerts={"channels": OPS})

    second = server_factory()  # the file no longer has channel ops
    shown = settings_of(second)
    assert shown["alerts"]["rules"] == []
    assert "names unknown channel(s) ops" in shown["editable"]["alerts"]["edited"]["error"]
    assert put(second, "alerts", {"rules": [throttle_rule()]}).status_code == 200
    assert settings_of(second)["editable"]["alerts"]["edited"]["error"] is None


def test_the_toml_text_of_a_section_reads_back_as_its_values() -> None:
    values = {"rules": [{"name": "drift \"p95\"", "kind": "drift", "by": ["model", "region"], "metric": "ttft_ms_p95",
                         "threshold": 0.5, "min_requests": 100, "channels": []}],
              "budgets": [{"name": "acme", "scope": {"tenant": "acme", "route": None}, "period": "month",
                           "limit_usd": 1200.0, "thresholds": [0.5, 1.0]}],
              "quotas": [], "headroom": 0.2, "model_units": [{"model": "m", "hourly_usd_1_month": None}]}
    text = section_toml("alerts", values)
    assert "[[alerts.rules]]" in text and 'scope = { tenant = "acme" }' in text and "quotas = []" in text
    assert tomllib.loads(text)["alerts"] == {
        **values, "budgets": [{**values["budgets"][0], "scope": {"tenant": "acme"}}],
        "model_units": [{"model": "m"}]}
