-- trace_cost: the cost of one request end to end: every LLM call of the trace summed,
-- retries and fallbacks included (each attempt is its own llm_calls row).
-- params: trace_id
-- grain: one row (zero calls and NULL cost when the trace has no LLM calls).
SELECT $trace_id AS trace_id, count(*) AS calls,
       count(*) FILTER (WHERE status = 'error') AS errors,
       count(*) FILTER (WHERE status = 'throttled') AS throttles,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
       sum(cost_usd) AS cost_usd,
       -- counts come bounded through call_costs (plausible_calls): NULL for implausible ones
       TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
       TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
       list(DISTINCT model ORDER BY model) AS models, min(ts) AS first_call, max(ts) AS last_call
FROM call_costs(
        (SELECT date_trunc('hour', min(ts)) FROM llm_calls WHERE trace_id = $trace_id),
        (SELECT date_trunc('hour', max(ts)) + INTERVAL 1 HOUR FROM llm_calls WHERE trace_id = $trace_id))
WHERE trace_id = $trace_id;
