-- top_traces: the most expensive traces (requests) in [from, to), every LLM call of each
-- trace summed, retries and fallbacks included. Reads llm_calls through call_costs, so a
-- call with implausible token counts adds no tokens and no cost (it is an unpriced call).
-- params: from, to, where, limit
-- grain: one row per trace, at most $limit rows, most expensive first.
SELECT trace_id, min(tenant) AS tenant, min(route) AS route, min(workflow) AS workflow,
       count(*) AS calls, sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
       -- counts come bounded through call_costs (plausible_calls); added as HUGEINT anyway
       TRY_CAST(sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
                    + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) AS BIGINT) AS tokens,
       min(ts) AS first_call
FROM call_costs($hour_lo, $hour_hi)
WHERE trace_id IS NOT NULL AND ts >= $lo AND ts < $hi
  AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
  AND key_ok($f_model, coalesce(model, 'unknown')) AND key_ok($f_region, coalesce(region, 'unknown'))
GROUP BY trace_id
ORDER BY cost_usd DESC NULLS LAST, trace_id
LIMIT $limit;
