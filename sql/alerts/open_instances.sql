-- open_instances: the open (pending, firing or no_data) instances of one rule, one per group.
-- params: $1 = rule name
-- grain: one row per open alert instance.
SELECT alert_id, group_key, state, started_at, fired_at, notified_at, acked, silenced_until
FROM alert_instances
WHERE rule = $1 AND state <> 'resolved'
