-- trace_spans: every span of one trace, in start order, for the trace waterfall.
-- params: $trace_id (lower-case hex), $limit (the row cap plus one, which tells truncation)
-- grain: one row per span.
SELECT *
FROM spans
WHERE trace_id = $trace_id
ORDER BY start_time, span_id
LIMIT $limit
