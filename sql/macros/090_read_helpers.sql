-- read_helpers: the table macros the named read queries share: the tiled count pieces of
-- a range, the key groups of a read, its histogram rows and their percentiles.
-- params: none
-- grain: per macro, stated above each.
-- Reads over [lo, hi) take whole days from the day tables, whole hours from the hour
-- counts and the minute bins summed by hour, and the ragged minutes at either end from
-- the minute tables. analytics/windows.py computes the ten bounds so that they tile the
-- range without overlap; every piece is pruned by its bucket range, and priced when read
-- (priced_counts, sql/macros/085_priced_counts.sql).
CREATE OR REPLACE MACRO span_counts(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi)
AS TABLE
WITH pieces AS (
    SELECT * FROM rollup_counts_1m WHERE bucket >= m1_lo AND bucket < m1_hi
    UNION ALL
    SELECT * FROM rollup_counts_1m WHERE bucket >= m2_lo AND bucket < m2_hi
    UNION ALL
    SELECT * FROM rollup_counts_1h WHERE bucket >= h1_lo AND bucket < h1_hi
    UNION ALL
    SELECT * FROM rollup_counts_1h WHERE bucket >= h2_lo AND bucket < h2_hi
    UNION ALL
    SELECT * FROM rollup_counts_1d WHERE bucket >= d_lo AND bucket < d_hi
)
SELECT * FROM priced_counts(pieces);

-- A grouping key is kept when its by_* flag is set and NULLed otherwise, so read queries
-- group by all five columns and still have static SQL and bound parameters only.
-- A filter list NULL means "no filter on this key". One row per key id that passes the
-- filters, with `gid` numbering its group, so reads join one BIGINT and group by it.
CREATE OR REPLACE MACRO key_ok(wanted, v) AS wanted IS NULL OR list_contains(wanted, v);
CREATE OR REPLACE MACRO key_groups(by_tenant, by_route, by_workflow, by_model, by_region,
                        f_tenant, f_route, f_workflow, f_model, f_region) AS TABLE
SELECT key_id, g_tenant, g_route, g_workflow, g_model, g_region,
       dense_rank() OVER (ORDER BY g_tenant, g_route, g_workflow, g_model, g_region) AS gid
FROM (SELECT key_id,
             CASE WHEN by_tenant THEN tenant END AS g_tenant,
             CASE WHEN by_route THEN route END AS g_route,
             CASE WHEN by_workflow THEN workflow END AS g_workflow,
             CASE WHEN by_model THEN model END AS g_model,
             CASE WHEN by_region THEN region END AS g_region
      FROM rollup_keys
      WHERE key_ok(f_tenant, tenant) AND key_ok(f_route, route) AND key_ok(f_workflow, workflow)
        AND key_ok(f_model, model) AND key_ok(f_region, region));

-- The histogram rows of a read over [lo, hi) per group, as (gid, metric, bin, n) with
-- several rows per bin; `groups` is a key_groups table. Whole days [d_lo, d_hi) (the day
-- piece of analytics/windows.py; [hi, hi) when there is none) come from the day tables and
-- every other minute of the range from rollup_bins_1m, so the pieces tile the range.
-- Unless `by_key` (the read groups or filters by route or workflow), the days come from
-- rollup_tmr_bins_1d: all keys of one tenant, model and region then fall in one group, so
-- merging their summed rows is exact and reads ~9x fewer rows than rollup_bins_1d.
CREATE OR REPLACE MACRO group_bins(groups, by_key, lo, d_lo, d_hi, hi) AS TABLE
WITH m AS (
    SELECT * FROM rollup_bins_1m WHERE bucket >= lo AND bucket < d_lo
    UNION ALL
    SELECT * FROM rollup_bins_1m WHERE bucket >= d_hi AND bucket < hi
), k AS (
    SELECT key_id, 0::UTINYINT AS metric, ttft AS bin, n FROM m
    UNION ALL SELECT key_id, 1::UTINYINT, ttlt, n FROM m
    UNION ALL SELECT key_id, 2::UTINYINT, otps, n FROM m
    UNION ALL SELECT key_id, 3::UTINYINT, prompt_tokens, n FROM m
    UNION ALL SELECT key_id, 4::UTINYINT, output_tokens, n FROM m
    UNION ALL
    SELECT key_id, metric, bin, n FROM rollup_bins_1d
    WHERE bucket >= CASE WHEN by_key THEN d_lo ELSE d_hi END AND bucket < d_hi
)
SELECT g.gid, k.metric, k.bin, k.n FROM k JOIN query_table(groups) g ON g.key_id = k.key_id
UNION ALL
SELECT t.gid, s.metric, s.bin, s.n
FROM rollup_tmr_bins_1d s
JOIN (SELECT DISTINCT rollup_tmr_id(k.tenant, k.model, k.region) AS tmr_id, g.gid
      FROM query_table(groups) g JOIN rollup_keys k ON k.key_id = g.key_id) t ON t.tmr_id = s.tmr_id
WHERE s.bucket >= CASE WHEN by_key THEN d_hi ELSE d_lo END AND s.bucket < d_hi;

-- Percentiles per group (gid of key_groups) from merged histograms: sum counts per bin,
-- find the bins holding the values of rank floor(p*(n-1)) and the next one, and
-- interpolate between them as quantile_cont does, so each estimate stays within 2% of
-- quantile_cont. `bins` is (gid, metric, bin, n) with several rows per bin.
CREATE OR REPLACE MACRO bin_percentiles(bins) AS TABLE
WITH merged AS (
    SELECT gid, metric, bin, sum(n) AS n FROM query_table(bins) WHERE bin IS NOT NULL GROUP BY ALL
), running AS (
    SELECT *, sum(n) OVER (PARTITION BY gid, metric ORDER BY bin ROWS UNBOUNDED PRECEDING) AS c,
              sum(n) OVER (PARTITION BY gid, metric) AS t
    FROM merged
), ranked AS (
    -- one row per percentile (fewer expressions to plan than four copies of each)
    SELECT gid, metric, q.p, q.p * (max(t) - 1) AS r,
           min(bin) FILTER (WHERE c > floor(q.p * (t - 1))) AS bin_lo,
           min(bin) FILTER (WHERE c > floor(q.p * (t - 1)) + 1) AS bin_hi
    FROM running CROSS JOIN (VALUES (0.50), (0.90), (0.95), (0.99)) q(p)
    GROUP BY gid, metric, q.p
), v AS (
    SELECT gid, metric, p, hist_quantile(bin_lo, bin_hi, r) AS v FROM ranked
)
SELECT gid, metric, max(v) FILTER (WHERE p = 0.50) AS p50, max(v) FILTER (WHERE p = 0.90) AS p90,
       max(v) FILTER (WHERE p = 0.95) AS p95, max(v) FILTER (WHERE p = 0.99) AS p99
FROM v GROUP BY gid, metric;
