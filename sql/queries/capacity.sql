-- capacity: per group over [from, to): peak-minute and average RPM and TPM (TPM counts
-- prompt tokens incl. cache reads/writes plus output tokens), the application shape
-- (mean and p95 prompt and output tokens per request) and throttles. Peaks come from
-- minute rows: the small rollup_capacity_1m when only model and region are grouped or
-- filtered (the quota view, DESIGN section 6), else rollup_counts_1m; the rest from the
-- tiled rollups.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH g AS (
    SELECT * FROM key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                             $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
), names AS (
    SELECT DISTINCT gid, g_tenant, g_route, g_workflow, g_model, g_region FROM g
), small AS (
    SELECT NOT ($by_tenant OR $by_route OR $by_workflow) AND $f_tenant IS NULL
           AND $f_route IS NULL AND $f_workflow IS NULL AS yes
), t AS (
    SELECT g.gid, sum(requests)::BIGINT AS requests, sum(throttles)::BIGINT AS throttles,
           sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
               + coalesce(cache_write_tokens, 0))::BIGINT AS prompt_tokens,
           sum(coalesce(output_tokens, 0))::BIGINT AS output_tokens,
           sum(prompt_token_requests)::BIGINT AS prompt_token_requests,
           sum(output_token_requests)::BIGINT AS output_token_requests
    FROM span_counts($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) c
    JOIN g ON g.key_id = c.key_id
    GROUP BY g.gid
), per_minute AS (
    SELECT NULL::VARCHAR AS g_tenant, NULL::VARCHAR AS g_route, NULL::VARCHAR AS g_workflow,
           CASE WHEN $by_model THEN model END AS g_model,
           CASE WHEN $by_region THEN region END AS g_region,
           bucket, sum(requests) AS requests, sum(tokens) AS tokens
    FROM rollup_capacity_1m
    WHERE (SELECT yes FROM small) AND bucket >= $lo AND bucket < $hi
      AND key_ok($f_model, model) AND key_ok($f_region, region)
    GROUP BY ALL
    UNION ALL
    SELECT n.g_tenant, n.g_route, n.g_workflow, n.g_model, n.g_region, m.bucket, m.requests, m.tokens
    FROM (SELECT g.gid, c.bucket, sum(c.requests) AS requests,
                 sum(coalesce(c.input_tokens, 0) + coalesce(c.cache_read_tokens, 0)
                     + coalesce(c.cache_write_tokens, 0) + coalesce(c.output_tokens, 0)) AS tokens
          FROM rollup_counts_1m c JOIN g ON g.key_id = c.key_id
          WHERE NOT (SELECT yes FROM small) AND c.bucket >= $lo AND c.bucket < $hi
          GROUP BY ALL) m
    JOIN names n ON n.gid = m.gid
), peak AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           max(requests)::BIGINT AS peak_rpm, max(tokens)::BIGINT AS peak_tpm
    FROM per_minute GROUP BY ALL
), b AS (
    SELECT g.gid, s.metric, s.bin, s.n
    FROM span_bins($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) s
    JOIN g ON g.key_id = s.key_id
    WHERE s.metric >= 3  -- prompt_tokens, output_tokens (metric numbers: rollup_bins_1d)
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
       peak.peak_tpm, (t.prompt_tokens + t.output_tokens) / $minutes AS avg_tpm,
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
