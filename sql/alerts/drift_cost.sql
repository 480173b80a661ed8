-- drift_cost: per alert group, the priced successful calls and their cost in USD on two
-- sides, `current` [hi - window, hi) and `baseline` (the same clock window on each of the
-- previous baseline_days days, pooled), priced by call_costs as the rollups price them.
-- Whole hours from hour_lo are priced together, since a Provisioned Throughput hour is
-- shared among the calls it served, but nothing from hi on: the hour of hi is shared among
-- the calls before hi, as an evaluation at hi saw it. Only calls inside the windows count.
-- Unpriced calls (cost NULL) are left out of both the count and the sum.
-- params: $hour_lo = the hour holding the oldest baseline window's start, $hi = evaluation time, $window_minutes = window length, $baseline_days = days in the baseline, $by_tenant, $by_route, $by_workflow, $by_model, $by_region = whether the rule groups by that key
-- grain: one row per group and side with at least one priced successful call.
WITH w AS (
    SELECT d, $hi - to_days(d::INTEGER) - to_minutes($window_minutes::BIGINT) AS lo,
           $hi - to_days(d::INTEGER) AS hi
    FROM range(0, $baseline_days + 1) t(d)
)
SELECT
    CASE WHEN $by_tenant THEN tenant END AS tenant,
    CASE WHEN $by_route THEN route END AS route,
    CASE WHEN $by_workflow THEN workflow END AS workflow,
    CASE WHEN $by_model THEN model END AS model,
    CASE WHEN $by_region THEN region END AS region,
    CASE WHEN w.d = 0 THEN 'current' ELSE 'baseline' END AS side,
    count(*) AS cost_n,
    sum(c.cost_usd) AS cost_sum
FROM call_costs($hour_lo, $hi) c JOIN w ON c.ts >= w.lo AND c.ts < w.hi
WHERE c.status = 'ok' AND c.cost_usd IS NOT NULL
  -- the window test on ts alone, pushed down to the scan of the calls to price
  AND clock_window(c.ts, $hi, $window_minutes)
GROUP BY ALL
