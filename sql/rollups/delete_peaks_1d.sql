-- delete_peaks_1d: remove the rollup_peaks_1d rows of every dirty day, before insert_peaks_1d rewrites them
-- in the same transaction (so a run is all-or-nothing and re-running changes nothing).
-- params: $lo = start of the dirty days, $hi = end of the dirty days (TIMESTAMP; for pruning)
-- grain: day
DELETE FROM rollup_peaks_1d
WHERE bucket >= $lo AND bucket < $hi
  AND bucket IN (SELECT bucket FROM rollup_dirty WHERE grain = 'day');
