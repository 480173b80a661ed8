-- insert_delivery: one delivery attempt of a notification to a channel, and its outcome.
-- params: $1 = alert_id, $2 = event, $3 = channel, $4 = channel_type, $5 = attempt, $6 = at, $7 = ok, $8 = error
-- grain: one row per attempt.
INSERT INTO alert_deliveries VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
