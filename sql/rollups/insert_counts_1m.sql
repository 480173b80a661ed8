-- insert_counts_1m: one row per minute x key (rollup_keys) for every dirty hour, from
-- llm_calls priced by call_costs: counts, token sums, cost and unpriced calls. Counts
-- come through plausible_calls (0005), so each is within the token bound; a sum that still
-- does not fit BIGINT is NULL (unknown) for its key rather than a failed run for every key.
-- Whole hours are priced together because a Provisioned Throughput hour is shared by its calls.
-- Runs after delete_counts_1m.sql in the same transaction.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: minute
INSERT INTO rollup_counts_1m
SELECT date_trunc('minute', ts) AS bucket,
       rollup_key_id(tenant, route, workflow, model, region) AS key_id,
       count(*) AS requests,
       count(*) FILTER (WHERE status = 'error') AS errors,
       count(*) FILTER (WHERE status = 'throttled') AS throttles,
       count(*) FILTER (WHERE streaming) AS streaming_requests,
       TRY_CAST(sum(input_tokens) AS BIGINT), TRY_CAST(sum(cache_read_tokens) AS BIGINT),
       TRY_CAST(sum(cache_write_tokens) AS BIGINT), TRY_CAST(sum(output_tokens) AS BIGINT),
       TRY_CAST(sum(reasoning_tokens) AS BIGINT),
       count(*) FILTER (WHERE input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
                          OR cache_write_tokens IS NOT NULL) AS prompt_token_requests,
       count(output_tokens) AS output_token_requests,
       -- exact, so hours and days sum it in any order; 38 digits hold any bounded call's cost
       sum(cost_usd::DECIMAL(38, 12)) AS cost_usd,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests
FROM call_costs($lo, $hi)
WHERE date_trunc('hour', ts) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
GROUP BY ALL;
