-- mark_dirty_days: queue for rewrite the complete days that hold a dirty hour, plus the days
-- that completed since the last run. rollup_1d holds complete days only; queries read
-- the days after $days_until from rollup_1h (analytics/windows.py).
-- Parameters: $old_until, $new_until (TIMESTAMP, midnight): days_until before and after.
-- Grain: day.
INSERT OR IGNORE INTO rollup_dirty
SELECT 'day', d FROM (
    SELECT date_trunc('day', bucket) AS d FROM rollup_dirty WHERE grain = 'hour'
    UNION
    SELECT date_trunc('day', ts) FROM llm_calls WHERE ts >= $old_until AND ts < $new_until
) WHERE d < $new_until;
