-- insert_peaks_1d: for every dirty day and every grouping of tenant, model and region
-- (eight groupings), the day's largest per-minute requests, tokens and quota tokens of
-- each group (three separate maxima, each possibly from another minute), from the
-- rollup_capacity_1m minutes (each minute summed over the group's keys first).
-- Groups on hashes of the strings (about twice as fast as on the strings) and derives
-- the coarser per-minute sums from the finer ones; names are joined back at the end.
-- Runs after the hour rewrite and delete_peaks_1d.sql.
-- params: $lo = start of the dirty days, $hi = end of the dirty days (TIMESTAMP, day-aligned)
-- grain: day
INSERT INTO rollup_peaks_1d
    (bucket, by_tenant, by_model, by_region, tenant, model, region, peak_rpm, peak_tpm, peak_quota_tpm)
WITH c AS MATERIALIZED (
    SELECT bucket, date_trunc('day', bucket) AS d, hash(tenant) AS t, hash(model) AS m,
           hash(region) AS r, requests, tokens, quota_tokens AS qt
    FROM rollup_capacity_1m
    WHERE bucket >= $lo AND bucket < $hi
      AND date_trunc('day', bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
), tm AS MATERIALIZED (
    SELECT bucket, d, t, m, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM c GROUP BY ALL
), mr AS MATERIALIZED (
    SELECT bucket, d, m, r, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM c GROUP BY ALL
), tr AS (
    SELECT bucket, d, t, r, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM c GROUP BY ALL
), t1 AS (
    SELECT bucket, d, t, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM tm GROUP BY ALL
), m1 AS (
    SELECT bucket, d, m, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM mr GROUP BY ALL
), r1 AS (
    SELECT bucket, d, r, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM mr GROUP BY ALL
), a1 AS (
    SELECT bucket, d, sum(requests) AS requests, sum(tokens) AS tokens, sum(qt) AS qt FROM mr GROUP BY ALL
), p AS (
    SELECT d, true AS by_tenant, true AS by_model, true AS by_region, t, m, r,
           max(requests) AS peak_rpm, max(tokens) AS peak_tpm, max(qt) AS peak_quota_tpm
    FROM c GROUP BY ALL
    UNION ALL SELECT d, true, true, false, t, m, NULL, max(requests), max(tokens), max(qt) FROM tm GROUP BY ALL
    UNION ALL SELECT d, false, true, true, NULL, m, r, max(requests), max(tokens), max(qt) FROM mr GROUP BY ALL
    UNION ALL SELECT d, true, false, true, t, NULL, r, max(requests), max(tokens), max(qt) FROM tr GROUP BY ALL
    UNION ALL SELECT d, true, false, false, t, NULL, NULL, max(requests), max(tokens), max(qt) FROM t1 GROUP BY ALL
    UNION ALL SELECT d, false, true, false, NULL, m, NULL, max(requests), max(tokens), max(qt) FROM m1 GROUP BY ALL
    UNION ALL SELECT d, false, false, true, NULL, NULL, r, max(requests), max(tokens), max(qt) FROM r1 GROUP BY ALL
    UNION ALL SELECT d, false, false, false, NULL, NULL, NULL, max(requests), max(tokens), max(qt) FROM a1 GROUP BY ALL
), names AS (
    SELECT DISTINCT tenant, model, region FROM rollup_keys
)
SELECT p.d, p.by_tenant, p.by_model, p.by_region, tn.tenant, mn.model, rn.region, p.peak_rpm, p.peak_tpm,
       TRY_CAST(p.peak_quota_tpm AS BIGINT)
FROM p
LEFT JOIN (SELECT DISTINCT tenant, hash(tenant) AS h FROM names) tn ON tn.h = p.t
LEFT JOIN (SELECT DISTINCT model, hash(model) AS h FROM names) mn ON mn.h = p.m
LEFT JOIN (SELECT DISTINCT region, hash(region) AS h FROM names) rn ON rn.h = p.r;
