-- drift_cost: per alert group, the priced successful calls and their cost in USD on two
-- sides, `current` [hi - window, hi) and `baseline` (the same clock window on each of the
-- previous baseline_days days, pooled), from the costs drift_fill_costs.sql put in
-- drift_window_costs for the combination. Unpriced calls (cost NULL) are left out of both
-- the count and the sum.
-- params: $combo = the window length and baseline days, $by_tenant, $by_route, $by_workflow, $by_model, $by_region = whether the rule groups by that key
-- grain: one row per group and side with at least one priced successful call.
SELECT
    CASE WHEN $by_tenant THEN c.tenant END AS tenant,
    CASE WHEN $by_route THEN c.route END AS route,
    CASE WHEN $by_workflow THEN c.workflow END AS workflow,
    CASE WHEN $by_model THEN c.model END AS model,
    CASE WHEN $by_region THEN c.region END AS region,
    CASE WHEN k.d = 0 THEN 'current' ELSE 'baseline' END AS side,
    count(*) AS cost_n,
    sum(k.cost_usd) AS cost_sum
FROM drift_window_costs k
JOIN drift_window_calls c ON c.combo = k.combo AND c.d = k.d AND c.call_id = k.call_id
WHERE k.combo = $combo AND k.cost_usd IS NOT NULL
GROUP BY ALL
