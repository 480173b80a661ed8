-- insert_bins_1d: the day histograms of every dirty day in long form, one row per day x
-- key x metric x bin with its call count, summed from rollup_bins_1m: one GROUP BY per
-- metric over the minute rows, each with a fifth of the groups of a single GROUP BY over
-- the five unpivoted metrics (half the time at 10M calls; bench/README.md). Metric numbers
-- as minute_bins (sql/macros/080_hist_maps.sql).
-- Runs after the hour rewrite and delete_bins_1d.sql.
-- params: $lo = start of the dirty days, $hi = end of the dirty days (TIMESTAMP, day-aligned)
-- grain: day
INSERT INTO rollup_bins_1d
WITH days AS (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
SELECT date_trunc('day', bucket) AS bucket, key_id, 0::UTINYINT AS metric, ttft AS bin, sum(n) AS n
FROM rollup_bins_1m
WHERE bucket >= $lo AND bucket < $hi AND ttft IS NOT NULL AND date_trunc('day', bucket) IN (FROM days)
GROUP BY ALL
UNION ALL
SELECT date_trunc('day', bucket), key_id, 1::UTINYINT, ttlt, sum(n)
FROM rollup_bins_1m
WHERE bucket >= $lo AND bucket < $hi AND ttlt IS NOT NULL AND date_trunc('day', bucket) IN (FROM days)
GROUP BY ALL
UNION ALL
SELECT date_trunc('day', bucket), key_id, 2::UTINYINT, otps, sum(n)
FROM rollup_bins_1m
WHERE bucket >= $lo AND bucket < $hi AND otps IS NOT NULL AND date_trunc('day', bucket) IN (FROM days)
GROUP BY ALL
UNION ALL
SELECT date_trunc('day', bucket), key_id, 3::UTINYINT, prompt_tokens, sum(n)
FROM rollup_bins_1m
WHERE bucket >= $lo AND bucket < $hi AND prompt_tokens IS NOT NULL AND date_trunc('day', bucket) IN (FROM days)
GROUP BY ALL
UNION ALL
SELECT date_trunc('day', bucket), key_id, 4::UTINYINT, output_tokens, sum(n)
FROM rollup_bins_1m
WHERE bucket >= $lo AND bucket < $hi AND output_tokens IS NOT NULL AND date_trunc('day', bucket) IN (FROM days)
GROUP BY ALL;
