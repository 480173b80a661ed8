-- usage: per group over [from, to): requests, errors, throttles and their rates, tokens by
-- kind, cache-hit share (cache reads / all input-side tokens), average RPM and TPM, mean
-- prompt and output tokens per request, cost and unpriced calls.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH t AS (
    SELECT g.g_tenant AS tenant, g.g_route AS route, g.g_workflow AS workflow,
           g.g_model AS model, g.g_region AS region,
           sum(requests)::BIGINT AS requests, sum(errors)::BIGINT AS errors,
           sum(throttles)::BIGINT AS throttles,
           -- NULL, never an error, for a sum that cannot be a real count (rows rolled up
           -- before the token bound, until the next rollup rewrites them)
           TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
           TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
           TRY_CAST(sum(reasoning_tokens) AS BIGINT) AS reasoning_tokens,
           sum(prompt_token_requests)::BIGINT AS prompt_token_requests,
           sum(output_token_requests)::BIGINT AS output_token_requests,
           sum(cost_usd)::DOUBLE AS cost_usd, sum(unpriced_requests)::BIGINT AS unpriced_requests
    FROM span_counts($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) c
    JOIN key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                      $f_tenant, $f_route, $f_workflow, $f_model, $f_region) g
      ON g.key_id = c.key_id
    GROUP BY ALL
)
SELECT tenant, route, workflow, model, region, requests, errors, throttles,
       errors / nullif(requests, 0) AS error_rate,
       throttles / nullif(requests, 0) AS throttle_rate,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
       -- token sums added as HUGEINT: each fits BIGINT, their total may not
       cache_read_tokens / nullif(coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
                                  + coalesce(cache_write_tokens, 0), 0) AS cache_hit_share,
       requests / $minutes AS avg_rpm,
       (coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
        + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) / $minutes AS avg_tpm,
       (coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
        + coalesce(cache_write_tokens, 0)) / nullif(prompt_token_requests, 0)
           AS input_tokens_per_request_mean,
       output_tokens / nullif(output_token_requests, 0) AS output_tokens_per_request_mean,
       cost_usd, unpriced_requests
FROM t
ORDER BY requests DESC, tenant, route, workflow, model, region;
