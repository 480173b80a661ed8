-- insert_peaks_1d: for every dirty day and every grouping of tenant, model and region
-- (eight grouping sets), the day's largest per-minute requests and tokens of each group,
-- from the rollup_capacity_1m minutes (each summed over the group's keys first).
-- Parameters: $lo, $hi (TIMESTAMP, day-aligned): bounds of the dirty days.
-- Grain: day. Runs after the hour rewrite and delete_peaks_1d.sql.
INSERT INTO rollup_peaks_1d
SELECT date_trunc('day', bucket) AS bucket, by_tenant, by_model, by_region, tenant, model, region,
       max(requests) AS peak_rpm, max(tokens) AS peak_tpm
FROM (SELECT bucket, tenant, model, region,
             grouping(tenant) = 0 AS by_tenant, grouping(model) = 0 AS by_model,
             grouping(region) = 0 AS by_region,
             sum(requests) AS requests, sum(tokens) AS tokens
      FROM rollup_capacity_1m
      WHERE bucket >= $lo AND bucket < $hi
        AND date_trunc('day', bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
      GROUP BY GROUPING SETS ((bucket, tenant, model, region), (bucket, tenant, model),
                              (bucket, tenant, region), (bucket, model, region), (bucket, tenant),
                              (bucket, model), (bucket, region), (bucket)))
GROUP BY ALL;
