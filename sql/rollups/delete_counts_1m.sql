-- delete_counts_1m: remove the rollup_counts_1m rows of every dirty hour, before insert_counts_1m rewrites them
-- in the same transaction (so a run is all-or-nothing and re-running changes nothing).
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP; for pruning)
-- grain: hour
DELETE FROM rollup_counts_1m
WHERE bucket >= $lo AND bucket < $hi
  AND date_trunc('hour', bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour');
