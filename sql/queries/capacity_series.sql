-- capacity_series: per time bucket and group over [from, to), for the capacity charts:
-- requests (rpm), tokens (tpm: input + cache read + cache write + output) and quota tokens
-- (quota_tpm: input + cache write + output x the model's burndown rate; docs/capacity.md)
-- per minute, summed over the group's keys from rollup_capacity_1m. With grain '1m' one row
-- per minute with calls; with '1h' or '1d' each value is the busiest minute of the hour or
-- day (the max of the per-minute sums), so a long range still shows the peaks a quota
-- meets, and the three may come from different minutes; quota_peak_at is the minute of
-- the quota peak (the earliest of equal ones). The capacity rollups keep tenant, model and
-- region only, so `by` and `where` take only those (others are refused).
-- params: from, to, grain, by, where
-- keys: tenant, model, region
-- columns: bucket, tenant, model, region, rpm, tpm, quota_tpm, quota_peak_at
-- grain: one row per bucket of $grain x group of the keys in `by` with calls; key columns not in `by` are NULL.
WITH per_minute AS (
    SELECT date_trunc(CASE $grain WHEN '1m' THEN 'minute' WHEN '1h' THEN 'hour' ELSE 'day' END, bucket) AS slot,
           bucket, CASE WHEN $by_tenant THEN tenant END AS g_tenant,
           CASE WHEN $by_model THEN model END AS g_model,
           CASE WHEN $by_region THEN region END AS g_region,
           -- summed as HUGEINT: many keys' BIGINT counts of one minute can exceed BIGINT together
           sum(requests) AS requests, sum(tokens::HUGEINT) AS tokens, sum(quota_tokens::HUGEINT) AS quota_tokens
    FROM rollup_capacity_1m
    WHERE bucket >= $lo AND bucket < $hi
      AND key_ok($f_tenant, tenant) AND key_ok($f_model, model) AND key_ok($f_region, region)
    GROUP BY ALL
), ranked AS (
    SELECT *, max(quota_tokens) OVER (PARTITION BY slot, g_tenant, g_model, g_region) AS slot_quota
    FROM per_minute
)
SELECT slot AS bucket, g_tenant AS tenant, g_model AS model, g_region AS region,
       max(requests)::BIGINT AS rpm,
       -- NULL, never an error, for a sum that cannot be a real count
       TRY_CAST(max(tokens) AS BIGINT) AS tpm, TRY_CAST(max(quota_tokens) AS BIGINT) AS quota_tpm,
       min(bucket) FILTER (WHERE quota_tokens = slot_quota) AS quota_peak_at
FROM ranked
GROUP BY slot, g_tenant, g_model, g_region
ORDER BY bucket, tenant, model, region;
