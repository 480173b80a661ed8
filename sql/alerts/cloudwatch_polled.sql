-- cloudwatch_polled: whether any CloudWatch AWS/Bedrock minute of the window was polled, so
-- a throttle rule reads the metrics only where the poller runs.
-- params: $lo = window start, $hi = window end (exclusive)
-- grain: zero or one row.
SELECT 1 FROM bedrock_metrics_1m WHERE ts >= $lo AND ts < $hi LIMIT 1
