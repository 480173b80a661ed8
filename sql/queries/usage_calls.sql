-- usage_calls: the `usage` report read from llm_calls itself, for groupings and filters
-- the rollups do not keep (prompt_version, feature, user_id): every call of [from, to)
-- counted and priced by call_costs, as the rollups count and price it. Same columns as
-- usage.sql plus the three call keys; it scans the range's calls, so it is slower.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH t AS (
    SELECT CASE WHEN $by_tenant THEN tenant END AS tenant, CASE WHEN $by_route THEN route END AS route,
           CASE WHEN $by_workflow THEN workflow END AS workflow, CASE WHEN $by_model THEN model END AS model,
           CASE WHEN $by_region THEN region END AS region,
           CASE WHEN $by_prompt_version THEN prompt_version END AS prompt_version,
           CASE WHEN $by_feature THEN feature END AS feature,
           CASE WHEN $by_user_id THEN user_id END AS user_id,
           count(*)::BIGINT AS requests,
           count(*) FILTER (WHERE status = 'error')::BIGINT AS errors,
           count(*) FILTER (WHERE status = 'throttled')::BIGINT AS throttles,
           TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
           TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
           TRY_CAST(sum(reasoning_tokens) AS BIGINT) AS reasoning_tokens,
           count(*) FILTER (WHERE input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
                              OR cache_write_tokens IS NOT NULL)::BIGINT AS prompt_token_requests,
           count(output_tokens)::BIGINT AS output_token_requests,
           sum(cost_usd)::DOUBLE AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL)::BIGINT AS unpriced_requests
    -- whole hours priced together (a Provisioned Throughput hour is shared by its calls),
    -- then only the calls of the range
    FROM call_costs($hour_lo, $hour_hi)
    WHERE ts >= $lo AND ts < $hi
      AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
      AND key_ok($f_model, model) AND key_ok($f_region, region)
      AND key_ok($f_prompt_version, prompt_version) AND key_ok($f_feature, feature)
      AND key_ok($f_user_id, user_id)
    GROUP BY ALL
)
SELECT tenant, route, workflow, model, region, prompt_version, feature, user_id,
       requests, errors, throttles,
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
ORDER BY requests DESC, tenant, route, workflow, model, region, prompt_version, feature, user_id;
