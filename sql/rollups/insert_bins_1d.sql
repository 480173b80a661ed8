-- insert_bins_1d: the day histograms of every dirty day in long form, one row per day x
-- key x metric x bin with its call count, summed from rollup_bins_1m (one pass per metric).
-- Runs after the hour rewrite and delete_bins_1d.sql.
-- params: $lo = start of the dirty days, $hi = end of the dirty days (TIMESTAMP, day-aligned)
-- grain: day
INSERT INTO rollup_bins_1d
SELECT bucket, key_id, metric, bin, sum(n) AS n
FROM minute_bins($lo, $hi, 'day')
WHERE bin IS NOT NULL
  AND bucket IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
GROUP BY ALL;
