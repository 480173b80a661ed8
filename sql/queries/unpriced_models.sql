-- unpriced_models: models whose calls in [from, to) found no price (cost unknown, shown as
-- unpriced, never $0), with the scope they were called in, so a price or override can be
-- added. Reads llm_calls through call_costs, not the rollups, to keep the scope. Calls
-- whose counts are implausible have no cost either, but a price would not help them.
-- params: from, to, where
-- grain: one row per model x scope.
SELECT coalesce(model, 'unknown') AS model, scope, count(*) AS calls,
       count(DISTINCT tenant) AS tenants, min(ts) AS first_seen, max(ts) AS last_seen
FROM call_costs($hour_lo, $hour_hi)
WHERE cost_usd IS NULL AND NOT implausible_tokens AND ts >= $lo AND ts < $hi
  AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
  AND key_ok($f_model, coalesce(model, 'unknown')) AND key_ok($f_region, coalesce(region, 'unknown'))
GROUP BY ALL
ORDER BY calls DESC, model, scope;
