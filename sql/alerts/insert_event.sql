-- insert_event: one step in an alert instance's history.
-- params: $1 = alert_id, $2 = at, $3 = event, $4 = value, $5 = detail
-- grain: one row per event.
INSERT INTO alert_events VALUES ($1, $2, $3, $4, $5)
