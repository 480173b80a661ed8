"""The alerts page under AppTest against a real server: a throttle alert fired by the real
evaluation (delivered to a real local webhook), listed by state, opened from
`?alert_id=N`, acknowledged and silenced from the page through the admin endpoints
(and refused, with the server's message, to a dashboard the server does not count as
local and that has no admin token), plus the empty, down and failing API cases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from dashboard_data import ERROR_MESSAGE
from streamlit.testing.v1 import AppTest

from outcrop.analytics.alerts import evaluate_alerts
from tests.conftest import RunningServer
from tests.test_alerts import Receiver, T, add_calls, rule

pytest_plugins = ["dashboard_fixtures"]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _firing(server_factory: Callable[..., RunningServer], hook: Receiver, **server: Any) -> tuple[RunningServer, int]:
    """A server whose throttle rule fired for model m1: 5 throttled of 200 attempts = 2.5% > 1%."""
    running = server_factory(server=server, alerts={"channels": {"ops": {"type": "webhook", "url": hook.url}},
                                                    "rules": [rule()]})
    add_calls(running.store, T - timedelta(minutes=10), 200, throttled=5)
    evaluate_alerts(running.store, running.server.settings, T)
    (row,) = requests.get(running.api_url + "/v1/alerts?state=firing", timeout=30).json()
    return running, int(row["alert_id"])


def _alert(server: RunningServer, alert_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{server.api_url}/v1/alerts/{alert_id}", timeout=30).json()
    return answer


def _button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def test_firing_alerts_are_listed_with_their_values(server_factory: Any, hook: Receiver, dashboard_app: Any) -> None:
    server, alert_id = _firing(server_factory, hook)
    at = dashboard_app(server.api_url, page="alerts")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert table.to_dict("records") == [{
        "ID": alert_id, "Rule": "throttles", "Kind": "throttle_rate", "Group": "model=m1", "State": "firing",
        "Severity": "warning", "Value": "2.5%", "Threshold": "1.0%",
        "Message": table.iloc[0]["Message"], "Started": "2026-03-02 12:00:00 UTC", "Resolved": "",
        "Acked": False, "Silenced until": ""}]
    assert table.iloc[0]["Message"].startswith("throttles: throttle rate at 2.50% (5 throttled of 200 attempts")
    # the state selector from the URL: nothing resolved yet
    at = dashboard_app(server.api_url, page="alerts", query={"state": "resolved"})
    assert at.radio(key="alerts_state").value == "resolved"
    assert any(i.value.startswith("No resolved alerts.") for i in at.info) and not at.dataframe
    at.radio(key="alerts_state").set_value("all").run()
    assert at.query_params["state"] == "all" and list(at.dataframe[0].value["ID"]) == [alert_id]


def test_alert_id_in_the_url_opens_its_history_and_deliveries(server_factory: Any, hook: Receiver,
                                                              dashboard_app: Any) -> None:
    server, alert_id = _firing(server_factory, hook)
    at = dashboard_app(server.api_url, page="alerts", query={"alert_id": str(alert_id)})
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader] == [f"#{alert_id} throttles — firing"]
    assert {m.label: m.value for m in at.metric} == {"Value": "2.5%", "Threshold": "1.0%", "Severity": "warning",
                                                     "Acknowledged": "no"}
    events, deliveries = at.dataframe[1].value, at.dataframe[2].value
    assert list(events["Event"]) == ["firing"] and list(events["Value"]) == ["2.5%"]
    assert deliveries[["Notice", "Channel", "Type", "Attempt", "Delivered"]].to_dict("records") == [
        {"Notice": "firing", "Channel": "ops", "Type": "webhook", "Attempt": 1, "Delivered": True}]
    assert any("/traces?from=2026-03-02T11%3A00%3A00Z" in m.value and "model=m1" in m.value for m in at.markdown)
    # picking "none" takes alert_id out of the URL
    at.selectbox(key="alerts_pick").set_value(None).run()
    assert "alert_id" not in at.query_params and not at.subheader


def test_acknowledge_and_silence_from_the_page_change_the_alert(server_factory: Any, hook: Receiver,
                                                                dashboard_app: Any) -> None:
    server, alert_id = _firing(server_factory, hook)
    at = dashboard_app(server.api_url, page="alerts", query={"alert_id": str(alert_id)})
    at.button(key="alert_ack").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"Alert #{alert_id} acknowledged."]
    assert _alert(server, alert_id)["alert"]["acked"] is True
    assert at.button(key="alert_ack").disabled  # redrawn from the server's answer
    assert {m.label: m.value for m in at.metric}["Acknowledged"] == "yes"
    at.text_input(key="alert_silence_comment").input("provider incident")
    _button(at, "Silence").click().run()
    assert not at.error
    detail = _alert(server, alert_id)
    assert detail["alert"]["silence_comment"] == "provider incident" and detail["alert"]["silenced_until"]
    assert [e["event"] for e in detail["events"]] == ["firing", "ack", "silence"]
    assert list(at.dataframe[1].value["Event"]) == ["firing", "ack", "silence"]
    assert at.success[0].value.startswith(f"Alert #{alert_id} silenced until ")


def test_admin_calls_refused_to_a_remote_dashboard_show_the_servers_message(
    server_factory: Any, hook: Receiver, dashboard_app: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # requests from 127.0.0.1 come through a trusted proxy: the server counts them as remote
    server, alert_id = _firing(server_factory, hook, trusted_proxies=["127.0.0.1"], admin_token="admin-secret")
    monkeypatch.delenv("OUTCROP_SERVER__ADMIN_TOKEN", raising=False)
    at = dashboard_app(server.api_url, page="alerts", query={"alert_id": str(alert_id)})
    at.button(key="alert_ack").click().run()
    (refusal,) = [e.value for e in at.error]
    assert refusal.startswith("Refused: server answered 401: ") and "answer only to local callers" in refusal
    assert _alert(server, alert_id)["alert"]["acked"] is False
    # with the admin token in the dashboard's settings the same click goes through
    monkeypatch.setenv("OUTCROP_SERVER__ADMIN_TOKEN", "admin-secret")
    at.button(key="alert_ack").click().run()
    assert not at.error and _alert(server, alert_id)["alert"]["acked"] is True


def test_an_unknown_alert_id_is_one_line(server_factory: Any, hook: Receiver, dashboard_app: Any) -> None:
    server, _ = _firing(server_factory, hook)
    at = dashboard_app(server.api_url, page="alerts", query={"alert_id": "999"})
    assert [e.value for e in at.error] == ["server answered 400: no alert with alert_id 999"]
    at = dashboard_app(server.api_url, page="alerts", query={"alert_id": "seven"})
    assert [w.value for w in at.warning] == ["alert_id='seven' is not an alert number"] and not at.error


def test_empty_database_says_where_rules_come_from(empty_server: RunningServer, dashboard_app: Any) -> None:
    at = dashboard_app(empty_server.api_url, page="alerts")
    assert not at.exception and not at.error
    assert any(i.value.startswith("No firing alerts.") and "[[alerts.rules]]" in i.value for i in at.info)


def test_api_down_is_one_line(api_down_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_down_url, page="alerts")
    assert not at.exception
    assert [e.value for e in at.error] == [f"cannot reach the server at {api_down_url}: [Errno 111] Connection refused"]


def test_api_error_shows_the_servers_message(api_error_url: str, dashboard_app: Any) -> None:
    at = dashboard_app(api_error_url, page="alerts", query={"alert_id": "1"})
    assert not at.exception
    assert [e.value for e in at.error] == [f"server answered 500: {ERROR_MESSAGE}"]
