"""Alert rules (throttle_rate, error_rate): evaluation over a sliding window, the
lifecycle (pending, firing, no_data, resolved; ack, silence, re-notification) and
delivery to a real local HTTP receiver and to SNS on the moto server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from outcrop.analytics.alerts import ack_alert, evaluate_alerts, list_alerts, silence_alert
from outcrop.cli.main import main
from outcrop.core.settings import ConfigError, Settings
from outcrop.core.store.writer import Store
from tests.conftest import make_settings
from tests.conftest_aws import REGION, aws_env, boto, moto_url  # noqa: F401 - fixtures

T = datetime(2026, 3, 2, 12, 0, 0)


class Receiver:
    """A loopback HTTP receiver: records bodies; answers 200, 500, or hangs."""

    def __init__(self, mode: str = "ok", hang_seconds: float = 3.0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                outer.hits += 1
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                if mode == "hang":
                    time.sleep(hang_seconds)
                code = 500 if mode == "fail" else 200
                if mode == "ok":
                    outer.bodies.append(body)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def rule(**over: Any) -> dict[str, Any]:
    return {"name": "throttles", "kind": "throttle_rate", "by": ["model"], "window_minutes": 15,
            "threshold": 0.01, "min_requests": 100, "channels": ["ops"], **over}


def settings_with(url: str, *rules: dict[str, Any], **alerts: Any) -> Settings:
    return make_settings(alerts={"channels": {"ops": {"type": "webhook", "url": url}},
                                 "rules": list(rules), **alerts})


_seq = iter(range(10**9))


def add_calls(store: Store, start: datetime, n: int, *, model: str = "m1", throttled: int = 0,
              errors: int = 0, tenant: str = "acme") -> None:
    """n calls one second apart from `start`; the first `throttled`, then `errors`, are bad."""
    rows = []
    for i in range(n):
        status = "throttled" if i < throttled else "error" if i < throttled + errors else "ok"
        rows.append([f"c{next(_seq)}", "otlp", start + timedelta(seconds=i), tenant, "r", "w", model,
                     REGION, status, start])
    store.write(lambda con: con.executemany(
        "INSERT INTO llm_calls (call_id, source, ts, tenant, route, workflow, model, region, status, "
        "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows))


def deliveries(store: Store) -> list[tuple[Any, ...]]:
    return store.query("SELECT alert_id, event, channel, attempt, ok, error FROM alert_deliveries "
                       "ORDER BY attempted_at, attempt").to_pylist()


def test_fires_above_threshold_and_not_below(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule())
    add_calls(store, T - timedelta(minutes=10), 200, model="m1", throttled=5)  # 5/200 = 2.5%
    add_calls(store, T - timedelta(minutes=10), 200, model="m2", throttled=2)  # 2/200 = 1.0%: not above
    add_calls(store, T - timedelta(minutes=20), 200, model="m3", throttled=50)  # outside the window
    evaluate_alerts(store, settings, T)
    rows = list_alerts(store, "all")
    assert [(r["group"], r["state"], r["value"], r["requests"]) for r in rows] == [
        ({"model": "m1"}, "firing", 0.025, 200)]
    assert rows[0]["message"].startswith("throttles: throttle rate at 2.50% (5 throttled of 200 attempts")
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert {k: body[k] for k in ("rule", "kind", "group", "state", "severity", "value", "threshold")} == {
        "rule": "throttles", "kind": "throttle_rate", "group": {"model": "m1"}, "state": "firing",
        "severity": "warning", "value": 0.025, "threshold": 0.01}
    assert body["started_at"] == "2026-03-02T12:00:00Z"
    assert body["url"] is None  # no alerts.dashboard_url


def test_notifications_link_to_the_alerts_dashboard_view(store: Store, hook: Receiver) -> None:
    slack = Receiver()
    try:
        settings = make_settings(alerts={
            "dashboard_url": "http://dash.example:8501/",
            "channels": {"ops": {"type": "webhook", "url": hook.url}, "chat": {"type": "slack", "url": slack.url}},
            "rules": [rule(channels=["ops", "chat"])]})
        add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
        evaluate_alerts(store, settings, T)
        (row,) = list_alerts(store, "all")
        link = f"http://dash.example:8501/alerts?alert_id={row['alert_id']}"
        assert [b["url"] for b in hook.bodies] == [link]
        assert [b["text"].endswith(link) for b in slack.bodies] == [True]
    finally:
        slack.close()


def test_error_rate_counts_errors_not_throttles(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule(name="errors", kind="error_rate", by=["tenant", "model"],
                                            threshold=0.05))
    add_calls(store, T - timedelta(minutes=5), 100, throttled=30, errors=6)  # errors 6/100 = 6%
    evaluate_alerts(store, settings, T)
    rows = list_alerts(store, "firing")
    assert [(r["group"], r["value"]) for r in rows] == [({"model": "m1", "tenant": "acme"}, 0.06)]


def test_resolves_with_a_resolved_notification(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule())
    add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(store, settings, T)
    add_calls(store, T + timedelta(minutes=10), 150)  # window [12:05, 12:20): 0 of 150
    evaluate_alerts(store, settings, T + timedelta(minutes=20))
    (row,) = list_alerts(store, "all")
    assert (row["state"], row["value"], row["resolved_at"]) == ("resolved", 0.0, T + timedelta(minutes=20))
    assert [(b["state"], b["event"]) for b in hook.bodies] == [("firing", "firing"), ("resolved", "resolved")]
    events = store.query("SELECT event FROM alert_events ORDER BY event_at").to_pylist()
    assert [e["event"] for e in events] == ["firing", "resolved"]


def test_a_small_sample_never_fires_and_an_open_alert_goes_to_no_data(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule())
    add_calls(store, T - timedelta(minutes=10), 99, model="small", throttled=50)  # 99 < min_requests
    add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(store, settings, T)
    assert [r["group"] for r in list_alerts(store, "all")] == [{"model": "m1"}]
    add_calls(store, T + timedelta(minutes=10), 20, throttled=20)  # window [12:05, 12:20): 20 calls
    evaluate_alerts(store, settings, T + timedelta(minutes=20))
    (row,) = list_alerts(store, "open")
    assert row["state"] == "no_data" and row["resolved_at"] is None
    assert "20 attempts in the last 15 min, fewer than min_requests 100" in row["message"]
    assert len(hook.bodies) == 1  # no_data notifies nobody and is not a resolution
    evaluate_alerts(store, settings, T + timedelta(hours=2))  # nothing at all in the window
    assert list_alerts(store, "open")[0]["state"] == "no_data"


def test_pending_until_for_minutes_then_firing(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule(for_minutes=10))
    add_calls(store, T - timedelta(minutes=14), 800, throttled=100)  # 800 s: 11:46 .. 11:59:20
    evaluate_alerts(store, settings, T)
    assert list_alerts(store, "open")[0]["state"] == "pending" and hook.bodies == []
    add_calls(store, T, 600, throttled=100)  # 12:00 .. 12:10
    evaluate_alerts(store, settings, T + timedelta(minutes=10))
    assert list_alerts(store, "open")[0]["state"] == "firing"
    assert len(hook.bodies) == 1


def _keep_firing(store: Store, settings: Settings, minutes: list[int]) -> None:
    for m in minutes:
        at = T + timedelta(minutes=m)
        add_calls(store, at - timedelta(minutes=5), 200, throttled=10)
        evaluate_alerts(store, settings, at)


def test_renotified_only_after_the_interval(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule(renotify_minutes=60))
    _keep_firing(store, settings, [0, 30, 59])
    assert [b["event"] for b in hook.bodies] == ["firing"]
    _keep_firing(store, settings, [60, 90, 120])
    assert [b["event"] for b in hook.bodies] == ["firing", "renotify", "renotify"]
    assert len(list_alerts(store, "all")) == 1  # deduplicated: one instance throughout


def test_acknowledged_alert_is_not_renotified_but_its_resolution_is_sent(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule(renotify_minutes=60))
    _keep_firing(store, settings, [0])
    (row,) = list_alerts(store, "firing")
    ack_alert(store, row["alert_id"], T + timedelta(minutes=1))
    _keep_firing(store, settings, [60, 120])
    assert [b["event"] for b in hook.bodies] == ["firing"]
    evaluate_alerts(store, settings, T + timedelta(minutes=300))  # no calls in the window: no_data
    add_calls(store, T + timedelta(minutes=305), 100)
    evaluate_alerts(store, settings, T + timedelta(minutes=310))
    assert [b["event"] for b in hook.bodies] == ["firing", "resolved"]
    assert list_alerts(store, "all")[0]["acked"] is True


def test_silenced_alert_notifies_nobody_until_the_silence_ends(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule(renotify_minutes=60))
    add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
    # the first evaluation opens the instance; silence it before it can page anyone again
    evaluate_alerts(store, settings, T)
    (row,) = list_alerts(store, "firing")
    silence_alert(store, row["alert_id"], T + timedelta(minutes=150), "maintenance", T)
    _keep_firing(store, settings, [60, 120])
    assert [b["event"] for b in hook.bodies] == ["firing"]
    _keep_firing(store, settings, [150])  # the silence is over: the overdue re-notification goes out
    assert [b["event"] for b in hook.bodies] == ["firing", "renotify"]
    (listed,) = list_alerts(store, "firing")
    assert listed["silenced_until"] == T + timedelta(minutes=150) and listed["silence_comment"] == "maintenance"


def test_silence_in_the_past_and_unknown_ids_are_refused(store: Store) -> None:
    from outcrop.core.errors import QueryError

    with pytest.raises(QueryError, match="--until must be in the future"):
        silence_alert(store, 1, T, None, T)
    with pytest.raises(QueryError, match="no open alert with alert_id 42"):
        ack_alert(store, 42, T)


def _cli_rows(db: str, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, url: str, at: datetime) -> Any:
    config = tmp / "outcrop.toml"
    config.write_text(f'[alerts.channels.ops]\ntype = "webhook"\nurl = "{url}"\n\n'
                      '[[alerts.rules]]\nname = "throttles"\nkind = "throttle_rate"\nby = ["model"]\n'
                      'channels = ["ops"]\n')
    monkeypatch.setenv("OUTCROP_CONFIG", str(config))
    capsys.readouterr()
    assert main(["alerts", "evaluate", "--at", at.isoformat() + "Z", "--db", db, "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["alerts", "list", "--state", "all", "--db", db, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluating_at_a_past_time_equals_evaluating_at_that_time(tmp_path: Path, hook: Receiver,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: Any) -> None:
    then, later = str(tmp_path / "then.duckdb"), str(tmp_path / "later.duckdb")
    for db in (then, later):
        store = Store.open(db)
        add_calls(store, T - timedelta(minutes=15), 300, throttled=6)  # 11:45 .. 11:49:59, in the window
        add_calls(store, T - timedelta(minutes=16), 50, throttled=50)  # before the window
        if db == later:  # what came after T: at T itself (excluded) and later
            add_calls(store, T, 100, throttled=100)
            add_calls(store, T + timedelta(minutes=5), 300)
        store.close()
    a = _cli_rows(then, tmp_path, monkeypatch, capsys, hook.url, T)
    b = _cli_rows(later, tmp_path, monkeypatch, capsys, hook.url, T)
    assert a == b
    assert [(r["group"], r["state"], r["value"], r["started_at"]) for r in a] == [
        ({"model": "m1"}, "firing", 0.02, "2026-03-02T12:00:00Z")]
    assert set(a[0]) == {"alert_id", "rule", "kind", "group", "state", "severity", "value", "threshold",
                         "message", "started_at", "resolved_at", "acked", "silenced_until"}


def test_a_failing_and_a_hanging_channel_do_not_stop_the_others(store: Store, hook: Receiver) -> None:
    failing, hanging = Receiver("fail"), Receiver("hang", hang_seconds=3.0)
    try:
        settings = make_settings(alerts={
            "delivery_timeout_seconds": 0.5, "delivery_attempts": 2,
            "channels": {"bad": {"type": "webhook", "url": failing.url},
                         "slow": {"type": "webhook", "url": hanging.url},
                         "slack": {"type": "slack", "url": hook.url}},
            "rules": [rule(channels=["bad", "slow", "slack"])]})
        add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
        outcome = evaluate_alerts(store, settings, T, backoff_seconds=0.01)
    finally:
        failing.close()
        hanging.close()
    assert list_alerts(store, "firing")[0]["value"] == 0.025  # evaluation committed regardless
    assert outcome["failed_attempts"] == 4
    got = sorted((d["channel"], d["attempt"], d["ok"], d["error"]) for d in deliveries(store))
    assert got == [("bad", 1, False, "receiver answered 500"), ("bad", 2, False, "receiver answered 500"),
                   ("slack", 1, True, None),
                   ("slow", 1, False, "timed out: ReadTimeout"), ("slow", 2, False, "timed out: ReadTimeout")]
    assert failing.hits == 2
    (text,) = [b["text"] for b in hook.bodies]
    assert text.startswith("[FIRING] [warning] throttles: throttle rate at 2.50% (5 throttled of 200")


def test_sns_channel_publishes_to_the_topic(store: Store, aws_env: str) -> None:  # noqa: F811
    sns, sqs = boto("sns", aws_env), boto("sqs", aws_env)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    settings = make_settings(aws={"region": REGION, "endpoints": {"sns": aws_env}}, alerts={
        "channels": {"pager": {"type": "sns", "topic_arn": topic}}, "rules": [rule(channels=["pager"])]})
    add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(store, settings, T)
    assert [(d["channel"], d["ok"]) for d in deliveries(store)] == [("pager", True)]
    (message,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == "[firing] throttles"
    assert "throttle rate at 2.50%" in envelope["Message"]


@pytest.mark.parametrize(("alerts", "expected"), [
    ({"rules": [{"name": "d", "kind": "drift"}]}, "a drift rule needs metric"),
    ({"rules": [{"name": "d", "kind": "drift", "metric": "ttft_p99"}]}, "got 'ttft_p99'"),
    ({"rules": [{"name": "c", "kind": "capacity", "by": ["tenant"]}]}, "groups by model and region"),
    ({"rules": [{"name": "c", "kind": "capacity", "threshold": 1.5}]}, "share of the quota"),
    ({"rules": [{"name": "e", "kind": "error_rate", "metric": "ttft_ms_p95"}]}, "takes no metric"),
    ({"rules": [{"name": "k", "kind": "latency"}]}, "'alerts.rules.0.kind'"),
    ({"budgets": [{"name": "b", "period": "month", "limit_usd": 1, "limits": 2}]},
     "unknown configuration key 'alerts.budgets.0.limits'"),
    ({"budgets": [{"name": "b", "period": "month", "limit_usd": 1, "scope": {"model": "m"}}]},
     "unknown configuration key 'alerts.budgets.0.scope.model'"),
    ({"rules": [{"name": "x", "kind": "throttle_rate", "channels": ["nope"]}]}, "unknown channel(s) nope"),
    ({"rules": [{"name": "x", "kind": "throttle_rate", "by": ["colour"]}]}, "unknown group key(s) colour"),
    ({"channels": {"ops": {"type": "sns", "url": "http://x"}}}, "an sns channel takes topic_arn"),
    ({"rules": [{"name": "x", "kind": "throttle_rate", "windows": 5}]},
     "unknown configuration key 'alerts.rules.0.windows'"),
])
def test_bad_alert_config_is_refused_naming_the_key(alerts: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(alerts=alerts)
    assert expected in str(caught.value)
    assert "alerts" in str(caught.value)


def test_alert_commands_go_through_the_running_server(server_factory: Any, db_path: str, hook: Receiver,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: Any) -> None:
    running = server_factory(alerts={"channels": {"ops": {"type": "webhook", "url": hook.url}},
                                     "rules": [rule()]})
    add_calls(running.store, T - timedelta(minutes=10), 200, throttled=5)
    monkeypatch.chdir(tmp_path)  # no outcrop.toml: the server's own rules are evaluated
    assert main(["alerts", "evaluate", "--at", "2026-03-02T12:00:00Z", "--db", db_path, "--format", "json"]) == 0
    (change,) = json.loads(capsys.readouterr().out)
    assert (change["state"], change["notify"]) == ("firing", "firing")
    assert main(["alerts", "ack", str(change["alert_id"]), "--db", db_path, "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["alerts", "silence", str(change["alert_id"]), "--until", "2199-01-01T00:00:00Z",
                 "--comment", "known", "--db", db_path, "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["alerts", "list", "--db", db_path, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["acked"], row["silenced_until"]) == (True, "2199-01-01T00:00:00Z")
    assert main(["alerts", "ack", "999", "--db", db_path]) == 1
    assert "no open alert with alert_id 999" in capsys.readouterr().err


def test_bad_admin_alert_requests_answer_400_naming_the_field(server: Any) -> None:
    import httpx

    for action, body, needle in [("ack", {"alert_id": "x"}, "alert_id must be a whole number"),
                                 ("list", {"state": "sleeping"}, "state must be one of"),
                                 ("silence", {"alert_id": 1, "until": "soon"}, "'until'"),
                                 ("evaluate", {"at": "yesterday"}, "'at'"),
                                 ("explode", {}, "unknown alerts action 'explode'")]:
        answer = httpx.post(f"{server.api_url}/v1/admin/alerts/{action}", json=body)
        assert answer.status_code == 400, (action, answer.text)
        assert needle in answer.json()["message"]


def test_an_earlier_look_leaves_an_instance_evaluated_later_alone(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule())
    add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(store, settings, T)  # fires at 12:00
    before = list_alerts(store, "all")
    # as of 11:30 the window held nothing: without the guard this would resolve the
    # instance at 11:30, before it started
    changes = evaluate_alerts(store, settings, T - timedelta(minutes=30))["changes"]
    assert changes == []
    assert list_alerts(store, "all") == before
    assert [(r["state"], r["resolved_at"]) for r in before] == [("firing", None)]


def add_cloudwatch(store: Store, start: datetime, minutes: int, model_id: str, invocations: int,
                   throttles: int) -> None:
    """CloudWatch AWS/Bedrock minutes as the metrics poller writes them, per minute."""
    rows = [[start + timedelta(minutes=i), REGION, model_id, invocations, throttles, start] for i in range(minutes)]
    store.write(lambda con: con.executemany(
        "INSERT INTO bedrock_metrics_1m (ts, region, model_id, invocations, invocation_throttles, polled_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", rows))


def test_throttles_refused_before_any_span_come_from_cloudwatch(store: Store, hook: Receiver) -> None:
    model = "anthropic.claude-3-5-haiku-20241022-v1:0"
    settings = settings_with(hook.url, rule(by=["model", "region"]))
    add_calls(store, T - timedelta(minutes=10), 200, model=model, throttled=1)  # spans: 1/200 = 0.5%
    # CloudWatch, by the profile id: 10 minutes x (20 served + 1 throttled) in the window,
    # and 5 minutes of heavy throttling before it that must not count
    add_cloudwatch(store, T - timedelta(minutes=10), 10, f"us.{model}", 20, 1)  # 10 / 210 = 4.76%
    add_cloudwatch(store, T - timedelta(minutes=20), 5, f"us.{model}", 0, 50)
    evaluate_alerts(store, settings, T)
    (row,) = list_alerts(store, "all")
    assert row["group"] == {"model": model, "region": REGION}
    assert (row["state"], row["requests"]) == ("firing", 210)
    assert row["value"] == pytest.approx(10 / 210)
    assert row["message"].endswith("(from CloudWatch InvocationThrottles)")


def test_span_rate_is_used_when_it_is_the_higher(store: Store, hook: Receiver) -> None:
    settings = settings_with(hook.url, rule(by=["model"]))
    add_calls(store, T - timedelta(minutes=10), 200, model="m1", throttled=6)  # 3%
    add_cloudwatch(store, T - timedelta(minutes=10), 10, "m1", 20, 0)  # 0%
    evaluate_alerts(store, settings, T)
    (row,) = list_alerts(store, "all")
    assert (row["value"], row["requests"]) == (0.03, 200)
    assert row["message"].endswith("(from calls)")


def test_read_api_shows_alerts_their_history_and_the_rules_without_secrets(server_factory: Any,
                                                                           hook: Receiver) -> None:
    import httpx

    slack = "http://127.0.0.1:9/services/T000/B000/secret-token"
    running = server_factory(
        server={"api_token": "reader-token"},
        alerts={"channels": {"ops": {"type": "webhook", "url": hook.url}, "chat": {"type": "slack", "url": slack}},
                "rules": [rule()],
                "budgets": [{"name": "all-monthly", "period": "month", "limit_usd": 10.0}]})
    add_calls(running.store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(running.store, running.server.settings, T)
    auth = {"authorization": "Bearer reader-token"}
    assert httpx.get(f"{running.api_url}/v1/alerts").status_code == 401
    (row,) = httpx.get(f"{running.api_url}/v1/alerts?state=firing", headers=auth).json()
    assert (row["rule"], row["group"], row["value"]) == ("throttles", {"model": "m1"}, 0.025)
    detail = httpx.get(f"{running.api_url}/v1/alerts/{row['alert_id']}", headers=auth).json()
    assert [e["event"] for e in detail["events"]] == ["firing"]
    assert [(d["channel"], d["event"], d["ok"]) for d in detail["deliveries"]] == [("ops", "firing", True)]
    missing = httpx.get(f"{running.api_url}/v1/alerts/999", headers=auth)
    assert missing.status_code == 400 and "no alert with alert_id 999" in missing.json()["message"]
    config = httpx.get(f"{running.api_url}/v1/alerts/config", headers=auth)
    assert "secret-token" not in config.text
    body = config.json()
    assert body["channels"]["chat"] == {"type": "slack", "target": "http://127.0.0.1/…"}
    assert [(r["name"], r["kind"], r["threshold"]) for r in body["rules"]] == [("throttles", "throttle_rate", 0.01)]
    assert body["budgets"][0]["thresholds"] == [0.5, 0.8, 1.0]
    (budget,) = httpx.get(f"{running.api_url}/v1/budgets?at=2026-03-02T12:00:00Z", headers=auth).json()
    assert (budget["name"], budget["period"], budget["spent_usd"]) == ("all-monthly", "2026-03", 0.0)


def test_an_alert_of_a_rule_no_longer_configured_is_resolved_quietly(store: Store, hook: Receiver) -> None:
    add_calls(store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(store, settings_with(hook.url, rule()), T)  # fires
    assert len(hook.bodies) == 1
    later = T + timedelta(minutes=1)
    changes = evaluate_alerts(store, settings_with(hook.url), later)["changes"]  # the rule was removed
    (row,) = list_alerts(store, "all")
    assert [c["state"] for c in changes] == ["resolved"]
    assert (row["state"], row["resolved_at"], row["message"]) == (
        "resolved", later, "rule throttles is no longer configured")
    assert len(hook.bodies) == 1  # no notification: the rule that would send it is gone
