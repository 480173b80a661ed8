-- update_instance: the outcome of one evaluation for an open instance.
-- params: $1 = alert_id, $2 = state, $3 = value, $4 = requests, $5 = message, $6 = fired_at, $7 = resolved_at, $8 = evaluated_at, $9 = threshold, $10 = severity
UPDATE alert_instances
SET state = $2, value = coalesce($3, value), requests = $4, message = $5, fired_at = $6,
    resolved_at = $7, evaluated_at = $8, threshold = $9, severity = $10
WHERE alert_id = $1
