-- call_cost: the cost of one call, on demand, with what it was priced from: the scope
-- (in_region | geo | global), batch flag, token counts and the price source
-- (genai-prices | override | provisioned; NULL = unpriced). The whole hour is read
-- because a Provisioned Throughput hour is shared among the calls it served.
-- implausible_tokens: a stored count was outside the token bound, so counts and cost are NULL.
-- params: call_id
-- grain: one row (none when the call is unknown).
SELECT call_id, trace_id, ts, tenant, route, workflow, operation, model, region, scope,
       is_batch(operation) AS batch, status, input_tokens, cache_read_tokens,
       cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, price_source,
       implausible_tokens
FROM call_costs(
        (SELECT date_trunc('hour', ts) FROM llm_calls WHERE call_id = $call_id),
        (SELECT date_trunc('hour', ts) + INTERVAL 1 HOUR FROM llm_calls WHERE call_id = $call_id))
WHERE call_id = $call_id;
