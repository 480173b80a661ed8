-- list_instances: alert instances for `outcrop alerts list`, newest first.
-- params: $states = list of states to include
-- grain: one row per alert instance.
SELECT alert_id, rule, kind, group_key, state, severity, value, threshold, requests, message,
       started_at, fired_at, resolved_at, acked, silenced_until, silence_comment
FROM alert_instances
WHERE list_contains($states, state)
ORDER BY started_at DESC, alert_id DESC
