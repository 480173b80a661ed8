-- cost: per group over [from, to): cost in USD, cost per priced request and per 1,000
-- priced requests, unpriced calls (no price for their model: cost unknown, never $0),
-- and the tokens the cost was computed from.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH t AS (
    SELECT g.g_tenant AS tenant, g.g_route AS route, g.g_workflow AS workflow,
           g.g_model AS model, g.g_region AS region,
           sum(requests)::BIGINT AS requests, sum(cost_usd)::DOUBLE AS cost_usd,
           sum(unpriced_requests)::BIGINT AS unpriced_requests,
           -- NULL, never an error, for a sum that cannot be a real count (rows rolled up
           -- before the token bound, until the next rollup rewrites them)
           TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
           TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens
    FROM span_counts($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) c
    JOIN key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                      $f_tenant, $f_route, $f_workflow, $f_model, $f_region) g
      ON g.key_id = c.key_id
    GROUP BY ALL
)
SELECT tenant, route, workflow, model, region, requests, cost_usd,
       cost_usd / nullif(requests - unpriced_requests, 0) AS cost_per_request_usd,
       1000 * cost_usd / nullif(requests - unpriced_requests, 0) AS cost_per_1k_requests_usd,
       unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
FROM t
ORDER BY cost_usd DESC NULLS LAST, tenant, route, workflow, model, region;
