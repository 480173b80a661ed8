-- latency: per group over [from, to): TTFT, TTLT (ms) and OTPS p50/p90/p95/p99 merged
-- from the rollup histograms (within 2% of the exact value), with request, error and
-- throttle counts beside them. TTFT only exists for streamed calls (DESIGN section 3).
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH t AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           sum(requests)::BIGINT AS requests, sum(errors)::BIGINT AS errors,
           sum(throttles)::BIGINT AS throttles
    FROM keyed_span($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi,
    $by_tenant, $by_route, $by_workflow, $by_model, $by_region,
    $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
    GROUP BY ALL
), p AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           max(p50) FILTER (WHERE metric = 'ttft') AS ttft_ms_p50,
           max(p90) FILTER (WHERE metric = 'ttft') AS ttft_ms_p90,
           max(p95) FILTER (WHERE metric = 'ttft') AS ttft_ms_p95,
           max(p99) FILTER (WHERE metric = 'ttft') AS ttft_ms_p99,
           max(p50) FILTER (WHERE metric = 'ttlt') AS ttlt_ms_p50,
           max(p90) FILTER (WHERE metric = 'ttlt') AS ttlt_ms_p90,
           max(p95) FILTER (WHERE metric = 'ttlt') AS ttlt_ms_p95,
           max(p99) FILTER (WHERE metric = 'ttlt') AS ttlt_ms_p99,
           max(p50) FILTER (WHERE metric = 'otps') AS otps_p50,
           max(p90) FILTER (WHERE metric = 'otps') AS otps_p90,
           max(p95) FILTER (WHERE metric = 'otps') AS otps_p95,
           max(p99) FILTER (WHERE metric = 'otps') AS otps_p99
    FROM span_percentiles($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi,
    $by_tenant, $by_route, $by_workflow, $by_model, $by_region,
    $f_tenant, $f_route, $f_workflow, $f_model, $f_region, ['ttft', 'ttlt', 'otps'])
    GROUP BY ALL
)
SELECT t.g_tenant AS tenant, t.g_route AS route, t.g_workflow AS workflow,
       t.g_model AS model, t.g_region AS region, t.requests, t.errors, t.throttles,
       t.errors / nullif(t.requests, 0) AS error_rate,
       t.throttles / nullif(t.requests, 0) AS throttle_rate,
       p.* EXCLUDE (g_tenant, g_route, g_workflow, g_model, g_region)
FROM t LEFT JOIN p
  ON t.g_tenant IS NOT DISTINCT FROM p.g_tenant AND t.g_route IS NOT DISTINCT FROM p.g_route
 AND t.g_workflow IS NOT DISTINCT FROM p.g_workflow AND t.g_model IS NOT DISTINCT FROM p.g_model
 AND t.g_region IS NOT DISTINCT FROM p.g_region
ORDER BY t.requests DESC, tenant, route, workflow, model, region;
