-- trace_cost: the cost of one request end to end: every LLM call of the trace summed,
-- retries and fallbacks included (each attempt is its own llm_calls row).
-- params: trace_id
-- grain: one row (zero calls and NULL cost when the trace has no LLM calls).
SELECT $trace_id AS trace_id, count(*) AS calls,
       count(*) FILTER (WHERE status = 'error') AS errors,
       count(*) FILTER (WHERE status = 'throttled') AS throttles,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
       sum(cost_usd) AS cost_usd,
       sum(input_tokens)::BIGINT AS input_tokens, sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(cache_write_tokens)::BIGINT AS cache_write_tokens,
       sum(output_tokens)::BIGINT AS output_tokens,
       list(DISTINCT model ORDER BY model) AS models, min(ts) AS first_call, max(ts) AS last_call
FROM call_costs(
        (SELECT date_trunc('hour', min(ts)) FROM llm_calls WHERE trace_id = $trace_id),
        (SELECT date_trunc('hour', max(ts)) + INTERVAL 1 HOUR FROM llm_calls WHERE trace_id = $trace_id))
WHERE trace_id = $trace_id;
