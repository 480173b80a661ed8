-- latency: per group over [from, to): TTFT, TTLT (ms) and OTPS p50/p90/p95/p99 merged
-- from the rollup histograms (within 2% of the exact value), with request, error and
-- throttle counts beside them. TTFT only exists for streamed calls (a
-- non-streamed call's first token is its last).
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH g AS (
    SELECT * FROM key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                             $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
), t AS (
    SELECT g.gid, sum(requests)::BIGINT AS requests, sum(errors)::BIGINT AS errors,
           sum(throttles)::BIGINT AS throttles
    FROM span_counts($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) c
    JOIN g ON g.key_id = c.key_id
    GROUP BY g.gid
), b AS (
    SELECT * FROM group_bins(g, $by_route OR $by_workflow OR $f_route IS NOT NULL OR $f_workflow IS NOT NULL,
                             $lo, $d_lo, $d_hi, $hi)
    WHERE metric <= 2  -- ttft, ttlt, otps (metric numbers: rollup_bins_1d)
), p AS (
    SELECT gid,
           max(p50) FILTER (WHERE metric = 0) AS ttft_ms_p50,
           max(p90) FILTER (WHERE metric = 0) AS ttft_ms_p90,
           max(p95) FILTER (WHERE metric = 0) AS ttft_ms_p95,
           max(p99) FILTER (WHERE metric = 0) AS ttft_ms_p99,
           max(p50) FILTER (WHERE metric = 1) AS ttlt_ms_p50,
           max(p90) FILTER (WHERE metric = 1) AS ttlt_ms_p90,
           max(p95) FILTER (WHERE metric = 1) AS ttlt_ms_p95,
           max(p99) FILTER (WHERE metric = 1) AS ttlt_ms_p99,
           max(p50) FILTER (WHERE metric = 2) AS otps_p50,
           max(p90) FILTER (WHERE metric = 2) AS otps_p90,
           max(p95) FILTER (WHERE metric = 2) AS otps_p95,
           max(p99) FILTER (WHERE metric = 2) AS otps_p99
    FROM bin_percentiles(b)
    GROUP BY gid
), names AS (
    SELECT DISTINCT gid, g_tenant, g_route, g_workflow, g_model, g_region FROM g
)
SELECT n.g_tenant AS tenant, n.g_route AS route, n.g_workflow AS workflow,
       n.g_model AS model, n.g_region AS region, t.requests, t.errors, t.throttles,
       t.errors / nullif(t.requests, 0) AS error_rate,
       t.throttles / nullif(t.requests, 0) AS throttle_rate,
       p.* EXCLUDE (gid)
FROM t JOIN names n ON n.gid = t.gid LEFT JOIN p ON p.gid = t.gid
ORDER BY t.requests DESC, tenant, route, workflow, model, region;
