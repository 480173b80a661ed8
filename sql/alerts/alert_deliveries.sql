-- alert_deliveries: every delivery attempt of one alert instance's notifications and its
-- outcome, oldest first.
-- params: $alert_id = the instance
-- grain: one row per attempt and channel.
SELECT event, channel, channel_type, attempt, attempted_at, ok, error
FROM alert_deliveries
WHERE alert_id = $alert_id
ORDER BY attempted_at, channel, attempt
