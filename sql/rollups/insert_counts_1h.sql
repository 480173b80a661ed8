-- insert_counts_1h: one row per hour x key x price class for every dirty hour, summed from
-- the minute rows insert_counts_1m has just written (sums of sums: no second pass over llm_calls).
-- Runs after insert_counts_1m.sql and delete_counts_1h.sql.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: hour
INSERT INTO rollup_counts_1h
    (bucket, key_id, price_class, requests, errors, throttles, streaming_requests, input_tokens,
     cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, prompt_token_requests,
     output_token_requests, provisioned_cost_usd, implausible_requests)
SELECT date_trunc('hour', bucket) AS bucket, key_id, price_class,
       sum(requests), sum(errors), sum(throttles), sum(streaming_requests),
       TRY_CAST(sum(input_tokens) AS BIGINT), TRY_CAST(sum(cache_read_tokens) AS BIGINT),
       TRY_CAST(sum(cache_write_tokens) AS BIGINT), TRY_CAST(sum(output_tokens) AS BIGINT),
       TRY_CAST(sum(reasoning_tokens) AS BIGINT),  -- NULL, not a failed run, if one does not fit
       sum(prompt_token_requests), sum(output_token_requests),
       sum(provisioned_cost_usd), sum(implausible_requests)
FROM rollup_counts_1m
WHERE bucket >= $lo AND bucket < $hi
  AND date_trunc('hour', bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
GROUP BY ALL;
