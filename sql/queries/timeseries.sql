-- timeseries: per time bucket and group over [from, to), for charts: requests, errors,
-- throttles, tokens, cost, unpriced calls and TTFT/TTLT p50/p95 and OTPS p50.
-- Buckets of $grain: '1m' reads rollup_1m, '1h' rollup_1h, '1d' rollup_1h summed by
-- day (so the current, incomplete day is included).
-- params: from, to, grain, by, where
-- grain: one row per bucket x group of the keys in `by`; other key columns are NULL.
WITH src AS (
    SELECT bucket, * EXCLUDE (bucket) FROM rollup_1m
     WHERE $grain = '1m' AND bucket >= $lo AND bucket < $hi
    UNION ALL
    SELECT CASE WHEN $grain = '1d' THEN date_trunc('day', bucket) ELSE bucket END,
           * EXCLUDE (bucket) FROM rollup_1h
     WHERE $grain IN ('1h', '1d') AND bucket >= $lo AND bucket < $hi
), keyed AS (
    SELECT bucket,
           CASE WHEN $by_tenant THEN tenant END AS g_tenant,
           CASE WHEN $by_route THEN route END AS g_route,
           CASE WHEN $by_workflow THEN workflow END AS g_workflow,
           CASE WHEN $by_model THEN model END AS g_model,
           CASE WHEN $by_region THEN region END AS g_region, *
    FROM src
    WHERE key_ok($f_tenant, tenant) AND key_ok($f_route, route)
      AND key_ok($f_workflow, workflow) AND key_ok($f_model, model)
      AND key_ok($f_region, region)
), t AS (
    SELECT bucket, g_tenant, g_route, g_workflow, g_model, g_region,
           sum(requests)::BIGINT AS requests, sum(errors)::BIGINT AS errors,
           sum(throttles)::BIGINT AS throttles,
           sum(input_tokens)::BIGINT AS input_tokens, sum(output_tokens)::BIGINT AS output_tokens,
           sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
           sum(cache_write_tokens)::BIGINT AS cache_write_tokens,
           sum(cost_usd) AS cost_usd, sum(unpriced_requests)::BIGINT AS unpriced_requests
    FROM keyed GROUP BY ALL
), long AS (
    SELECT bucket, g_tenant, g_route, g_workflow, g_model, g_region, 'ttft' AS metric,
           unnest(map_keys(ttft_hist)) AS k, unnest(map_values(ttft_hist)) AS n FROM keyed
    UNION ALL
    SELECT bucket, g_tenant, g_route, g_workflow, g_model, g_region, 'ttlt',
           unnest(map_keys(ttlt_hist)), unnest(map_values(ttlt_hist)) FROM keyed
    UNION ALL
    SELECT bucket, g_tenant, g_route, g_workflow, g_model, g_region, 'otps',
           unnest(map_keys(otps_hist)), unnest(map_values(otps_hist)) FROM keyed
), running AS (
    SELECT *, sum(n) OVER (PARTITION BY bucket, g_tenant, g_route, g_workflow, g_model,
                                        g_region, metric ORDER BY k ROWS UNBOUNDED PRECEDING) AS c,
              sum(n) OVER (PARTITION BY bucket, g_tenant, g_route, g_workflow, g_model,
                                        g_region, metric) AS total
    FROM (SELECT bucket, g_tenant, g_route, g_workflow, g_model, g_region, metric, k,
                 sum(n) AS n FROM long GROUP BY ALL)
), p AS (
    SELECT bucket, g_tenant, g_route, g_workflow, g_model, g_region,
           hist_quantile(min(k) FILTER (WHERE metric = 'ttft' AND c > floor(0.50 * (total - 1))),
                         min(k) FILTER (WHERE metric = 'ttft' AND c > floor(0.50 * (total - 1)) + 1),
                         0.50 * (max(total) FILTER (WHERE metric = 'ttft') - 1)) AS ttft_ms_p50,
           hist_quantile(min(k) FILTER (WHERE metric = 'ttft' AND c > floor(0.95 * (total - 1))),
                         min(k) FILTER (WHERE metric = 'ttft' AND c > floor(0.95 * (total - 1)) + 1),
                         0.95 * (max(total) FILTER (WHERE metric = 'ttft') - 1)) AS ttft_ms_p95,
           hist_quantile(min(k) FILTER (WHERE metric = 'ttlt' AND c > floor(0.50 * (total - 1))),
                         min(k) FILTER (WHERE metric = 'ttlt' AND c > floor(0.50 * (total - 1)) + 1),
                         0.50 * (max(total) FILTER (WHERE metric = 'ttlt') - 1)) AS ttlt_ms_p50,
           hist_quantile(min(k) FILTER (WHERE metric = 'ttlt' AND c > floor(0.95 * (total - 1))),
                         min(k) FILTER (WHERE metric = 'ttlt' AND c > floor(0.95 * (total - 1)) + 1),
                         0.95 * (max(total) FILTER (WHERE metric = 'ttlt') - 1)) AS ttlt_ms_p95,
           hist_quantile(min(k) FILTER (WHERE metric = 'otps' AND c > floor(0.50 * (total - 1))),
                         min(k) FILTER (WHERE metric = 'otps' AND c > floor(0.50 * (total - 1)) + 1),
                         0.50 * (max(total) FILTER (WHERE metric = 'otps') - 1)) AS otps_p50
    FROM running GROUP BY ALL
)
SELECT t.bucket, t.g_tenant AS tenant, t.g_route AS route, t.g_workflow AS workflow,
       t.g_model AS model, t.g_region AS region,
       t.* EXCLUDE (bucket, g_tenant, g_route, g_workflow, g_model, g_region),
       p.ttft_ms_p50, p.ttft_ms_p95, p.ttlt_ms_p50, p.ttlt_ms_p95, p.otps_p50
FROM t LEFT JOIN p
  ON t.bucket = p.bucket
 AND t.g_tenant IS NOT DISTINCT FROM p.g_tenant AND t.g_route IS NOT DISTINCT FROM p.g_route
 AND t.g_workflow IS NOT DISTINCT FROM p.g_workflow AND t.g_model IS NOT DISTINCT FROM p.g_model
 AND t.g_region IS NOT DISTINCT FROM p.g_region
ORDER BY t.bucket, tenant, route, workflow, model, region;
