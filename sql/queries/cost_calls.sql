-- cost_calls: the `cost` report read from llm_calls itself, for groupings and filters the
-- rollups do not keep (prompt_version, feature, user_id): every call of [from, to) priced
-- by call_costs, as the rollups price it, and summed per group. Same columns as cost.sql
-- plus the three call keys; it scans the range's calls, so it is slower than the rollups.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH t AS (
    SELECT CASE WHEN $by_tenant THEN tenant END AS tenant, CASE WHEN $by_route THEN route END AS route,
           CASE WHEN $by_workflow THEN workflow END AS workflow, CASE WHEN $by_model THEN model END AS model,
           CASE WHEN $by_region THEN region END AS region,
           CASE WHEN $by_prompt_version THEN prompt_version END AS prompt_version,
           CASE WHEN $by_feature THEN feature END AS feature,
           CASE WHEN $by_user_id THEN user_id END AS user_id,
           count(*)::BIGINT AS requests, sum(cost_usd)::DOUBLE AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL)::BIGINT AS unpriced_requests,
           TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
           TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens
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
SELECT tenant, route, workflow, model, region, prompt_version, feature, user_id, requests, cost_usd,
       cost_usd / nullif(requests - unpriced_requests, 0) AS cost_per_request_usd,
       1000 * cost_usd / nullif(requests - unpriced_requests, 0) AS cost_per_1k_requests_usd,
       unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
FROM t
ORDER BY cost_usd DESC NULLS LAST, tenant, route, workflow, model, region, prompt_version, feature, user_id;
