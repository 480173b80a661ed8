-- dirty_bounds: the first and last queued bucket of one grain, whose range the rewrite
-- statements prune on.
-- params: $1 = the grain ('hour' or 'day')
-- grain: one row (NULLs when nothing of that grain is queued)
SELECT min(bucket), max(bucket) FROM rollup_dirty WHERE grain = ?
