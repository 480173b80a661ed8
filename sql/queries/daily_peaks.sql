-- daily_peaks: per group and UTC day with calls in [from, to): the day's peak-minute
-- requests (peak_rpm), tokens (peak_tpm: input + cache read + cache write + output) and
-- quota tokens (peak_quota_tpm: input + cache write + output x the model's burndown rate;
-- docs/capacity.md), each the max over the day's minutes of the group's summed counts, so
-- the three may come from different minutes. Days wholly inside the range and complete
-- come from the day peaks of the same grouping (rollup_peaks_1d); the partial days at
-- either end, and every day when a filter is on a key not grouped, from the minutes of
-- rollup_capacity_1m inside the range. The capacity rollups keep tenant, model and region
-- only, so `by` and `where` take only those (others are refused).
-- params: from, to, by, where
-- keys: tenant, model, region
-- columns: day, tenant, model, region, peak_rpm, peak_tpm, peak_quota_tpm
-- grain: one row per UTC day x group of the keys in `by`; key columns not in `by` are NULL.
WITH fits AS (
    -- the day peaks answer only when every filtered key is grouped
    SELECT ($f_tenant IS NULL OR $by_tenant) AND ($f_model IS NULL OR $by_model)
           AND ($f_region IS NULL OR $by_region) AS ok
), per_minute AS (
    SELECT date_trunc('day', bucket) AS day, g_tenant, g_model, g_region, bucket,
           sum(requests) AS requests, sum(tokens) AS tokens, sum(quota_tokens) AS quota_tokens
    FROM (SELECT CASE WHEN $by_tenant THEN tenant END AS g_tenant,
                 CASE WHEN $by_model THEN model END AS g_model,
                 CASE WHEN $by_region THEN region END AS g_region, bucket, requests, tokens, quota_tokens
          FROM (SELECT * FROM rollup_capacity_1m
                WHERE bucket >= $lo AND bucket < CASE WHEN (SELECT ok FROM fits) THEN $d_lo ELSE $d_hi END
                UNION ALL
                SELECT * FROM rollup_capacity_1m WHERE bucket >= $d_hi AND bucket < $hi)
          WHERE key_ok($f_tenant, tenant) AND key_ok($f_model, model) AND key_ok($f_region, region))
    GROUP BY ALL
), days AS (
    SELECT bucket AS day, tenant AS g_tenant, model AS g_model, region AS g_region,
           peak_rpm, peak_tpm, peak_quota_tpm
    FROM rollup_peaks_1d
    WHERE (SELECT ok FROM fits)
      AND bucket >= $d_lo AND bucket < $d_hi
      AND by_tenant = $by_tenant AND by_model = $by_model AND by_region = $by_region
      AND key_ok($f_tenant, tenant) AND key_ok($f_model, model) AND key_ok($f_region, region)
    UNION ALL
    SELECT day, g_tenant, g_model, g_region, max(requests), TRY_CAST(max(tokens) AS BIGINT),
           TRY_CAST(max(quota_tokens) AS BIGINT)
    FROM per_minute GROUP BY ALL
)
SELECT day, g_tenant AS tenant, g_model AS model, g_region AS region,
       peak_rpm::BIGINT AS peak_rpm, peak_tpm::BIGINT AS peak_tpm, peak_quota_tpm::BIGINT AS peak_quota_tpm
FROM days
ORDER BY day, tenant, model, region;
