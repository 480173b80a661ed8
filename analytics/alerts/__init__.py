"""Alert rules over the stored calls: evaluation, the alert lifecycle and delivery.

`evaluate_alerts` is the scheduled job `alerts` and `outcrop alerts evaluate`; the rest
are the ack, silence and list calls of `outcrop alerts`.
"""

from outcrop.analytics.alerts.evaluate import ack_alert, evaluate_alerts, list_alerts, silence_alert

__all__ = ["ack_alert", "evaluate_alerts", "list_alerts", "silence_alert"]
