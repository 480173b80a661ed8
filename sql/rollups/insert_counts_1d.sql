-- insert_counts_1d: one row per complete day x key x price class for every dirty day,
-- summed from rollup_counts_1h (every hour with calls is already there, this run's included).
-- Runs after the hour rewrite and delete_counts_1d.sql.
-- params: $lo = start of the dirty days, $hi = end of the dirty days (TIMESTAMP, day-aligned)
-- grain: day
INSERT INTO rollup_counts_1d
    (bucket, key_id, price_class, requests, errors, throttles, streaming_requests, input_tokens,
     cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, prompt_token_requests,
     output_token_requests, provisioned_cost_usd, implausible_requests)
SELECT date_trunc('day', bucket) AS bucket, key_id, price_class,
       sum(requests), sum(errors), sum(throttles), sum(streaming_requests),
       TRY_CAST(sum(input_tokens) AS BIGINT), TRY_CAST(sum(cache_read_tokens) AS BIGINT),
       TRY_CAST(sum(cache_write_tokens) AS BIGINT), TRY_CAST(sum(output_tokens) AS BIGINT),
       TRY_CAST(sum(reasoning_tokens) AS BIGINT),  -- NULL, not a failed run, if one does not fit
       sum(prompt_token_requests), sum(output_token_requests),
       sum(provisioned_cost_usd), sum(implausible_requests)
FROM rollup_counts_1h
WHERE bucket >= $lo AND bucket < $hi
  AND date_trunc('day', bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
GROUP BY ALL;
