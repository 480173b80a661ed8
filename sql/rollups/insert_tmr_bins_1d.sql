-- insert_tmr_bins_1d: the day histograms of every dirty day summed over route and
-- workflow, one row per day x tenant/model/region x metric x bin, from the rollup_bins_1d
-- rows just written.
-- Runs after insert_bins_1d.sql and delete_tmr_bins_1d.sql.
-- params: $lo = start of the dirty days, $hi = end of the dirty days (TIMESTAMP, day-aligned)
-- grain: day
INSERT INTO rollup_tmr_bins_1d
SELECT b.bucket, k.tmr_id, b.metric, b.bin, sum(b.n) AS n
FROM rollup_bins_1d b
JOIN (SELECT key_id, rollup_tmr_id(tenant, model, region) AS tmr_id FROM rollup_keys) k ON k.key_id = b.key_id
WHERE b.bucket >= $lo AND b.bucket < $hi
  AND b.bucket IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day')
GROUP BY ALL
ORDER BY b.bucket, b.metric;
