"""Delivery of alert notifications: generic webhook, Slack incoming webhook, Amazon SNS.

Every (notification, channel) pair is delivered on its own worker thread with tenacity's
retries and exponential backoff, each attempt bounded by alerts.delivery_timeout_seconds,
so a receiver that fails or hangs costs only its own bounded time and never stops the
other channels. Every attempt comes back as a row for `alert_deliveries`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
import orjson
from tenacity import RetryError, Retrying, stop_after_attempt, wait_exponential

from outcrop.core.clock import utcnow
from outcrop.core.settings import AlertChannel, Settings

log = logging.getLogger(__name__)

# alert_deliveries row: alert_id, event, channel, channel_type, attempt, attempted_at, ok, error
Delivery = tuple[int, str, str, str, int, datetime, bool, str | None]
_MAX_WORKERS = 8
_MAX_ERROR_CHARS = 500


class NoticeRule(Protocol):
    """What a notification needs of what fired: an alert rule or a budget's threshold."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def channels(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Notification:
    alert_id: int
    event: str  # firing | renotify | resolved
    rule: NoticeRule
    group: dict[str, Any]
    state: str
    value: float | None
    message: str
    started_at: datetime

    def body(self, dashboard_url: str | None = None) -> dict[str, Any]:
        """The webhook's JSON body; `url` is the alert's dashboard view when
        alerts.dashboard_url is set, else null."""
        return {"alert_id": self.alert_id, "event": self.event, "rule": self.rule.name, "kind": self.rule.kind,
                "group": self.group, "state": self.state, "severity": self.rule.severity, "value": self.value,
                "threshold": self.rule.threshold, "message": self.message,
                "started_at": self.started_at.isoformat() + "Z", "url": self.view_url(dashboard_url)}

    def view_url(self, dashboard_url: str | None) -> str | None:
        if dashboard_url is None:
            return None
        return f"{dashboard_url.rstrip('/')}/alerts?alert_id={self.alert_id}"

    def text(self, dashboard_url: str | None = None) -> str:
        """A readable one-paragraph form for Slack and SNS."""
        mark = {"firing": "FIRING", "renotify": "STILL FIRING", "resolved": "RESOLVED"}[self.event]
        since = f"{self.started_at:%Y-%m-%d %H:%M} UTC"
        link = self.view_url(dashboard_url)
        view = f" {link}" if link else ""
        return f"[{mark}] [{self.rule.severity}] {self.message} (alert {self.alert_id}, since {since}){view}"


def deliver_all(notices: Sequence[Notification], settings: Settings, backoff_seconds: float) -> list[Delivery]:
    """Send each notification to each of its rule's channels; every attempt as a row."""
    tasks = [(n, name, settings.alerts.channels[name]) for n in notices for name in n.rule.channels]
    if not tasks:
        return []
    senders = _Senders(settings, any(channel.type == "sns" for _, _, channel in tasks))
    with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(tasks))) as pool:
        results = pool.map(lambda t: _deliver(t[0], t[1], t[2], senders, settings, backoff_seconds), tasks)
        return [row for rows in results for row in rows]


def _deliver(notice: Notification, name: str, channel: AlertChannel, senders: _Senders, settings: Settings,
             backoff_seconds: float) -> list[Delivery]:
    rows: list[Delivery] = []
    send = senders.sender(channel)
    retrying = Retrying(stop=stop_after_attempt(settings.alerts.delivery_attempts),
                        wait=wait_exponential(multiplier=backoff_seconds, max=30 * backoff_seconds))
    try:
        for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                try:
                    send(notice)
                except Exception as exc:
                    rows.append((notice.alert_id, notice.event, name, channel.type, number, utcnow(), False,
                                 _describe(exc)))
                    raise
                rows.append((notice.alert_id, notice.event, name, channel.type, number, utcnow(), True, None))
    except RetryError:
        log.warning("alert %d: channel %s failed %d times", notice.alert_id, name, len(rows))
    return rows


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"receiver answered {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS]


class _Senders:
    """One httpx client and, when an SNS channel is used, the boto3 SNS client."""

    def __init__(self, settings: Settings, with_sns: bool) -> None:
        from outcrop.core.aws import AwsClients

        self._timeout = settings.alerts.delivery_timeout_seconds
        self._dashboard = settings.alerts.dashboard_url
        # built before the worker threads start; boto3 clients are thread-safe once built
        self._sns: Any = AwsClients(settings.aws).client("sns") if with_sns else None

    def sender(self, channel: AlertChannel) -> Callable[[Notification], None]:
        if channel.type == "sns":
            return lambda n: self._publish(channel, n)
        if channel.type == "slack":
            return lambda n: self._post(channel, {"text": n.text(self._dashboard)})
        return lambda n: self._post(channel, n.body(self._dashboard))

    def _post(self, channel: AlertChannel, body: dict[str, Any]) -> None:
        assert channel.url is not None  # the settings require it for webhook and slack
        # redirects are not followed: a receiver must not steer alerts to another host
        response = httpx.post(channel.url, content=orjson.dumps(body), timeout=self._timeout,
                              headers={"content-type": "application/json"}, follow_redirects=False)
        response.raise_for_status()

    def _publish(self, channel: AlertChannel, notice: Notification) -> None:
        subject = f"[{notice.event}] {notice.rule.name}"[:100]  # SNS caps subjects at 100 chars
        self._sns.publish(TopicArn=channel.topic_arn, Subject=subject, Message=notice.text(self._dashboard))
