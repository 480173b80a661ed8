-- daily_cost: cost and requests per UTC day and group over [from, to), for budget
-- forecasts and charts: the range's tiles as the cost query reads them (whole days from
-- rollup_counts_1d, the edges from the hour and minute tables), each bucket cut to its day.
-- params: from, to, by, where
-- grain: one row per UTC day x group of the keys in `by` with calls; other key columns are NULL.
SELECT date_trunc('day', c.bucket) AS day,
       g.g_tenant AS tenant, g.g_route AS route, g.g_workflow AS workflow,
       g.g_model AS model, g.g_region AS region,
       sum(requests)::BIGINT AS requests, sum(cost_usd)::DOUBLE AS cost_usd,
       sum(unpriced_requests)::BIGINT AS unpriced_requests
FROM span_counts($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi) c
JOIN key_groups($by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                $f_tenant, $f_route, $f_workflow, $f_model, $f_region) g
  ON g.key_id = c.key_id
GROUP BY ALL
ORDER BY day, tenant, route, workflow, model, region
