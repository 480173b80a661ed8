-- insert_bins_1m: the minute histograms of every dirty hour: one row per minute x key x
-- combination of the log-scale bins of TTFT, TTLT, OTPS, prompt tokens (input + cache
-- read + cache write, when any was reported) and output tokens, with its call count.
-- Calls come through plausible_calls (0005): implausible counts and their OTPS are NULL.
-- Runs after delete_bins_1m.sql in the same transaction.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: minute
INSERT INTO rollup_bins_1m
SELECT date_trunc('minute', ts) AS bucket,
       rollup_key_id(tenant, route, workflow, model, region) AS key_id,
       hist_bin(ttft_ms) AS ttft, hist_bin(ttlt_ms) AS ttlt, hist_bin(otps) AS otps,
       hist_bin(CASE WHEN input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
                       OR cache_write_tokens IS NOT NULL
                     THEN coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
                          + coalesce(cache_write_tokens, 0) END) AS prompt_tokens,
       hist_bin(output_tokens) AS output_tokens,
       count(*)::INTEGER AS n
FROM plausible_calls($lo, $hi)
WHERE date_trunc('hour', ts) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
GROUP BY ALL;
