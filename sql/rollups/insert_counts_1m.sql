-- insert_counts_1m: one row per minute x key (rollup_keys) x price class
-- (rollup_price_classes) for every dirty hour, from llm_calls: counts and token sums. Cost
-- is not stored: reads price the token sums of each class (priced_counts,
-- sql/macros/085_priced_counts.sql), so a changed price needs no rewrite. The exception is
-- a call served by Provisioned Throughput (pt_rates): its share of the hour is fixed here,
-- in provisioned_cost_usd, on a row whose price_class is NULL. Counts come through
-- plausible_calls (0005), so each is within the token bound; a sum that still does not
-- fit BIGINT is NULL (unknown) for its key rather than a failed run for every key.
-- Runs after upsert_price_classes.sql and delete_counts_1m.sql in the same transaction.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: minute
INSERT INTO rollup_counts_1m
    (bucket, key_id, price_class, requests, errors, throttles, streaming_requests, input_tokens,
     cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, prompt_token_requests,
     output_token_requests, provisioned_cost_usd, implausible_requests)
SELECT date_trunc('minute', c.ts) AS bucket,
       rollup_key_id(c.tenant, c.route, c.workflow, c.model, c.region) AS key_id,
       CASE WHEN pt.pclass IS NULL THEN c.pclass END AS price_class,
       count(*) AS requests,
       count(*) FILTER (WHERE c.status = 'error') AS errors,
       count(*) FILTER (WHERE c.status = 'throttled') AS throttles,
       count(*) FILTER (WHERE c.streaming) AS streaming_requests,
       TRY_CAST(sum(c.input_tokens) AS BIGINT), TRY_CAST(sum(c.cache_read_tokens) AS BIGINT),
       TRY_CAST(sum(c.cache_write_tokens) AS BIGINT), TRY_CAST(sum(c.output_tokens) AS BIGINT),
       TRY_CAST(sum(c.reasoning_tokens) AS BIGINT),
       count(*) FILTER (WHERE c.input_tokens IS NOT NULL OR c.cache_read_tokens IS NOT NULL
                          OR c.cache_write_tokens IS NOT NULL) AS prompt_token_requests,
       count(c.output_tokens) AS output_token_requests,
       -- exact, so hours and days sum it in any order; 38 digits hold any bounded call's cost
       sum(CASE WHEN NOT c.implausible_tokens
                THEN coalesce(pt.per_call, (coalesce(c.input_tokens, 0) + coalesce(c.cache_read_tokens, 0)
                                            + coalesce(c.cache_write_tokens, 0) + coalesce(c.output_tokens, 0))
                                           * pt.rate) END::DECIMAL(38, 12)) AS provisioned_cost_usd,
       count(*) FILTER (WHERE c.implausible_tokens) AS implausible_requests
FROM (SELECT *, price_class(model, region, inference_profile, operation) AS pclass
      FROM plausible_calls($lo, $hi)) c
LEFT JOIN pt_rates(rollup_price_classes, $lo, $hi) pt
       ON pt.pclass = c.pclass AND c.ts >= pt.lo AND c.ts < pt.hi
WHERE date_trunc('hour', c.ts) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
GROUP BY ALL;
