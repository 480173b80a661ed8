-- mark_notified: when an instance's last firing notification went out (re-notification clock).
-- params: $1 = alert_id, $2 = notified_at
UPDATE alert_instances SET notified_at = $2 WHERE alert_id = $1
