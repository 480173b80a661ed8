-- cost_series_calls: cost, requests and unpriced calls per time bucket and group over
-- [from, to), read from llm_calls priced by call_costs (as cost_calls), for groupings and
-- filters the rollups do not keep (prompt_version, feature, user_id); the timeseries
-- query gives the same from the rollups for the other keys. Buckets of $grain: '1m'
-- minutes, '1h' hours, '1d' UTC days. It scans the range's calls.
-- params: from, to, grain, by, where
-- keys: tenant, route, workflow, model, region, prompt_version, feature, user_id
-- grain: one row per bucket x group of the keys in `by` with calls; other key columns are NULL.
SELECT date_trunc(CASE $grain WHEN '1m' THEN 'minute' WHEN '1h' THEN 'hour' ELSE 'day' END, ts) AS bucket,
       CASE WHEN $by_tenant THEN tenant END AS tenant, CASE WHEN $by_route THEN route END AS route,
       CASE WHEN $by_workflow THEN workflow END AS workflow, CASE WHEN $by_model THEN model END AS model,
       CASE WHEN $by_region THEN region END AS region,
       CASE WHEN $by_prompt_version THEN prompt_version END AS prompt_version,
       CASE WHEN $by_feature THEN feature END AS feature,
       CASE WHEN $by_user_id THEN user_id END AS user_id,
       count(*)::BIGINT AS requests, sum(cost_usd)::DOUBLE AS cost_usd,
       count(*) FILTER (WHERE cost_usd IS NULL)::BIGINT AS unpriced_requests
-- whole hours priced together (a Provisioned Throughput hour is shared by its calls),
-- then only the calls of the range
FROM call_costs($hour_lo, $hour_hi)
WHERE ts >= $lo AND ts < $hi
  AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
  AND key_ok($f_model, model) AND key_ok($f_region, region)
  AND key_ok($f_prompt_version, prompt_version) AND key_ok($f_feature, feature)
  AND key_ok($f_user_id, user_id)
GROUP BY ALL
ORDER BY bucket, tenant, route, workflow, model, region, prompt_version, feature, user_id;
