-- get_instance: one alert instance with every column `outcrop alerts list` shows.
-- params: $alert_id = the instance
-- grain: zero or one row.
SELECT alert_id, rule, kind, group_key, state, severity, value, threshold, requests, message,
       started_at, fired_at, resolved_at, acked, silenced_until, silence_comment
FROM alert_instances
WHERE alert_id = $alert_id
