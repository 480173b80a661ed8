-- insert_1d: one row per complete day x tenant x route x workflow x model x region, computed from
-- llm_calls (priced by call_costs) for every dirty day: counts, token sums, cost, unpriced
-- calls, and log-scale histograms of TTFT, TTLT, OTPS and prompt/output tokens per call.
-- Parameters: $lo, $hi (TIMESTAMP, day-aligned): bounds of the dirty days. Whole
-- hours are priced together because a Provisioned Throughput hour is shared by its calls.
-- Grain: day. Runs after delete_1d.sql in the same transaction.
INSERT INTO rollup_1d
SELECT date_trunc('day', ts) AS bucket, tenant, route, workflow,
       coalesce(model, 'unknown') AS model, coalesce(region, 'unknown') AS region,
       count(*) AS requests,
       count(*) FILTER (WHERE status = 'error') AS errors,
       count(*) FILTER (WHERE status = 'throttled') AS throttles,
       count(*) FILTER (WHERE streaming) AS streaming_requests,
       sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(output_tokens), sum(reasoning_tokens),
       count(*) FILTER (WHERE input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
                          OR cache_write_tokens IS NOT NULL) AS prompt_token_requests,
       count(output_tokens) AS output_token_requests,
       sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
       histogram(hist_bin(ttft_ms)), histogram(hist_bin(ttlt_ms)), histogram(hist_bin(otps)),
       histogram(hist_bin(CASE WHEN input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
                                 OR cache_write_tokens IS NOT NULL
                               THEN coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
                                    + coalesce(cache_write_tokens, 0) END)),
       histogram(hist_bin(output_tokens))
FROM call_costs($lo, $hi)
WHERE date_trunc('day', ts) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
GROUP BY ALL;
