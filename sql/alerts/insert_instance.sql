-- insert_instance: a new alert instance for a rule and group whose breach was first seen now.
-- params: $1 = rule, $2 = kind, $3 = group_key, $4 = state, $5 = severity, $6 = value, $7 = threshold, $8 = requests, $9 = message, $10 = started_at, $11 = fired_at
-- grain: one row, the new alert_id.
INSERT INTO alert_instances
    (alert_id, rule, kind, group_key, state, severity, value, threshold, requests, message,
     started_at, fired_at, resolved_at, evaluated_at, notified_at, acked, silenced_until, silence_comment)
VALUES (nextval('alert_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $10, NULL, false, NULL, NULL)
RETURNING alert_id
