-- insert_bins_1d: the day histograms of every dirty day in long form, one row per day x
-- key x metric x bin with its call count, summed from rollup_bins_1m (one pass per metric).
-- Parameters: $lo, $hi (TIMESTAMP, day-aligned): bounds of the dirty days.
-- Grain: day. Runs after the hour rewrite and delete_bins_1d.sql.
INSERT INTO rollup_bins_1d
SELECT bucket, key_id, metric, bin, sum(n) AS n
FROM minute_bins($lo, $hi, 'day')
WHERE bin IS NOT NULL
  AND bucket IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
GROUP BY ALL;
