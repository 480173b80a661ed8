-- timeseries: per time bucket and group over [from, to), for charts: requests, errors,
-- throttles, tokens, cost, unpriced calls and TTFT/TTLT p50/p95 and OTPS p50.
-- Buckets of $grain: '1m' reads the minute tables, '1h' the hour counts and the minute
-- histograms summed by hour, '1d' the same summed by day (so the current, incomplete
-- day is included).
-- params: from, to, grain, by, where
-- grain: one row per bucket x group of the keys in `by`; other key columns are NULL.
WITH g AS (
    SELECT * FROM key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                             $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
), names AS (
    SELECT DISTINCT gid, g_tenant, g_route, g_workflow, g_model, g_region FROM g
), step AS (
    SELECT CASE $grain WHEN '1m' THEN 'minute' WHEN '1h' THEN 'hour' ELSE 'day' END AS name
), rows AS (
    SELECT * FROM rollup_counts_1m WHERE $grain = '1m' AND bucket >= $lo AND bucket < $hi
    UNION ALL
    SELECT * FROM rollup_counts_1h WHERE $grain IN ('1h', '1d') AND bucket >= $lo AND bucket < $hi
), src AS (
    SELECT * FROM priced_counts(rows)  -- cost at read time (sql/macros/085_priced_counts.sql)
), t AS (
    SELECT date_trunc((SELECT name FROM step), c.bucket) AS bucket, g.gid,
           sum(requests)::BIGINT AS requests, sum(errors)::BIGINT AS errors,
           sum(throttles)::BIGINT AS throttles,
           -- NULL, never an error, for a sum that cannot be a real count
           TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
           TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
           sum(cost_usd)::DOUBLE AS cost_usd, sum(unpriced_requests)::BIGINT AS unpriced_requests
    FROM src c JOIN g ON g.key_id = c.key_id
    GROUP BY ALL
), b AS (
    SELECT {'bucket': s.bucket, 'gid': g.gid} AS gid, s.metric, s.bin, s.n
    FROM minute_bins($lo, $hi, (SELECT name FROM step)) s JOIN g ON g.key_id = s.key_id
    WHERE s.metric <= 2  -- ttft, ttlt, otps (metric numbers: rollup_bins_1d)
), p AS (
    SELECT gid.bucket AS bucket, gid.gid AS gid,
           max(p50) FILTER (WHERE metric = 0) AS ttft_ms_p50,
           max(p95) FILTER (WHERE metric = 0) AS ttft_ms_p95,
           max(p50) FILTER (WHERE metric = 1) AS ttlt_ms_p50,
           max(p95) FILTER (WHERE metric = 1) AS ttlt_ms_p95,
           max(p50) FILTER (WHERE metric = 2) AS otps_p50
    FROM bin_percentiles(b)
    GROUP BY ALL
)
SELECT t.bucket, n.g_tenant AS tenant, n.g_route AS route, n.g_workflow AS workflow,
       n.g_model AS model, n.g_region AS region,
       t.* EXCLUDE (bucket, gid),
       p.ttft_ms_p50, p.ttft_ms_p95, p.ttlt_ms_p50, p.ttlt_ms_p95, p.otps_p50
FROM t JOIN names n ON n.gid = t.gid
LEFT JOIN p ON p.bucket = t.bucket AND p.gid = t.gid
ORDER BY t.bucket, tenant, route, workflow, model, region;
