-- mark_dirty_days: queue for rewrite the complete days that hold a dirty hour, plus the days
-- that completed since the last run. rollup_1d holds complete days only; queries read
-- the days after $days_until from rollup_1h (analytics/windows.py).
-- params: $old_until = days_until before this run, $new_until = days_until after it (TIMESTAMP, midnight)
-- grain: day
INSERT OR IGNORE INTO rollup_dirty
SELECT 'day', d FROM (
    SELECT date_trunc('day', bucket) AS d FROM rollup_dirty WHERE grain = 'hour'
    UNION
    SELECT date_trunc('day', ts) FROM llm_calls WHERE ts >= $old_until AND ts < $new_until
) WHERE d < $new_until;
