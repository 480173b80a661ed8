-- capacity: per group over [from, to): peak-minute and average RPM and TPM (TPM counts
-- prompt tokens incl. cache reads/writes plus output tokens), the peak minute's quota
-- tokens (input + cache write + output x the model's burndown rate, the count Bedrock
-- holds against its TPM quota; docs/capacity.md), the application shape
-- (mean and p95 prompt and output tokens per request) and throttles. Peaks are the max
-- over minutes of the group's summed requests/tokens (each peak its own minute). Unless the read groups or filters by
-- route or workflow (then rollup_counts_1m, per key), they come from the day peaks of
-- the same grouping (rollup_peaks_1d) for whole days and rollup_capacity_1m (minute x
-- tenant x model x region) for the other minutes, or for all of them when a filter is on
-- a key not grouped. The rest comes from the tiled rollups.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH g AS (
    SELECT * FROM key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                             $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
), names AS (
    SELECT DISTINCT gid, g_tenant, g_route, g_workflow, g_model, g_region FROM g
), t AS (
    SELECT g.gid, sum(requests)::BIGINT AS requests, sum(throttles)::BIGINT AS throttles,
           -- added as HUGEINT and NULL, never an error, when the total cannot be a count
           TRY_CAST(sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
                        + coalesce(cache_write_tokens, 0)) AS BIGINT) AS prompt_tokens,
           TRY_CAST(sum(coalesce(output_tokens, 0)) AS BIGINT) AS output_tokens,
           sum(prompt_token_requests)::BIGINT AS prompt_token_requests,
           sum(output_token_requests)::BIGINT AS output_token_requests
    FROM span_counts($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) c
    JOIN g ON g.key_id = c.key_id
    GROUP BY g.gid
), per_minute AS (
    -- whole days: the day peaks of the same grouping (only when the read neither groups
    -- nor filters by route or workflow and filters only on grouped keys)
    SELECT tenant AS g_tenant, NULL::VARCHAR AS g_route, NULL::VARCHAR AS g_workflow,
           model AS g_model, region AS g_region, peak_rpm AS requests, peak_tpm AS tokens,
           peak_quota_tpm AS quota_tokens
    FROM rollup_peaks_1d
    WHERE NOT ($by_route OR $by_workflow OR $f_route IS NOT NULL OR $f_workflow IS NOT NULL)
      AND ($f_tenant IS NULL OR $by_tenant) AND ($f_model IS NULL OR $by_model)
      AND ($f_region IS NULL OR $by_region)
      AND bucket >= $d_lo AND bucket < $d_hi
      AND by_tenant = $by_tenant AND by_model = $by_model AND by_region = $by_region
      AND key_ok($f_tenant, tenant) AND key_ok($f_model, model) AND key_ok($f_region, region)
    UNION ALL
    -- the other minutes (all of them when the day peaks do not fit), summed per group
    SELECT g_tenant, NULL, NULL, g_model, g_region, sum(requests), sum(tokens), sum(quota_tokens)
    FROM (SELECT CASE WHEN $by_tenant THEN tenant END AS g_tenant,
                 CASE WHEN $by_model THEN model END AS g_model,
                 CASE WHEN $by_region THEN region END AS g_region, bucket, requests, tokens, quota_tokens
          FROM (SELECT * FROM rollup_capacity_1m
                WHERE bucket >= $lo
                  AND bucket < CASE WHEN ($f_tenant IS NULL OR $by_tenant) AND ($f_model IS NULL OR $by_model)
                                         AND ($f_region IS NULL OR $by_region) THEN $d_lo ELSE $d_hi END
                UNION ALL
                SELECT * FROM rollup_capacity_1m WHERE bucket >= $d_hi AND bucket < $hi)
          WHERE NOT ($by_route OR $by_workflow OR $f_route IS NOT NULL OR $f_workflow IS NOT NULL)
            AND key_ok($f_tenant, tenant) AND key_ok($f_model, model) AND key_ok($f_region, region))
    GROUP BY g_tenant, g_model, g_region, bucket
    UNION ALL
    -- grouped or filtered by route or workflow: minute rows per key
    SELECT n.g_tenant, n.g_route, n.g_workflow, n.g_model, n.g_region, m.requests, m.tokens, m.quota_tokens
    FROM (SELECT g.gid, c.bucket, sum(c.requests) AS requests,
                 sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_read_tokens, 0)
                     + coalesce(c.cache_write_tokens, 0) + coalesce(c.output_tokens, 0)) AS tokens,
                 sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_write_tokens, 0)
                     + round(coalesce(c.output_tokens, 0) * r.rate)::HUGEINT) AS quota_tokens
          -- the minute's price-class rows of each key summed first, so a fractional rate
          -- rounds the key's minute, as before the rows were split by price class
          FROM (SELECT bucket, key_id, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
                       sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
                       sum(output_tokens) AS output_tokens
                FROM rollup_counts_1m
                WHERE ($by_route OR $by_workflow OR $f_route IS NOT NULL OR $f_workflow IS NOT NULL)
                  AND bucket >= $lo AND bucket < $hi
                GROUP BY bucket, key_id) c
          JOIN g ON g.key_id = c.key_id
          JOIN rollup_keys k ON k.key_id = c.key_id JOIN model_burndown() r ON r.model = k.model
          GROUP BY ALL) m
    JOIN names n ON n.gid = m.gid
), peak AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           max(requests)::BIGINT AS peak_rpm, TRY_CAST(max(tokens) AS BIGINT) AS peak_tpm,
           TRY_CAST(max(quota_tokens) AS BIGINT) AS peak_quota_tpm
    FROM per_minute GROUP BY ALL
), b AS (
    SELECT * FROM group_bins(g, $by_route OR $by_workflow OR $f_route IS NOT NULL OR $f_workflow IS NOT NULL,
                             $lo, $d_lo, $d_hi, $hi)
    WHERE metric >= 3  -- prompt_tokens, output_tokens (metric numbers: rollup_bins_1d)
), p AS (
    SELECT gid,
           max(p95) FILTER (WHERE metric = 3) AS input_tokens_per_request_p95,
           max(p95) FILTER (WHERE metric = 4) AS output_tokens_per_request_p95
    FROM bin_percentiles(b)
    GROUP BY gid
)
SELECT n.g_tenant AS tenant, n.g_route AS route, n.g_workflow AS workflow,
       n.g_model AS model, n.g_region AS region, t.requests, t.throttles,
       t.throttles / nullif(t.requests, 0) AS throttle_rate,
       peak.peak_rpm, t.requests / $minutes AS avg_rpm,
       peak.peak_tpm, peak.peak_quota_tpm, (t.prompt_tokens::HUGEINT + t.output_tokens) / $minutes AS avg_tpm,
       t.prompt_tokens / nullif(t.prompt_token_requests, 0) AS input_tokens_per_request_mean,
       p.input_tokens_per_request_p95,
       t.output_tokens / nullif(t.output_token_requests, 0) AS output_tokens_per_request_mean,
       p.output_tokens_per_request_p95
FROM t JOIN names n ON n.gid = t.gid
LEFT JOIN peak
  ON n.g_tenant IS NOT DISTINCT FROM peak.g_tenant AND n.g_route IS NOT DISTINCT FROM peak.g_route
 AND n.g_workflow IS NOT DISTINCT FROM peak.g_workflow
 AND n.g_model IS NOT DISTINCT FROM peak.g_model AND n.g_region IS NOT DISTINCT FROM peak.g_region
LEFT JOIN p ON p.gid = t.gid
ORDER BY peak.peak_rpm DESC NULLS LAST, tenant, route, workflow, model, region;
