-- alert_events: the history of one alert instance, oldest first: every state change,
-- re-notification, acknowledgement and silence.
-- params: $alert_id = the instance
-- grain: one row per event.
SELECT event_at, event, value, detail
FROM alert_events
WHERE alert_id = $alert_id
ORDER BY event_at, rowid
